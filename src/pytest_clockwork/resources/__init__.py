"""The resource models users declare in their conftest files."""
