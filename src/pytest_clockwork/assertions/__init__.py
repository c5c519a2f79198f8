"""Assertions: checks of deployed resources, collected as test items."""
