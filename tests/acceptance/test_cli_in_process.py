"""tests/cli_in_process.py answers as a `python -m dialer` process does: the CLI tests that run
their commands in the test process rely on it."""

import json
import os
from pathlib import Path

import pytest

from tests.acceptance.test_cli_mistakes import run_dialer
from tests.cli_in_process import run_in_process


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}",
        "DIALER_TRACEBACK": "",
    }


@pytest.mark.parametrize(
    ("args", "stdin"),
    [
        (("cli", "list", "--tenant", "1"), b""),  # an answer on stdout
        (("tenant", "rotate-key", "9"), b""),  # an error line from the service
        (("callflow", "create", "--tenant", "1", "--name", "x", "-"), b"message: \xff\n"),
        (("--version",), b""),
    ],
    ids=["answer", "not-found", "stdin-not-utf8", "version"],
)
def test_a_command_answers_the_same_in_the_test_process(
    env: dict[str, str], args: tuple[str, ...], stdin: bytes
) -> None:
    created = run_in_process("tenant", "create", "Acme", env=env)
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["id"] == 1
    process = run_dialer(*args, env=env, stdin=stdin)
    inside = run_in_process(*args, env=env, stdin=stdin)
    assert (inside.returncode, inside.stdout, inside.stderr) == (
        process.returncode,
        process.stdout,
        process.stderr,
    )


def test_the_environment_is_the_commands_own_and_is_given_back(
    env: dict[str, str], tmp_path: Path
) -> None:
    """A command sees the environment it is given, not the test process's, and the test
    process's environment and working directory are as they were afterwards."""
    before, here = dict(os.environ), Path.cwd()
    elsewhere = {**env, "DIALER_DATABASE_URL": "mysql://x"}
    refused = run_in_process("tenant", "create", "Acme", env=elsewhere, cwd=tmp_path)
    assert refused.returncode == 2
    assert b"mysql://x" in refused.stderr
    assert (dict(os.environ), Path.cwd()) == (before, here)
