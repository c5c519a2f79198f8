"""``clockwork update "INTENT"``: evolve the declarations (and a kept stack) from an intent.

The modules, in the order an update goes through them:

- :mod:`.changes`: the change set a model proposes (field changes, new resources,
  removals, assertions), and the built-in types it may use.
- :mod:`.context`: what the model is shown: the declarations, the pinned completions of
  ``clockwork.lock``, the stack's kept records and what the engine observes now.
- :mod:`.agent`: the model call (pydantic-ai, imported only then), with the completion's
  settings, retries and endpoint errors.
- :mod:`.evolve`: the change set applied to the declarations in memory, every value
  validated by the resource models and the completion's safety policy.
- :mod:`.literals`, :mod:`.source` and :mod:`.edits`: the change as edits of the
  ``conftest.py`` sources (the user's formatting and comments kept), or as code to add
  by hand where a declaration cannot be edited safely.
- :mod:`.verify`: deploying the change onto the kept stack and running the assertions.
- :mod:`.command`: the command itself (review, ``--write``, ``--apply``), called by
  ``clockwork update``.
"""
