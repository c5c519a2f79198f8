"""AI completion of declarations, pinned in ``clockwork.lock``.

The modules, in the order a completion goes through them:

- :mod:`.order`: which resources a completion needs first (parent, connections).
- :mod:`.request`: what one completion sees, and its fingerprint.
- :mod:`.lockfile`: ``clockwork.lock``, read and written atomically under a file lock.
- :mod:`.output`: the structured output, with only the fields left to complete.
- :mod:`.prompt`: the instructions and the prompt.
- :mod:`.rebuild`: the completed resource, validated by its own class.
- :mod:`.policy`: the safety rules every proposed value must pass.
- :mod:`.agent`: the pydantic-ai model call (imported only when a model is asked).
- :mod:`.resolver`: completes resources in dependency order, from the lock or a model.
- :mod:`.notes`: what ``--clockwork-plan`` shows of each completion.
- :mod:`.service`: the entry point the deployment calls (``complete_resources``).
"""
