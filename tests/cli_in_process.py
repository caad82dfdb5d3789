"""`dialer ARGS` run inside the test process, through the same `dialer.cli.main` that
`python -m dialer` runs, with its own argv, environment, stdin, stdout and stderr.

A `python -m dialer` process pays the whole application's import (about 1.5 s on CI) before it
does anything; a test that runs thirty short commands spends most of its time there. This runs
the same entry point (its usage errors, its last-resort one-line error, its exit statuses) and
returns what `subprocess.run` would, so a test reads the same either way. It is for the short
commands that print and exit (the catalog, tenants, call flows, DNC): `serve` and `worker`,
which run until stopped, and at least one test per command family stay real processes
(tests/acceptance/test_cli_and_server.py and the tests that keep `run_dialer`).
"""

import io
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

from dialer.cli import main


def run_in_process(
    *args: str, env: dict[str, str], stdin: bytes = b"", cwd: Path | None = None
) -> subprocess.CompletedProcess[bytes]:
    """`dialer *args` as `subprocess.run(..., capture_output=True)` reports it: the exit status
    and the bytes written to stdout and stderr. `env` replaces the environment, as it would
    for a process; `cwd`, if given, is the working directory while it runs."""
    out, err = io.BytesIO(), io.BytesIO()
    stdout = io.TextIOWrapper(out, encoding="utf-8", write_through=True)
    stderr = io.TextIOWrapper(err, encoding="utf-8", write_through=True)
    stdin_stream = io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8")
    here = Path.cwd()
    with (
        mock.patch.dict(os.environ, env, clear=True),
        mock.patch.object(sys, "argv", ["dialer", *args]),
        mock.patch.object(sys, "stdin", stdin_stream),
        mock.patch.object(sys, "stdout", stdout),
        mock.patch.object(sys, "stderr", stderr),
    ):
        if cwd is not None:
            os.chdir(cwd)
        try:
            main()
            code = 0
        except SystemExit as exc:
            # As the interpreter does: None is 0, a number is the status, anything else is
            # printed and the status is 1.
            if exc.code is None or isinstance(exc.code, int):
                code = exc.code or 0
            else:
                print(exc.code, file=sys.stderr)
                code = 1
        finally:
            os.chdir(here)
            stdout.flush()
            stderr.flush()
    return subprocess.CompletedProcess(["dialer", *args], code, out.getvalue(), err.getvalue())
