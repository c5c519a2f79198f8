"""Compose files, read into :class:`~pytest_clockwork.DockerResource` declarations.

:mod:`.yamlfile` reads the YAML (as Compose does: YAML 1.2 scalars, duplicate keys
refused, line numbers kept for errors), :mod:`.interpolation` substitutes ``${VAR}`` from
the environment and a ``.env`` file, :mod:`.keys` says which keys are understood, and
:mod:`.project` turns each service into the keyword arguments of a ``DockerResource``:
the one mapping from Compose to clockwork. Everything here imports PyYAML lazily and
knows no engine.
"""
