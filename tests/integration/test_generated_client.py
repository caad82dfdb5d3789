"""A client generated from /openapi.json by a real generator (openapi-python-client) runs a
campaign against a live `dialer serve`: made and changed over REST, calls added and read back
over the Dialer API. A document that leaves out an operation or a parameter fails here."""

import importlib
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any, get_type_hints

import httpx
import pytest

from dialer.bootstrap import build
from dialer.settings import Settings
from dialer.testing.server import serving
from tests.conftest import Account


def _generate(document: bytes, root: Path, package: str) -> None:
    source = root / "openapi.json"
    source.write_bytes(document)
    # Uploading numbers takes text/csv beside JSON; the generator reads only the body kinds it
    # knows, and its documented way for any other is to name the kind it is sent as (the bytes).
    config = root / "generator.yaml"
    config.write_text('content_type_overrides:\n  "text/csv": "application/octet-stream"\n')
    # The generator formats its output with ruff, which lives beside it in the venv.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(source),
            "--meta",
            "none",
            "--output-path",
            str(root / package),
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout + done.stderr, done.stdout + done.stderr


@pytest.fixture
def live(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Account]]:
    """A served store with one tenant (call flow, caller ID): its base URL and account."""
    container = build(Settings(database_url=database_url))
    try:
        account = Account(container, "Acme")
    finally:
        container.close()
    env = {**os.environ, "DIALER_DATABASE_URL": database_url}
    with serving(env, "--no-engine") as (_, base):
        yield base, account


class Generated:
    """The generated package, and the document it was made from (to find operations by path)."""

    def __init__(self, package: ModuleType, document: dict[str, Any]) -> None:
        self.package = package
        self.document = document

    def module(self, name: str) -> Any:
        return importlib.import_module(f"{self.package.__name__}.{name}")

    def operation(self, verb: str, path: str) -> Any:
        """The module of the operation at ``verb path``: named after its operationId, and
        placed in the folder of its first tag, both snake-cased as the generator does."""
        operation = self.document["paths"][path][verb]
        tag = _snake(operation["tags"][0])
        return self.module(f"api.{tag}.{_snake(operation['operationId'])}")


def _snake(name: str) -> str:
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return re.sub(r"[^a-zA-Z0-9]+", "_", words).strip("_").lower()


def _body_type(module: Any) -> Any:
    return get_type_hints(module.sync_detailed)["body"]


@pytest.fixture
def generated(
    live: tuple[str, Account], tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Generated]:
    base, _ = live
    package = f"generated_{request.node.callspec.id.replace('-', '_')}"
    document = httpx.get(f"{base}/openapi.json")
    _generate(document.content, tmp_path, package)
    sys.path.insert(0, str(tmp_path))
    try:
        yield Generated(importlib.import_module(package), document.json())
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == package or m.startswith(package + ".")]:
            del sys.modules[name]


def test_a_generated_client_runs_a_campaign(
    live: tuple[str, Account], generated: Generated
) -> None:
    base, account = live
    models = generated.module("models")
    create = generated.operation("post", "/api/campaign/voice")
    update = generated.operation("put", "/api/campaign/voice/{campaign_id}")
    get = generated.operation("get", "/api/campaign/voice/{campaign_id}")
    dialer = "/ForwardDialer/Dialer/"
    add_call_get = generated.operation("get", dialer + "AddCall")
    add_call_post = generated.operation("post", dialer + "AddCall")
    add_bulk = generated.operation("post", dialer + "AddCallsBulk")
    pending = generated.operation("get", dialer + "GetCampaignPendingCalls")
    listing = generated.operation("post", dialer + "GetCampaignList")
    client_package = generated.package

    rest_client = client_package.AuthenticatedClient(base_url=base, token=account.key)
    open_client = client_package.Client(base_url=base)
    start = (datetime.now(UTC) + timedelta(days=30)).date().isoformat()

    def campaign_body(model: Any, name: str) -> Any:
        return model(
            name=name,
            start_date=start,
            start_time="09:00",
            finish_time="17:00",
            callflow_id=account.callflow_id,
            cli_id=account.cli_id,
            attempts=[models.Attempt(interval=30, attempt_number=1)],
            phone_numbers=[
                models.PhoneNumberIn(
                    number="07722123456",
                    name="Ben",
                    parameters=[models.Parameter(parameter=1, value="Tuesday")],
                )
            ],
        )

    # REST, with the bearer key the document declares.
    created = create.sync_detailed(
        client=rest_client,
        body=campaign_body(_body_type(create), "Reminders"),
    )
    assert created.status_code == 201, created.content
    campaign = created.parsed
    assert isinstance(campaign, models.CampaignDetailOut)
    assert campaign.phone_numbers[0].parameters[0].value == "Tuesday"
    changed = update.sync_detailed(
        str(campaign.id),
        client=rest_client,
        body=campaign_body(_body_type(update), "Reminders 2"),
    )
    assert changed.status_code == 204, changed.content
    assert get.sync(str(campaign.id), client=rest_client).name == "Reminders 2"

    # The Dialer API, by the campaign's code: GET parameters, a JSON body, a bulk array.
    code = campaign.code
    by_query = add_call_get.sync(
        client=open_client, campaign=code, target="07700900001", customer_name="Ann", priority=7
    )
    assert (by_query.error_code, by_query.description) == (0, "OK")
    by_body = add_call_post.sync(
        client=open_client,
        body=models.CallIn(
            campaign=code,
            target="07700900002",
            customer_name="Bob",
            priority=5,
            custom_data=models.CallInCustomDataType0.from_dict({"var_leadID": 42}),
        ),
    )
    assert by_body.error_code == 0, by_body.description
    bulk = add_bulk.sync(
        client=open_client,
        body=[
            models.CallIn(campaign=code, target="07700900003", customer_name="Cy"),
            models.CallIn(campaign=code, target="not a number"),
        ],
    )
    assert [r.error_code for r in bulk.add_result] == [0, -2]

    answer = pending.sync(client=open_client, campaign=code, page_size=10)
    assert answer.error_code == 0, answer.description
    calls = {c.phone: c for c in answer.data.calls}
    assert set(calls) == {"447722123456", "447700900001", "447700900002", "447700900003"}
    assert (calls["447700900001"].customer_name, calls["447700900001"].priority) == ("Ann", 7)
    assert calls["447700900002"].custom_data.to_dict() == {"var_leadID": 42}
    assert answer.data.campaign.total_pending_calls == 4
    assert answer.data.next_cursor is None

    mine = models.GetCampaignListRequest(code=account.key)
    campaigns = listing.sync(client=open_client, body=mine)
    assert [(c.name, c.code) for c in campaigns.data] == [("Reminders 2", code)]
