"""Properties of the notation parsers, checked with generated inputs (hypothesis).

The example-based tests are in ``test_notation.py``; these state what must hold for
*every* input: which exceptions a parser may raise, what its messages show, which
texts it accepts, and that formatting and parsing are inverse.
The ``@example``s pin inputs that once broke a parser (non-ASCII digits, IPv6 hosts, a
trailing newline, huge numbers, unknown users after ``~``).
"""

from __future__ import annotations

import contextlib
import ipaddress
import math
import os.path
import re
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from pytest_clockwork.notation import (
    MAX_DURATION,
    PortMapping,
    VolumeMount,
    check_filename,
    check_name,
    format_mode,
    parse_duration,
    parse_mode,
    parse_port,
    parse_volume,
    resolve_path,
)

# Parsers are pure and fast: many examples cost little, and no deadline keeps a loaded
# CI worker (pytest -n 2) from flaking.
fast = settings(max_examples=200, deadline=None)

ROOT = Path("/srv/project")
DOCKER_NAME = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9_.-]*")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
PROTOCOLS = ("tcp", "udp", "sctp")
NO_SUCH_USER = "~clockwork-no-such-user/data"

# Inputs that broke, or could break, one parser or another; every arbitrary-text
# property tries them on every parser.
AWKWARD = [
    "",
    " ",
    "\x00",
    "\ud800",
    "\n",
    "web\n",
    "1:²",
    "٨٠",
    "0" * 4301 + "80",
    "[::1]:8080:80",
    "nan",
    "inf",
    "-inf",
    "1e999",
    "-0",
    "1" + "0" * 400 + "s",
    "0o",
    "~",
    NO_SUCH_USER,
    "~\x00",
    "~\ud800",
    "./~/data",
]

text_parsers: dict[str, Callable[[str], Any]] = {
    "parse_port": parse_port,
    "parse_volume": parse_volume,
    "parse_mode": parse_mode,
    "check_name": check_name,
    "check_network_name": partial(check_name, what="network name"),
    "check_filename": check_filename,
    "parse_duration": parse_duration,
    "parse_duration_allow_zero": partial(parse_duration, allow_zero=True),
    "resolve_path": partial(resolve_path, rootdir=ROOT),
}


def _parser_params() -> list[Any]:
    return [pytest.param(parser, id=name) for name, parser in text_parsers.items()]


def _with_awkward_examples(test: Callable[..., None]) -> Callable[..., None]:
    for text in AWKWARD:
        test = example(text=text)(test)
    return test


# --- every parser, arbitrary text ------------------------------------------------------

any_text = st.one_of(
    st.text(),
    st.text(alphabet=st.characters(categories=["Cc", "Cs", "Zs", "Nd", "No"])),
    st.text(alphabet="0123456789:/.~-_ \n[]aforstudpwhm"),
)


@pytest.mark.parametrize(
    "parser",
    _parser_params(),
)
@fast
@given(text=any_text)
@_with_awkward_examples
def test_arbitrary_text_gives_a_value_or_a_value_error(
    parser: Callable[[str], Any], text: str
) -> None:
    with contextlib.suppress(ValueError):
        parser(text)


@pytest.mark.parametrize(
    "parser",
    _parser_params(),
)
@fast
@given(text=any_text)
@_with_awkward_examples
def test_value_errors_quote_the_input(parser: Callable[[str], Any], text: str) -> None:
    try:
        parser(text)
    except ValueError as error:
        assert repr(text) in str(error)


# --- parse_port ----------------------------------------------------------------------

port_numbers = st.integers(1, 65535)
portish_text = st.one_of(
    st.text(),
    st.text(alphabet="0123456789:/.[] \ntcpuds", max_size=24),
)


