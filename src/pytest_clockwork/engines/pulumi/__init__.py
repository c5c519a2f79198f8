"""The Pulumi engine: deploys through a Pulumi stack with the Automation API.

Modules, from the specs to the CLI:

- :mod:`.args`: spec → Pulumi arguments (plain functions, no Pulumi import);
- :mod:`.files`: dynamic resources for files and directories;
- :mod:`.program`: the inline program that declares the resources and exports outputs;
- :mod:`.entries`: what the program holds (the stack's live records + the new tasks);
- :mod:`.automation`: the stack's configuration and the Automation API calls;
- :mod:`.engine`: :class:`~.engine.PulumiEngine`.

Nothing here is imported unless the Pulumi engine is chosen.
"""
