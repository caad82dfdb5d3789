"""The shipped systemd units run as written: their ExecStart lines, started here.

deploy/systemd/ holds what docs/deploying.md tells an operator to install. This test reads each
unit's ExecStart, expands it as systemd would (``%i``, ``${VAR}`` one word, ``$VAR`` split on
blanks, from the unit's EnvironmentFile= files, which are the shipped examples), with the
suite's PostgreSQL, 127.0.0.1 and free ports in place of the examples' addresses, and the
simulated network in place of the carrier. Then it runs them: the migration, two API instances
and two workers; both APIs answer /health, a campaign posted to one is dialled by the workers
to its end and read back from the other, and each worker serves its /metrics.
"""

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from dialer.bootstrap import build
from dialer.settings import Settings
from dialer.testing.postgres import PostgresServer
from dialer.testing.server import free_port

pytestmark = pytest.mark.postgres

UNITS = Path(__file__).parents[2] / "deploy" / "systemd"
SHIPPED_DIALER = "/opt/dialer/.venv/bin/dialer"
ZONE = "Europe/London"
FLOW = "message: 'Hello {Name}.'\nsms: 'Hi {Name}'\n"


def unit(name: str) -> dict[str, list[str]]:
    """A unit file's [Service] settings, each key with its values in order."""
    settings: dict[str, list[str]] = {}
    section = None
    for line in (UNITS / name).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line
        elif section == "[Service]":
            key, _, value = line.partition("=")
            settings.setdefault(key.strip(), []).append(value.strip())
    return settings


def environment(files: list[str], overrides: dict[str, str]) -> dict[str, str]:
    """The EnvironmentFile= files, read from the shipped examples, then the overrides."""
    values: dict[str, str] = {}
    for path in files:
        for line in (UNITS / Path(path).name).read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                key, _, value = line.partition("=")
                values[key.strip()] = value.strip()
    assert set(overrides) <= set(values), f"no such setting in the examples: {overrides}"
    return {**values, **overrides}


def command(name: str, instance: str, env: dict[str, str]) -> list[str]:
    """ExecStart expanded as systemd does, with this suite's dialer for the installed one."""
    [line] = unit(name)["ExecStart"]
    words = []
    for word in shlex.split(line.replace("%i", instance)):
        if re.fullmatch(r"\$[A-Z_]+", word):
            words += env[word[1:]].split()
        else:
            words.append(re.sub(r"\$\{([A-Z_]+)\}", lambda m: env[m.group(1)], word))
    assert words[0] == SHIPPED_DIALER, words
    return [sys.executable, "-m", "dialer", *words[1:]]


@contextmanager
def started(commands: list[list[str]], env: dict[str, str], folder: Path) -> Iterator[None]:
    processes: list[tuple[subprocess.Popen[bytes], Path]] = []
    try:
        for n, argv in enumerate(commands):
            out = folder / f"unit-{n}.out"
            with out.open("wb") as sink:
                process = subprocess.Popen(
                    argv,
                    env={**os.environ, **env},
                    stdin=subprocess.DEVNULL,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            processes.append((process, out))
        yield
        for process, out in processes:
            os.killpg(process.pid, signal.SIGTERM)
            # systemd counts an end by the SIGTERM it sent as clean (SuccessExitStatus).
            assert process.wait(timeout=60) in (0, -signal.SIGTERM), out.read_text()
    finally:
        for process, _ in processes:
            with suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            with suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)


def wait_for(what: str, check: Any, seconds: float = 60) -> Any:
    deadline = time.monotonic() + seconds
    while True:
        with suppress(httpx.HTTPError):
            answer = check()
            if answer:
                return answer
        assert time.monotonic() < deadline, f"{what}: not within {seconds} s"
        time.sleep(0.2)


def test_the_shipped_units_run_apis_and_workers_that_dial_a_campaign(
    postgres_server: PostgresServer, tmp_path: Path
) -> None:
    url = postgres_server.create_database()
    profile = tmp_path / "zero.yaml"
    profile.write_text("zero_durations: true\n")
    env = environment(
        unit("dialer-worker@.service")["EnvironmentFile"],
        {
            "DIALER_DATABASE_URL": url,
            "DIALER_LISTEN": "127.0.0.1",
            "DIALER_API_PROCESSES": "2",
            "DIALER_WORKER_FLAGS": f"--network sim --profile {profile}",
        },
    )
    assert unit("dialer-api@.service")["EnvironmentFile"] == ["/etc/dialer/dialer.env"]
    migrate = command("dialer-migrate.service", "", env)
    done = subprocess.run(migrate, env={**os.environ, **env}, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr

    container = build(Settings(database_url=url), apply_migrations=False)
    try:
        tenant, key = container.tenants.create("Units", "GB", ZONE, "00:00-23:59")
        flow = container.catalog.add_callflow(tenant, "Reminder", FLOW)
        cli = container.catalog.add_cli(tenant, "+441632960000")
    finally:
        container.close()

    apis = [free_port(), free_port()]
    metrics = [free_port(), free_port()]
    commands = [command("dialer-api@.service", str(port), env) for port in apis]
    commands += [command("dialer-worker@.service", str(port), env) for port in metrics]
    today = datetime.now(UTC).astimezone(ZoneInfo(ZONE)).date()
    day = {"startTime": "00:00", "finishTime": "23:59"}
    body = {
        "name": "Units",
        "startDate": today.isoformat(),
        **day,
        "runoverDays": [{"date": (today + timedelta(days=1)).isoformat(), **day}],
        "callflow_Id": flow.id,
        "cli_Id": cli.id,
        "phoneNumbers": [{"number": f"+4477009000{n:02d}", "name": f"N{n}"} for n in range(13)],
    }
    auth = {"Authorization": f"Bearer {key}"}
    with started(commands, env, tmp_path), httpx.Client(timeout=10) as http:
        for port in apis:
            health = wait_for("API up", lambda p=port: http.get(f"http://127.0.0.1:{p}/health"))
            assert health.json() == {
                "status": "ok",
                "store": "ok",
                "engine": "not run by this process",
            }
        posted = http.post(
            f"http://127.0.0.1:{apis[0]}/api/campaign/voice", json=body, headers=auth
        )
        assert posted.status_code == 201, posted.text
        campaign = posted.json()["id"]

        def finished() -> dict[str, Any] | None:
            got = http.get(
                f"http://127.0.0.1:{apis[1]}/api/campaign/voice/{campaign}", headers=auth
            )
            progress = got.json()["progress"]
            # Claimed counts the numbers taken and not yet recorded: a busy machine shows
            # all 13 claimed before any call is on the line (inFlight 0).
            idle = progress["pending"] == progress["claimed"] == progress["inFlight"] == 0
            return progress if idle else None

        progress = wait_for("campaign dialled", finished)
        assert progress["done"] == 13, progress
        for port in metrics:
            scraped = http.get(f"http://127.0.0.1:{port}/metrics")
            assert scraped.status_code == 200
            assert "dialer_" in scraped.text