def _port_text(
    container: int, host_port: int | None, host_ip: str | None, protocol: str | None
) -> str:
    text = str(container)
    if host_ip is not None:
        shown_ip = f"[{host_ip}]" if ":" in host_ip else host_ip
        text = f"{shown_ip}:{'' if host_port is None else host_port}:{text}"
    elif host_port is not None:
        text = f"{host_port}:{text}"
    return text if protocol is None else f"{text}/{protocol}"


def _format_port(mapping: PortMapping) -> str:
    return _port_text(mapping.container_port, mapping.host_port, mapping.host_ip, mapping.protocol)


@st.composite
def port_specs(draw: st.DrawFn, host_ips: st.SearchStrategy[str]) -> tuple[str, PortMapping]:
    container = draw(port_numbers)
    host_port = draw(st.none() | port_numbers)
    host_ip = draw(st.none() | host_ips)
    protocol = draw(st.none() | st.sampled_from(PROTOCOLS))
    expected = PortMapping(container, protocol or "tcp", host_port, host_ip)  # type: ignore[arg-type]
    return _port_text(container, host_port, host_ip, protocol), expected


@fast
@given(spec=port_specs(st.ip_addresses(v=4).map(str)))
def test_port_specs_round_trip(spec: tuple[str, PortMapping]) -> None:
    text, expected = spec
    mapping = parse_port(text)
    assert mapping == expected
    assert mapping.key == f"{expected.container_port}/{expected.protocol}"
    assert mapping.pinned == (expected.host_port is not None)
    assert parse_port(f" {text}\n") == expected


@fast
@given(spec=port_specs(st.ip_addresses(v=6).map(str)))
@example(spec=("[::1]:8080:80", PortMapping(80, "tcp", 8080, "::1")))
def test_port_specs_with_ipv6_host_round_trip(spec: tuple[str, PortMapping]) -> None:
    text, expected = spec
    assert parse_port(text) == expected


@fast
@given(text=portish_text)
@example(text="65535")
@example(text="65536")
@example(text="0")
@example(text="1.2.3.4::1/sctp")
def test_accepted_ports_are_in_range_and_reformat_to_the_same_mapping(text: str) -> None:
    try:
        mapping = parse_port(text)
    except ValueError:
        return
    assert 1 <= mapping.container_port <= 65535
    assert mapping.host_port is None or 1 <= mapping.host_port <= 65535
    assert mapping.protocol in PROTOCOLS
    if mapping.host_ip is not None:
        ipaddress.ip_address(mapping.host_ip)
    assert parse_port(_format_port(mapping)) == mapping


@fast
@given(text=portish_text)
@example(text="٨٠")
def test_only_ascii_port_specs_are_accepted(text: str) -> None:
    try:
        parse_port(text)
    except ValueError:
        return
    assert text.strip().isascii()


# --- parse_volume --------------------------------------------------------------------

no_colon = st.text().filter(lambda text: ":" not in text and "\0" not in text)
docker_names = st.from_regex(DOCKER_NAME, fullmatch=True)
volume_names = docker_names.filter(lambda name: len(name) >= 2)  # Docker's rule: 2 or more


@st.composite
def volume_specs(draw: st.DrawFn) -> tuple[str, VolumeMount]:
    if draw(st.booleans()):
        source = draw(st.sampled_from(["/", "./", "../", "~/", "~", "."])) + draw(no_colon)
    else:
        source = draw(volume_names)
    target = "/" + draw(no_colon)
    mode = draw(st.sampled_from([None, "ro", "rw"]))
    text = f"{source}:{target}" + ("" if mode is None else f":{mode}")
    return text, VolumeMount(source, target, read_only=mode == "ro")


@fast
@given(spec=volume_specs())
def test_volume_specs_round_trip(spec: tuple[str, VolumeMount]) -> None:
    text, expected = spec
    mount = parse_volume(text)
    assert mount == expected
    assert mount.is_bind == expected.source.startswith(("/", ".", "~"))


volumeish_text = st.one_of(
    st.text(),
    st.text(alphabet="ab0._-~/:ro w\n\x00", max_size=16),
)


