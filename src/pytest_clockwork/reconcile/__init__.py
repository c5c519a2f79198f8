"""Kept environments that look after themselves: the ``clockwork`` command.

``clockwork status`` shows every stack's resources, their health and expiry;
``clockwork watch`` evaluates the kept resources of a stack every interval, corrects
drift (``on_drift="auto_correct"``) within safety limits, destroys what expired and
sends alerts; ``clockwork destroy`` removes what a stack has. See ``docs/reconcile.md``.

Modules, one concern each: :mod:`.drift` (what differs, pure functions),
:mod:`.evaluate` (observe a record), :mod:`.safety` (rate limit, cooldown, failures),
:mod:`.alerts` (log and webhook), :mod:`.corrections` (start, recreate, update the
record), :mod:`.loader` (declarations through pytest's collection),
:mod:`.reconciler` (the loop), :mod:`.status` (the table) and :mod:`.cli`.
"""
