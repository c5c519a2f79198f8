"""The keys of a Compose file that clockwork understands, and what it says of the others.

Every key is either understood, an extension (``x-...``, ignored), or an error: a key
Compose has that clockwork does not map is named as such (with what to do instead when
there is something), and any other key is taken for a misspelling of the closest
understood one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from pytest_clockwork.compose.errors import ComposeFileError

TOP_LEVEL = ("services", "volumes", "networks", "name", "version")
SERVICE = (
    "image",
    "build",
    "ports",
    "expose",
    "environment",
    "env_file",
    "command",
    "entrypoint",
    "volumes",
    "depends_on",
    "healthcheck",
    "networks",
    "working_dir",
    "user",
    "restart",
    "tmpfs",
    "cap_add",
    "cap_drop",
    "extra_hosts",
    "mem_limit",
    "shm_size",
    "init",
    "labels",
    "privileged",
    "cpus",
    "platform",
    "pull_policy",
)
BUILD = ("context", "dockerfile", "target", "args")
HEALTHCHECK = ("test", "interval", "timeout", "retries", "start_period", "disable")
PORT = ("target", "published", "host_ip", "protocol", "mode", "name", "app_protocol")
VOLUME_MOUNT = ("type", "source", "target", "read_only")
DEPENDENCY = ("condition", "required")
TOP_NETWORK = ("name", "external", "driver")
TOP_VOLUME = ("name", "external", "driver")
ENV_FILE = ("path", "required")

_INSTEAD: dict[str, str] = {
    "container_name": (
        "clockwork names each container for its session (so sessions never clash), and "
        "the other services reach it by its service name: remove container_name"
    ),
    "hostname": "the other services reach it by its service name: remove hostname",
    "links": (
        "services on a network reach each other by their service names: remove links, and "
        "use depends_on for the order"
    ),
    "profiles": "take a subset with ComposeResource(services=[...]) instead",
    "extends": "write the service out (YAML anchors and merge keys, <<: *x, work)",
    "deploy": "set mem_limit (and cpus) on the service instead",
    "network_mode": "use networks: instead",
    "start_interval": "Docker 20.10 has no start interval: use interval (and start_period)",
    "include": "declare one ComposeResource per file",
}
"""What to do instead of keys Compose has and clockwork does not map."""

COMPOSE_ONLY = frozenset(
    {
        *_INSTEAD,
        "annotations",
        "attach",
        "blkio_config",
        "cgroup",
        "cgroup_parent",
        "configs",
        "cpu_count",
        "cpu_percent",
        "cpu_period",
        "cpu_quota",
        "cpu_rt_period",
        "cpu_rt_runtime",
        "cpu_shares",
        "cpuset",
        "credential_spec",
        "develop",
        "device_cgroup_rules",
        "devices",
        "dns",
        "dns_opt",
        "dns_search",
        "domainname",
        "driver_opts",
        "external_links",
        "gpus",
        "group_add",
        "internal",
        "enable_ipv6",
        "attachable",
        "ipam",
        "ipc",
        "isolation",
        "label_file",
        "logging",
        "mac_address",
        "mem_reservation",
        "mem_swappiness",
        "memswap_limit",
        "oom_kill_disable",
        "oom_score_adj",
        "pid",
        "pids_limit",
        "post_start",
        "pre_stop",
        "read_only",
        "runtime",
        "scale",
        "secrets",
        "security_opt",
        "stdin_open",
        "stop_grace_period",
        "stop_signal",
        "storage_opt",
        "sysctls",
        "tty",
        "ulimits",
        "userns_mode",
        "uts",
        "volumes_from",
        "aliases",
        "ipv4_address",
        "ipv6_address",
        "link_local_ips",
        "priority",
        "cache_from",
        "cache_to",
        "dockerfile_inline",
        "additional_contexts",
        "extra_hosts",
        "network",
        "no_cache",
        "pull",
        "shm_size",
        "ssh",
        "tags",
        "platforms",
        "bind",
        "volume",
        "tmpfs",
        "consistency",
        "restart",
        "labels",
    }
)
"""Keys Compose has somewhere (services, build, networks...): outside the sets clockwork
understands at that place they are "not supported", not misspellings."""


def check_keys(
    given: Iterable[object],
    known: Iterable[str],
    *,
    where: str,
    line_of: dict[object, int] | None = None,
    shown: str,
) -> None:
    """Refuse any key of ``given`` that is not ``known`` (``x-...`` keys are ignored).

    Args:
        given: The keys found.
        known: The keys understood here.
        where: What holds them, for the message (``service 'web'``).
        line_of: The line of each key.
        shown: The file, as messages show it.

    Raises:
        ComposeFileError: Naming the key, where it is, and what to write instead.
    """
    known = tuple(known)
    supported = ", ".join(known) or "none"
    for key in given:
        if isinstance(key, str) and (key in known or key.startswith("x-")):
            continue
        line = (line_of or {}).get(key)
        place = f"{shown}, line {line}" if line else shown
        prefix = f"{place}: {where}: " if where else f"{place}: "
        text = str(key)
        if text in COMPOSE_ONLY:
            instead = _INSTEAD.get(text, "remove it")
            raise ComposeFileError(
                f"{prefix}the key {text!r} is not supported by clockwork; {instead} "
                f"(supported here: {supported})"
            )
        close = difflib.get_close_matches(text, known, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"supported here: {supported}"
        raise ComposeFileError(f"{prefix}unknown key {text!r}: {hint}")
