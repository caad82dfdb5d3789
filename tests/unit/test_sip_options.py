"""The --sip-* options turn into trunk settings, or a clear error."""

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dialer.cli import app as cli_app
from dialer.cli.sip_options import PASSWORD_VARIABLE, sip_settings
from dialer.telephony.sip_capacity import CALL_CAPACITY, FDS_PER_CALL, FDS_RESERVED, capacity


def _settings(trunk: str | None = "sbc.example.net:5080", **overrides: object) -> object:
    args: dict[str, object] = {
        "transport": "udp",
        "from_": "acme@example.net",
        "username": "acct1",
        "codecs": "pcma, pcmu",
        "dtmf": "info",
        "max_calls": 10,
        "cps": 5.0,
        "local_address": None,
        "min_ring": 15.0,
    }
    args.update(overrides)
    return sip_settings(trunk, **args)  # type: ignore[arg-type]


def test_a_trunk_is_parsed_and_the_password_comes_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(PASSWORD_VARIABLE, "s3cret")
    trunk = _settings()
    assert trunk is not None
    assert (trunk.host, trunk.port, trunk.from_user, trunk.from_domain) == (  # type: ignore[attr-defined]
        "sbc.example.net",
        5080,
        "acme",
        "example.net",
    )
    assert trunk.codecs == ("pcma", "pcmu")  # type: ignore[attr-defined]
    assert (trunk.username, trunk.password, trunk.dtmf_mode) == ("acct1", "s3cret", "info")  # type: ignore[attr-defined]


def test_no_trunk_means_no_sip() -> None:
    assert _settings(None) is None


@pytest.mark.parametrize(
    ("trunk", "overrides", "message"),
    [
        (":5060", {}, "needs a host"),
        ("host:abc", {}, "port must be a number"),
        ("host:70000", {}, "1-65535"),
        ("host", {"transport": "sctp"}, "--sip-transport"),
        ("host", {"dtmf": "inband"}, "--sip-dtmf"),
        ("host", {"cps": 0.0}, "positive"),
    ],
)
def test_wrong_trunk_settings_are_refused(
    trunk: str, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        _settings(trunk, **overrides)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--network", "sip"], "--network sip needs --sip-trunk"),
        (["--network", "sip", "--sip-trunk", "h", "--speed", "10"], "--speed must be 1"),
        (["--network", "sip", "--sip-trunk", "h:x"], "port must be a number"),
        (["--network", "isdn"], "unknown network 'isdn'"),
        (
            ["--network", "sip", "--sip-trunk", "127.0.0.1", "--sip-max-calls", "251"],
            "--sip-max-calls 251 is more than one process can hold (250",
        ),
    ],
)
def test_serve_refuses_a_wrong_network_before_starting(
    args: list[str], message: str, tmp_path: Path
) -> None:
    result = CliRunner().invoke(
        cli_app, ["serve", "--database", f"sqlite:///{tmp_path / 'd.db'}", *args]
    )
    assert result.exit_code == 2
    assert message in result.output


def test_the_call_capacity_is_the_stack_s_or_what_open_files_allow() -> None:
    assert capacity(1_048_576) == CALL_CAPACITY == 250
    assert capacity(1024) == 250  # (1024 - 256) / 2 = 384 calls' worth of sockets
    assert capacity(FDS_RESERVED + 100 * FDS_PER_CALL) == 100
    assert capacity(100) == 0
