"""``clockwork update "INTENT"``: evolve the declarations (and a kept stack) from an intent.

The modules, in the order an update goes through them:

- :mod:`.changes`: the change set a model proposes (field changes, new resources,
  removals, assertions), and the built-in types it may use.
- :mod:`.context`: what the model is shown: the declarations, the pinned completions of
  ``clockwork.lock``, the stack's records and what the engine observes now.
- :mod:`.evolve`: the change set applied to the declarations in memory, every value
  validated by the resource models and the completion's safety policy.
- :mod:`.pins`: the completions of ``clockwork.lock`` carried over to the changed
  declarations.
- :mod:`.prompt` and :mod:`.agent`: the model call (pydantic-ai, imported only then).
- :mod:`.literals`, :mod:`.source` and :mod:`.edits`: the change as edits of the
  ``conftest.py`` sources (the user's formatting and comments kept), or as code to add
  by hand where a declaration cannot be edited safely.
- :mod:`.writer`: writing the edits (refused when a file changed since it was read) and
  recording the update in ``clockwork.lock``.
- :mod:`.verify`: deploying the change onto the kept stack and running the assertions.
- :mod:`.command`: the command itself, called by ``clockwork update``.
"""
