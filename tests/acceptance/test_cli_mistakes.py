"""Every mistake on the command line is one ``error: ...`` line and exit status 2, no traceback."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dialer.testing.server import free_port
from tests.cli_in_process import run_in_process


def run_dialer(
    *args: str, env: dict[str, str], stdin: bytes = b""
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "dialer", *args],
        env=env,
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


def assert_one_error_line(done: subprocess.CompletedProcess[bytes], *words: str) -> str:
    stderr = done.stderr.decode("utf-8", "replace")
    assert done.returncode == 2, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: ")
    for word in words:
        assert word in lines[0]
    return lines[0]


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}",
        "DIALER_TRACEBACK": "",
    }


@pytest.fixture
def tenant(env: dict[str, str]) -> str:
    done = run_in_process("tenant", "create", "Acme", env=env)
    assert done.returncode == 0, done.stderr
    return "1"


def test_serve_on_an_unsupported_database(env: dict[str, str]) -> None:
    done = run_dialer("serve", "--port", str(free_port()), "--database", "mysql://x", env=env)
    assert_one_error_line(done, "mysql://x", "sqlite:///", "postgresql://")


def test_worker_on_an_unsupported_database(env: dict[str, str]) -> None:
    assert_one_error_line(run_dialer("worker", "--database", "mysql://x", env=env), "mysql://x")


@pytest.mark.parametrize(
    ("flags", "words"),
    [
        (("--trunk-cps", "0"), ("--trunk-cps", "positive")),
        (("--tenant-cps", "nan"), ("--tenant-cps", "positive")),
        (("--campaign-cps", "inf"), ("--campaign-cps", "positive")),
        (("--trunk", " ", "--trunk-cps", "5"), ("--trunk",)),
    ],
)
def test_worker_with_a_shared_limit_that_is_no_rate(
    env: dict[str, str], flags: tuple[str, ...], words: tuple[str, ...]
) -> None:
    """The engine keeps these in the store as whole calls per window: a bad one must stop the
    worker at its start, not fail every claim."""
    assert_one_error_line(run_dialer("worker", *flags, env=env), *words)


def test_migrate_an_unreachable_postgresql(env: dict[str, str]) -> None:
    url = f"postgresql://u:secret@127.0.0.1:{free_port()}/d"
    line = assert_one_error_line(
        run_in_process("migrate", "--database", url, env=env), "cannot reach the database"
    )
    assert "secret" not in line


def test_a_command_on_an_unreachable_postgresql(env: dict[str, str]) -> None:
    url = f"postgresql://u:p@127.0.0.1:{free_port()}/d"
    done = run_in_process("tenant", "create", "Acme", "--database", url, env=env)
    assert_one_error_line(done, "cannot reach the database")


def test_callflow_from_stdin_that_is_not_utf8(env: dict[str, str], tenant: str) -> None:
    done = run_dialer(
        "callflow", "create", "--tenant", tenant, "--name", "x", "-",
        env=env, stdin=b"version: 1\nmessage: \xff\xfe\nsms: hi\n",
    )  # fmt: skip
    assert_one_error_line(done, "stdin is not UTF-8", "0xff")


def test_callflow_file_that_is_not_utf8(env: dict[str, str], tenant: str, tmp_path: Path) -> None:
    path = tmp_path / "flow.yaml"
    path.write_bytes(b"message: caf\xe9\n")
    args = ("callflow", "create", "--tenant", tenant, "--name", "x", str(path))
    done = run_in_process(*args, env=env)
    assert_one_error_line(done, "is not UTF-8", "0xe9")


@pytest.mark.parametrize(
    "document",
    [
        "[" * 50_000 + "]" * 50_000,
        "{a: " * 50_000 + "}" * 50_000,
        "\n".join(" " * level + "k:" for level in range(600)),
    ],
    ids=["flow-sequences", "flow-mappings", "block-mappings"],
)
def test_callflow_nested_too_deep(env: dict[str, str], tenant: str, document: str) -> None:
    done = run_in_process(
        "callflow", "create", "--tenant", tenant, "--name", "x", "-",
        env=env, stdin=document.encode(),
    )  # fmt: skip
    assert_one_error_line(done, "nested more than 64 levels")


def test_version(env: dict[str, str]) -> None:
    from dialer import __version__

    done = run_dialer("--version", env=env)
    assert done.returncode == 0
    assert done.stdout.decode().strip() == f"dialer {__version__}"
