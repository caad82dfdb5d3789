"""`dialer dnc import` on what users really have: the README's example, spreadsheet exports
(a byte-order mark, a header row), bad lines, and lists past the old 100,000-number limit."""

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from dialer.testing.postgres import PostgresServer
from tests.cli_in_process import run_in_process

ROOT = Path(__file__).resolve().parents[2]


def dialer(
    *args: str, env: dict[str, str], cwd: Path = ROOT, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """`dialer *args` in the test process (tests/cli_in_process.py): these tests are about
    what the import makes of a file, and the process's start was most of their time. The
    progress bar's test, which is about the process's terminal, runs one (`dialer_process`);
    so do the DNC commands of test_cli_and_server.py."""
    done = run_in_process(*args, env=env, cwd=cwd)
    if check and done.returncode != 0:
        raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout, done.stderr)
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


def dialer_process(
    *args: str, env: dict[str, str], cwd: Path = ROOT, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "dialer", *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        check=check,
        timeout=300,
    )


@pytest.fixture(params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'dialer.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.create_database()
    environment = {**os.environ, "DIALER_DATABASE_URL": url}
    dialer("tenant", "create", "Acme Clinic", "--region", "GB", env=environment)
    return environment


def test_the_readmes_dnc_import_runs_on_the_shipped_file(env: dict[str, str]) -> None:
    (line,) = [
        line
        for line in (ROOT / "README.md").read_text().splitlines()
        if re.match(r"\.venv/bin/dialer dnc import ", line)
    ]
    args = shlex.split(line)[1:]
    answer = json.loads(dialer(*args, env=env).stdout)
    assert answer == {
        "added": 3,
        "alreadyListed": 0,
        "header": "number,name",
        "skipped": 0,
        "skippedLines": [],
    }
    listed = dialer("dnc", "add", "--tenant", "1", "+447700900111", env=env).stdout
    assert json.loads(listed) == {"added": 0, "alreadyListed": 1}


def test_bad_lines_are_named_from_line_1_and_refuse_the_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes("\ufeffPhone;Name\n07700900001\n\nnope,x\n07700900002\n12\n".encode())
    refused = dialer("dnc", "import", "--tenant", "1", str(export), env=env, check=False)
    assert refused.returncode == 2
    assert "line 4: 'nope' is not a possible phone number" in refused.stderr
    assert "line 6: '12' is not a possible phone number" in refused.stderr
    assert "Traceback" not in refused.stderr
    listed = json.loads(dialer("dnc", "add", "--tenant", "1", "07700900001", env=env).stdout)
    assert listed == {"added": 1, "alreadyListed": 0}  # nothing of the file was imported


def test_skip_invalid_imports_the_rest_and_reports_what_it_skipped(
    env: dict[str, str], tmp_path: Path
) -> None:
    export = tmp_path / "export.csv"
    export.write_bytes("\ufeffnumber\n07700900001\nnope\n07700900002\n07700900001\n".encode())
    answer = json.loads(
        dialer("dnc", "import", "--tenant", "1", "--skip-invalid", str(export), env=env).stdout
    )
    assert answer == {
        "added": 2,
        "alreadyListed": 1,  # the repeat of line 2
        "header": "number",
        "skipped": 1,
        "skippedLines": [{"line": 3, "text": "nope"}],
    }


def test_more_than_100000_numbers_import_in_batches(tmp_path: Path) -> None:
    # One store is enough here: the limit was the service's, and batches are plain add_dnc
    # calls, which the tests above run on both.
    env = {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}"}
    dialer("tenant", "create", "Acme Clinic", "--region", "GB", env=env)
    export = tmp_path / "big.txt"
    count = 100_001
    export.write_text("".join(f"+44113{n:07d}\n" for n in range(count)))
    answer = json.loads(dialer("dnc", "import", "--tenant", "1", str(export), env=env).stdout)
    assert (answer["added"], answer["alreadyListed"]) == (count, 0)


def test_a_progress_bar_shows_on_a_terminal_and_never_in_a_pipe(tmp_path: Path) -> None:
    env = {**os.environ, "DIALER_DATABASE_URL": f"sqlite:///{tmp_path / 'dialer.db'}"}
    dialer("tenant", "create", "Acme Clinic", "--region", "GB", env=env)
    example = str(ROOT / "docs" / "examples" / "do-not-call.csv")
    size = (ROOT / "docs" / "examples" / "do-not-call.csv").stat().st_size
    piped = dialer_process("dnc", "import", "--tenant", "1", example, env=env)
    assert piped.stderr == ""
    # rich takes TTY_COMPATIBLE=1 as "stderr is a terminal".
    terminal = {**env, "TTY_COMPATIBLE": "1"}
    shown = dialer_process("dnc", "import", "--tenant", "1", example, env=terminal)
    assert "importing" in shown.stderr
    assert f"{size}/{size} bytes" in shown.stderr
    assert json.loads(shown.stdout)["alreadyListed"] == 3