@fast
@given(text=volumeish_text)
@example(text="./a:/b:ro")
def test_accepted_volumes_reformat_to_the_same_mount(text: str) -> None:
    try:
        mount = parse_volume(text)
    except ValueError:
        return
    assert mount.source and ":" not in mount.source
    assert mount.target.startswith("/") and ":" not in mount.target
    again = f"{mount.source}:{mount.target}" + (":ro" if mount.read_only else "")
    assert parse_volume(again) == mount


@fast
@given(text=volumeish_text)
@example(text="data\n:/x")
def test_named_volumes_must_be_docker_names(text: str) -> None:
    try:
        mount = parse_volume(text)
    except ValueError:
        return
    assert mount.is_bind or DOCKER_NAME.fullmatch(mount.source)


# --- parse_mode / format_mode ---------------------------------------------------------


@fast
@given(mode=st.integers(0, 0o7777))
@example(mode=0)
@example(mode=0o7777)
def test_format_then_parse_mode_is_identity(mode: int) -> None:
    text = format_mode(mode)
    assert re.fullmatch(r"[0-7]{4}", text)
    assert parse_mode(text) == mode


@fast
@given(
    prefix=st.sampled_from(["", "0o", "0O"]),
    digits=st.text(alphabet="01234567", min_size=1, max_size=4),
)
def test_parse_then_format_mode_is_canonical(prefix: str, digits: str) -> None:
    mode = parse_mode(prefix + digits)
    assert mode == int(digits, 8)
    assert format_mode(mode) == digits.zfill(4)


@fast
@given(text=st.one_of(st.text(), st.text(alphabet="0123456789oOx ", max_size=7)))
@example(text="0o")
@example(text="0o0o7")
@example(text="07777")
@example(text="644\n")
def test_parse_mode_accepts_exactly_short_octal_strings(text: str) -> None:
    valid = re.fullmatch(r"(?:0[oO])?[0-7]{1,4}", text) is not None
    try:
        mode = parse_mode(text)
    except ValueError:
        assert not valid
    else:
        assert valid
        assert 0 <= mode <= 0o7777


# --- check_name / check_filename -----------------------------------------------------


@fast
@given(name=docker_names)
def test_docker_names_are_accepted_unchanged(name: str) -> None:
    assert check_name(name) == name
    assert check_name(name, "network name") == name


@fast
@given(text=st.one_of(st.text(), st.text(alphabet="aZ09_.- \n", max_size=8)))
@example(text="web\n")
def test_check_name_accepts_exactly_docker_names(text: str) -> None:
    valid = DOCKER_NAME.fullmatch(text) is not None
    try:
        check_name(text)
    except ValueError:
        assert not valid
    else:
        assert valid


@fast
@given(text=st.text())
@example(text="")
@example(text=".")
@example(text="..")
@example(text="...")
@example(text="a/b")
@example(text="a\\b")
@example(text="a\x00b")
@example(text="n" * 256)
@example(text="é" * 128)
def test_check_filename_refuses_exactly_paths_empty_and_too_long_names(text: str) -> None:
    refused = (
        text in ("", ".", "..")
        or any(char in text for char in "/\\\x00")
        or len(text.encode(errors="surrogatepass")) > 255  # what file systems take
    )
    try:
        result = check_filename(text)
    except ValueError as error:
        assert refused
        assert repr(text) in str(error)
    else:
        assert not refused
        assert result == text


@fast
@given(text=st.text(alphabet="./\\\x00ab", max_size=4))
def test_check_filename_never_accepts_a_path(text: str) -> None:
    try:
        check_filename(text)
    except ValueError:
        return
    assert text not in ("", ".", "..")
    assert not {"/", "\\", "\x00"} & set(text)


# --- parse_duration --------------------------------------------------------------------

