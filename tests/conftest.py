"""Fixtures: a real SQLite file and a real throwaway PostgreSQL server for every storage test."""

import shutil
import sys
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import Container, build
from dialer.clocks import ManualClock
from dialer.settings import Settings
from dialer.storage.database import open_database
from dialer.storage.migrations import migrate
from dialer.testing.postgres import PostgresServer
from tests.system_programs import PACKAGE_LIST, ProgramAudit, listed_programs
from tests.wall_clock import in_real_time_tier, wait_for_the_new_day

# Every program the tests start, for the check at the end of the session: a program that runs
# here but is not on requirements/debian.txt would be missing on a fresh machine.
_PROGRAMS = ProgramAudit()
sys.addaudithook(_PROGRAMS)

BACKENDS = ["sqlite", "postgres"]

# A failing test's report shows what every SIPp logged as going wrong during it (its own test
# is in test_sipp_phone.py, through pytester).
pytest_plugins = ["dialer.testing.sipp_report", "pytester"]


@pytest.fixture(autouse=True)
def _away_from_midnight(request: pytest.FixtureRequest) -> None:
    """A test that may dial on the wall clock does not start in London's last minutes: its
    campaigns, open 00:00-23:59, would have nothing to dial (tests/wall_clock.py says why)."""
    if in_real_time_tier(request.path):
        wait_for_the_new_day(datetime.now(UTC))


@pytest.fixture
def program_audit() -> ProgramAudit:
    return _PROGRAMS


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reverse-order",
        action="store_true",
        help="run the tests in reverse order: a test that leans on another's data or state fails",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--reverse-order"):
        items.reverse()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    unlisted = _PROGRAMS.unlisted(listed_programs())
    if unlisted:
        names = ", ".join(f"{name} ({path})" for name, path in sorted(unlisted.items()))
        print(f"\nerror: the tests ran programs that {PACKAGE_LIST.name} does not list: {names}")
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer().start()
    yield server
    server.stop()


# A test that asks for one of these builds a container on its database_url, which migrates it:
# that test's database starts as a copy of one migrated once per session (migrating cost 0.2 s a
# test on SQLite, 0.7 s on PostgreSQL). Every other test gets an empty database, as a test of
# the migrations needs. See docs/testing.md.
STORE_BUILDERS = frozenset({"settings", "rig", "agent_container"})


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("migrated") / "template.db"
    database = open_database(f"sqlite:///{path}")
    migrate(database)
    database.close()
    return path


class PostgresDatabases:
    """Each test's PostgreSQL database. A migrated one is a copy of a database migrated once,
    made while the test before runs; each is dropped after its test, also in the background.
    Both are the server's work, on the other core, not the tests'; dropping keeps the data
    folder small (every database is 8 MB: a whole run would leave gigabytes to delete)."""

    def __init__(self, server: PostgresServer) -> None:
        self._server = server
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="test-databases")
        self._next: Future[str] | None = None

    def migrated(self) -> str:
        if self._next is None:
            url = self._server.create_database("migrated")
            database = open_database(url)
            migrate(database)
            database.close()
            # Only ever a template: CREATE DATABASE refuses one that anybody is connected to.
            self._copy = partial(self._server.create_database, "copy", url.rsplit("/", 1)[1])
            self._next = self._worker.submit(self._copy)
        url = self._next.result()
        self._next = self._worker.submit(self._copy)
        return url

    def empty(self) -> str:
        return self._server.create_database()

    def drop_later(self, url: str) -> None:
        self._worker.submit(self._drop, url.rsplit("/", 1)[1])

    def _drop(self, name: str) -> None:
        # FORCE: a connection the test left open does not keep its database.
        with psycopg.connect(self._server.url("postgres"), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'.encode())

    def close(self) -> None:
        self._worker.shutdown(wait=True)


@pytest.fixture(scope="session")
def postgres_databases(postgres_server: PostgresServer) -> Iterator[PostgresDatabases]:
    databases = PostgresDatabases(postgres_server)
    yield databases
    databases.close()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of this test's own: migrated already when the test builds a container on it
    (STORE_BUILDERS), else empty."""
    migrated = not STORE_BUILDERS.isdisjoint(request.fixturenames)
    if request.param == "sqlite":
        path = tmp_path / "dialer.db"
        if migrated:
            shutil.copyfile(request.getfixturevalue("migrated_sqlite"), path)
        yield f"sqlite:///{path}"
        return
    databases: PostgresDatabases = request.getfixturevalue("postgres_databases")
    url = databases.migrated() if migrated else databases.empty()
    yield url
    databases.drop_later(url)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2025, 9, 30, 8, 0, tzinfo=UTC))


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url)


@pytest.fixture
def container(settings: Settings, clock: ManualClock) -> Iterator[Container]:
    c = build(settings, clock=clock)
    yield c
    c.close()


@pytest.fixture
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(container.app(), raise_server_exceptions=False) as test_client:
        yield test_client


INFO_MESSAGE = "This is Acme. Sorry we missed you; please call us back on 0800 123 4567."


class Account:
    """A tenant with its key, a call flow and a caller ID: what every campaign needs."""

    def __init__(
        self,
        container: Container,
        name: str,
        region: str = "GB",
        calling_hours: str | None = None,
    ) -> None:
        # With the information message its agent campaigns need to dial (docs/compliance.md).
        self.tenant, self.key = container.tenants.create(
            name,
            region,
            "Europe/London",
            calling_hours,
            compliance={"message": {"text": INFO_MESSAGE}},
        )
        flow = "message: 'Hello {Name}, about {Parameter1}.'\nsms: 'Hi {Name}: {Parameter1}'\n"
        self.callflow_id = container.catalog.add_callflow(self.tenant, "Reminder", flow).id
        self.cli_id = container.catalog.add_cli(self.tenant, "+44 1632 960000").id

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def campaign(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": "Test Campaign",
            "startDate": "2025-10-01",
            "startTime": "09:00",
            "finishTime": "12:00",
            "runoverDays": [{"date": "2025-10-02", "startTime": "09:00", "finishTime": "12:00"}],
            "callflow_Id": self.callflow_id,
            "cli_Id": self.cli_id,
            "attempts": [
                {"interval": 15, "attemptNumber": 1},
                {"interval": 60, "attemptNumber": 2},
                {"interval": 120, "attemptNumber": 3},
            ],
            "answerMachineDetected": 0,
            "smsOnBusy": 1,
            "phoneNumbers": [
                {
                    "number": "07722123456",
                    "name": "ben",
                    "parameters": [{"value": "testing", "parameter": 1}],
                },
                {"number": "07722734716", "name": "Dave"},
            ],
        }
        body.update(overrides)
        return body


@pytest.fixture
def account(container: Container) -> Account:
    return Account(container, "Acme")


@pytest.fixture
def other_account(container: Container) -> Account:
    return Account(container, "Globex")
