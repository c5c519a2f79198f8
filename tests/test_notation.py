"""The notations users type: ports, volumes, modes, durations."""

from __future__ import annotations

import pytest

from pytest_clockwork.notation import (
    PortMapping,
    check_filename,
    check_name,
    parse_duration,
    parse_mode,
    parse_port,
    parse_volume,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("80", PortMapping(80)),
        ("8080:80", PortMapping(80, host_port=8080)),
        ("127.0.0.1:8080:80", PortMapping(80, host_port=8080, host_ip="127.0.0.1")),
        ("127.0.0.1::80", PortMapping(80, host_ip="127.0.0.1")),
        ("53/udp", PortMapping(53, "udp")),
        ("5353:53/udp", PortMapping(53, "udp", host_port=5353)),
    ],
)
def test_ports(text: str, expected: PortMapping) -> None:
    assert parse_port(text) == expected
    assert parse_port(text).pinned == (expected.host_port is not None)


@pytest.mark.parametrize("text", ["notaport", "0", "70000", "80/icmp", "a:b:c:d", "x.y:1:80", ""])
def test_bad_ports_say_what_is_expected(text: str) -> None:
    with pytest.raises(ValueError, match="invalid port") as info:
        parse_port(text)
    assert repr(text) in str(info.value)


def test_volumes() -> None:
    assert parse_volume("./data:/data").is_bind
    assert parse_volume("/abs:/data:ro").read_only
    named = parse_volume("pgdata:/var/lib/postgresql/data")
    assert not named.is_bind and named.source == "pgdata"
    for bad in ("nocolon", "./a:relative", "./a:/b:rx", "bad name:/x"):
        with pytest.raises(ValueError, match="invalid volume"):
            parse_volume(bad)


def test_modes_are_octal_strings() -> None:
    assert parse_mode("644") == 0o644
    assert parse_mode("0755") == 0o755
    assert parse_mode("0o600") == 0o600
    for bad in ("999", "rw-r--r--", "", "12345"):
        with pytest.raises(ValueError, match="invalid file mode"):
            parse_mode(bad)


def test_durations() -> None:
    assert parse_duration("90s") == 90
    assert parse_duration("2h") == 7200
    assert parse_duration("1h30m") == 5400
    assert parse_duration(5) == 5
    assert parse_duration("2.5") == 2.5
    for bad in ("soon", "-1", "0", "2x"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)


def test_names() -> None:
    assert check_name("web-1.a_b") == "web-1.a_b"
    with pytest.raises(ValueError, match="invalid name"):
        check_name("-web")
    assert check_filename("notes.txt") == "notes.txt"
    with pytest.raises(ValueError, match="plain name"):
        check_filename("dir/notes.txt")