durationish_text = st.one_of(
    st.text(),
    st.text(alphabet="0123456789.smhdwSMHDW nainfINFe-+_٣", max_size=16),
)
DURATION_EDGES = [
    "nan",
    "NaN",
    "inf",
    "-inf",
    "infinity",
    "1e999",
    "1e-400",
    "-0",
    "-1s",
    "0",
    "0s",
    "0.0h",
    "9" * 400,
    "1" + "0" * 400 + "s",
    "1" + "0" * 305 + "w",
    "36500d",
    "36500d1s",
    "١٠s",
]


def _with_duration_edges(test: Callable[..., None]) -> Callable[..., None]:
    for text in DURATION_EDGES:
        test = example(text=text)(test)
    return test


@fast
@given(text=durationish_text)
@_with_duration_edges
def test_durations_are_finite_positive_and_bounded(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except ValueError as error:
        assert repr(text) in str(error)
    else:
        assert math.isfinite(seconds)
        assert 0 < seconds <= MAX_DURATION


@fast
@given(text=durationish_text)
@_with_duration_edges
def test_durations_allowing_zero_are_finite_and_not_negative(text: str) -> None:
    try:
        seconds = parse_duration(text, allow_zero=True)
    except ValueError as error:
        assert repr(text) in str(error)
    else:
        assert math.isfinite(seconds)
        assert 0 <= seconds <= MAX_DURATION
        if seconds > 0:
            assert parse_duration(text) == seconds


duration_values = st.one_of(
    st.integers(0, 100).map(str),
    st.integers(0, 10**6).map(str),
    st.builds(
        "{}.{}".format,
        st.integers(0, 1000),
        st.text(alphabet="0123456789", min_size=1, max_size=3),
    ),
)


@fast
@given(
    parts=st.lists(
        st.tuples(duration_values, st.sampled_from("smhdwSMHDW"), st.sampled_from(["", " "])),
        min_size=1,
        max_size=5,
    ),
    separator=st.sampled_from(["", " "]),
    padding=st.sampled_from(["", " ", "\t", "\n"]),
)
@example(parts=[("1", "h", ""), ("30", "m", "")], separator="", padding="")
@example(parts=[("36500", "d", "")], separator="", padding="")
@example(parts=[("36500", "d", ""), ("1", "s", "")], separator="", padding="")
@example(parts=[("0", "s", "")], separator="", padding="")
def test_unit_durations_are_the_sum_of_their_parts(
    parts: list[tuple[str, str, str]], separator: str, padding: str
) -> None:
    text = padding + separator.join(value + space + unit for value, unit, space in parts) + padding
    total = 0.0
    for value, unit, _ in parts:
        total += float(value) * UNITS[unit.lower()]
    if 0 < total <= MAX_DURATION:
        assert parse_duration(text) == total
        assert parse_duration(text, allow_zero=True) == total
    elif total == 0:
        assert parse_duration(text, allow_zero=True) == 0
        with pytest.raises(ValueError, match="positive"):
            parse_duration(text)
    else:
        with pytest.raises(ValueError, match="100 years"):
            parse_duration(text)


@fast
@given(
    whole=st.integers(0, 10**10),
    fraction=st.none() | st.text(alphabet="0123456789", max_size=6),
)
@example(whole=3153600000, fraction=None)
@example(whole=3153600000, fraction="0001")
def test_plain_numbers_are_seconds(whole: int, fraction: str | None) -> None:
    text = str(whole) if fraction is None else f"{whole}.{fraction}"
    seconds = float(text)
    if 0 < seconds <= MAX_DURATION:
        assert parse_duration(text) == seconds
    else:
        with pytest.raises(ValueError, match=re.escape(repr(text))):
            parse_duration(text)


@fast
@given(
    number=st.one_of(
        st.floats(),
        st.integers(-(2**80), 2**80),
        st.integers(-(10**12), 10**12),
    )
)
@example(number=float("nan"))
@example(number=float("inf"))
@example(number=-0.0)
@example(number=5e-324)
@example(number=MAX_DURATION)
@example(number=math.nextafter(MAX_DURATION, math.inf))
def test_numbers_are_seconds(number: float) -> None:
    if math.isfinite(number) and 0 < number <= MAX_DURATION:
        assert parse_duration(number) == number
    else:
        with pytest.raises(ValueError) as info:
            parse_duration(number)
        assert repr(number) in str(info.value)


def test_long_digit_runs_are_parsed_in_linear_time() -> None:
    text = "1" * 4000  # a linear parser needs well under a millisecond
    start = time.perf_counter()
    with contextlib.suppress(ValueError):
        parse_duration(text)
    assert time.perf_counter() - start < 0.1


@pytest.mark.parametrize("value", [True, False, None, b"5", [5]])
def test_non_numbers_are_refused(value: Any) -> None:
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(value)


@fast
@given(number=st.integers(min_value=2**1024) | st.integers(max_value=-(2**1024)))
@example(number=10**400)
def test_huge_integers_are_refused_with_a_value_error(number: int) -> None:
    with pytest.raises(ValueError):
        parse_duration(number)


# --- resolve_path ----------------------------------------------------------------------


def _expands_home(text: str) -> bool:
    """Whether pathlib sees a first component starting with '~' (it drops a leading './')."""
    return str(Path(text)).startswith("~")


no_nul = st.text().filter(lambda text: "\0" not in text)  # NUL: refused, as any text test shows
not_home = no_nul.filter(lambda text: not _expands_home(text))
rootdirs = st.sampled_from([ROOT, Path("/"), Path("/tmp/a b/ç"), Path("/srv/project/..")])


def _is_normal_absolute(path: Path) -> bool:
    return path.is_absolute() and str(path) == os.path.normpath(path)


@fast
@given(text=not_home, rootdir=rootdirs)
@example(text="", rootdir=ROOT)
@example(text="../../../..", rootdir=ROOT)
@example(text="//x/./y/..", rootdir=ROOT)
def test_resolved_paths_are_absolute_normal_and_stable(text: str, rootdir: Path) -> None:
    resolved = resolve_path(text, rootdir)
    assert _is_normal_absolute(resolved)
    assert resolve_path(Path(text), rootdir) == resolved
    assert resolve_path(resolved, Path("/elsewhere")) == resolved


@fast
@given(text=not_home.map(lambda text: "/" + text))
def test_absolute_paths_ignore_the_rootdir(text: str) -> None:
    assert resolve_path(text, ROOT) == resolve_path(text, Path("/elsewhere"))
    assert resolve_path(text, ROOT) == Path(os.path.normpath(text))


relative_components = st.lists(
    no_nul.filter(lambda part: part and "/" not in part and part != ".."),
    max_size=5,
)


@fast
@given(components=relative_components)
def test_relative_paths_without_dotdot_stay_under_the_rootdir(components: list[str]) -> None:
    kept = [part for part in components if part != "."]
    assume(not (kept and kept[0].startswith("~")))
    resolved = resolve_path("/".join(components), ROOT)
    assert resolved == ROOT.joinpath(*kept)


@fast
@given(components=relative_components)
@example(components=["~", "data"])
def test_dot_slash_paths_stay_under_the_rootdir(components: list[str]) -> None:
    resolved = resolve_path("./" + "/".join(components), ROOT)
    assert resolved == ROOT.joinpath(*(part for part in components if part != "."))


@fast
@given(rest=st.none() | not_home.filter(lambda text: not text.startswith("/")))
@example(rest=None)
@example(rest="..")
def test_tilde_is_the_home_directory(rest: str | None) -> None:
    home = Path(os.path.expanduser("~"))
    text = "~" if rest is None else f"~/{rest}"
    expected = home if rest is None else home / rest
    assert resolve_path(text, ROOT) == Path(os.path.normpath(expected))
