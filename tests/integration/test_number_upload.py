"""POST /api/campaign/voice/{id}/numbers: numbers added to an existing campaign as JSON or CSV,
the good lines added, duplicates skipped, bad lines reported; on both stores."""

import asyncio
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from dialer.bootstrap import build, build_engine
from dialer.clocks import RealTimer
from dialer.domain.codes import Outcome
from dialer.services import number_upload
from dialer.services.number_upload import csv_lines
from dialer.settings import EngineSettings, NetworkSettings, Settings
from tests.conftest import Account
from tests.integration.engine_support import LONDON, all_day_body, drama

CSV = {"Content-Type": "text/csv"}


def _create(client: TestClient, account: Account, **overrides: Any) -> int:
    created = client.post(
        "/api/campaign/voice", json=account.campaign(**overrides), headers=account.headers
    )
    assert created.status_code == 201, created.text
    campaign_id: int = created.json()["id"]
    return campaign_id


def _post_csv(
    client: TestClient, account: Account, campaign_id: int, text: str | bytes, **params: Any
) -> Any:
    body = text.encode() if isinstance(text, str) else text
    return client.post(
        f"/api/campaign/voice/{campaign_id}/numbers",
        content=body,
        params=params,
        headers={**account.headers, **CSV},
    )


def _all_numbers(client: TestClient, account: Account, campaign_id: int) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    params: dict[str, Any] = {"limit": 1000}
    while True:
        data = client.get(
            f"/api/campaign/voice/{campaign_id}/numbers", params=params, headers=account.headers
        ).json()
        rows += data["numbers"]
        if data["next"] is None:
            return rows
        params["after"] = data["next"]


def test_csv_by_header_names_adds_good_lines_and_reports_bad_ones(
    client: TestClient, account: Account
) -> None:
    campaign_id = _create(client, account)
    text = (
        "Number,Name,P1,P2\n"
        "07700900001,Ann,a1,a2\n"
        "not a number,Bob,,\n"
        "07722123456,Ben again,,\n"  # in the campaign already (the seed's ben)
        "07700900002,Cy,c1\n"
        "07700 900 001,Ann twice,,\n"  # earlier in this file
        "07700900003,Di,d1,d2,extra\n"
        "123,Too short,,\n"
        "\n"
        f"07700900004,{'x' * 201},,\n"
        "07700900005,Ed,,\n"
    )
    got = _post_csv(client, account, campaign_id, text)
    assert got.status_code == 200, got.text
    report = got.json()
    assert report["added"] == 3
    assert report["duplicates"] == 2
    assert report["rejectedCount"] == 4
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert sorted(reasons) == [3, 7, 8, 10]
    assert "not a phone number" in reasons[3]
    assert "5 fields" in reasons[7]
    assert "not a possible phone number" in reasons[8]
    assert "name is longer than 200" in reasons[10]
    rows = _all_numbers(client, account, campaign_id)
    assert [r.get("name") for r in rows] == ["ben", "Dave", "Ann", "Cy", "Ed"]
    assert rows[2]["parameters"] == [
        {"value": "a1", "parameter": 1},
        {"value": "a2", "parameter": 2},
    ]
    assert rows[3]["parameters"] == [{"value": "c1", "parameter": 1}]
    assert "parameters" not in rows[4]  # empty cells are no parameter


def test_csv_column_mapping_semicolons_and_a_bom(client: TestClient, account: Account) -> None:
    campaign_id = _create(client, account)
    text = "\ufeffwhatever;who;ignored;third\n07700900001;Ann;zzz;p-three\n"
    got = _post_csv(client, account, campaign_id, text, columns="number,name,-,p3")
    assert got.status_code == 200, got.text
    assert got.json()["added"] == 1
    added = _all_numbers(client, account, campaign_id)[-1]
    assert added["name"] == "Ann"
    assert added["parameters"] == [{"value": "p-three", "parameter": 3}]
    # A mapping shorter than the header: the columns after it are ignored, not extra fields.
    short = _post_csv(
        client, account, campaign_id, "a,b,c,d\n07700900002,Bo,x,y\n", columns="number,name"
    )
    assert short.json() == {"added": 1, "duplicates": 0, "rejected": [], "rejectedCount": 0}


def test_json_objects_as_the_seed_writes_them(client: TestClient, account: Account) -> None:
    campaign_id = _create(client, account)
    body = {
        "phoneNumbers": [
            {
                "number": "07700900001",
                "name": "Ann",
                "parameters": [{"parameter": 2, "value": "v"}],
            },
            {"Number": "07700900002"},
            {"number": "07700900003", "parameters": [{"parameter": 10, "value": "x"}]},
            "07700900004",
        ]
    }
    got = client.post(
        f"/api/campaign/voice/{campaign_id}/numbers", json=body, headers=account.headers
    )
    assert got.status_code == 200, got.text
    report = got.json()
    assert report["added"] == 2
    assert [r["index"] for r in report["rejected"]] == [2, 3]
    bare = client.post(
        f"/api/campaign/voice/{campaign_id}/numbers",
        json=[{"number": "07700900009"}],
        headers=account.headers,
    )
    assert bare.json()["added"] == 1
    assert len(_all_numbers(client, account, campaign_id)) == 5


def test_a_request_wrong_as_a_whole_changes_nothing(client: TestClient, account: Account) -> None:
    campaign_id = _create(client, account)
    url = f"/api/campaign/voice/{campaign_id}/numbers"
    cases = [
        _post_csv(client, account, campaign_id, "name,p1\nAnn,x\n"),  # no number column
        _post_csv(client, account, campaign_id, "number\n07700900001\n", columns="number,p10"),
        _post_csv(client, account, campaign_id, "number,nom\n07700900001,x\n", columns="numbr"),
        _post_csv(client, account, campaign_id, ""),
        # Binary: not UTF-8 (a good line first, to show it is not added either).
        _post_csv(client, account, campaign_id, b"number\n07700900001\n\xff\xfe\x00\x81binary"),
        client.post(url, json={"numbers": "nope"}, headers=account.headers),
        client.post(
            url,
            json=[{"number": "07700900001"}],
            params={"columns": "number"},
            headers=account.headers,
        ),
    ]
    for got in cases:
        assert got.status_code == 400, got.text
        assert got.json()["status"] == 400
    other = client.post(
        url, content=b"x", headers={**account.headers, "Content-Type": "application/xml"}
    )
    assert other.status_code == 415
    assert len(_all_numbers(client, account, campaign_id)) == 2


def test_a_50_mb_body_is_413_and_changes_nothing(client: TestClient, account: Account) -> None:
    campaign_id = _create(client, account)
    line = b"07700900001,Ann\n"
    body = b"number,name\n" + line * (50 * 1024 * 1024 // len(line))
    got = _post_csv(client, account, campaign_id, body)
    assert got.status_code == 413
    assert got.json()["status"] == 413
    assert len(_all_numbers(client, account, campaign_id)) == 2


def test_too_many_lines_is_413_and_changes_nothing(client: TestClient, account: Account) -> None:
    campaign_id = _create(client, account)
    body = "number\n" + "".join(f"+4477009{n:05d}\n" for n in range(100_001))
    assert len(body) < 20 * 1024 * 1024
    got = _post_csv(client, account, campaign_id, body)
    assert got.status_code == 413, got.text
    assert len(_all_numbers(client, account, campaign_id)) == 2


def test_the_line_limit_is_the_documented_one_exactly(
    client: TestClient, account: Account, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(number_upload, "MAX_UPLOAD_LINES", 3)
    campaign_id = _create(client, account)
    three = "number\n07700900001\n07700900002\n07700900003\n"
    assert _post_csv(client, account, campaign_id, three).json()["added"] == 3
    four = "number\n07700900004\n07700900005\n07700900006\n07700900007"  # no last break
    assert _post_csv(client, account, campaign_id, four).status_code == 413
    json_four = [{"number": f"0770090001{n}"} for n in range(4)]
    got = client.post(
        f"/api/campaign/voice/{campaign_id}/numbers", json=json_four, headers=account.headers
    )
    assert got.status_code == 413
    assert len(_all_numbers(client, account, campaign_id)) == 5


def test_nul_bytes_and_huge_fields_reject_their_lines_only(
    client: TestClient, account: Account
) -> None:
    campaign_id = _create(client, account)
    body = b"number,name\n07700900001,A\x00B\n07700900002," + b"x" * 200_000 + b"\n07700900003,ok\n"
    got = _post_csv(client, account, campaign_id, body)
    assert got.status_code == 200, got.text
    report = got.json()
    assert report["added"] == 1
    assert [r["line"] for r in report["rejected"]] == [2, 3]
    assert "control character" in report["rejected"][0]["reason"]


def test_a_formula_name_is_kept_as_text(client: TestClient, account: Account) -> None:
    campaign_id = _create(client, account)
    hostile = "=cmd|' /C calc'!A0"
    text = f'number,name\n07700900001,"{hostile}"\n07700900002,<script>alert(1)</script>\n'
    got = _post_csv(client, account, campaign_id, text)
    assert got.json()["added"] == 2
    names = [r.get("name") for r in _all_numbers(client, account, campaign_id)]
    assert names[-2:] == [hostile, "<script>alert(1)</script>"]


def test_a_10000_line_csv(client: TestClient, account: Account) -> None:
    campaign_id = _create(client, account)
    text = "number,name,p1\n" + "".join(
        f"+4477009{n:05d},Person {n},ref-{n}\n" for n in range(10_000)
    )
    got = _post_csv(client, account, campaign_id, text)
    assert got.status_code == 200, got.text
    assert got.json() == {"added": 10_000, "duplicates": 0, "rejected": [], "rejectedCount": 0}
    rows = _all_numbers(client, account, campaign_id)
    assert len(rows) == 10_002
    assert rows[-1]["name"] == "Person 9999"
    again = _post_csv(client, account, campaign_id, text)
    assert again.json()["added"] == 0
    assert again.json()["duplicates"] == 10_000


def test_another_tenants_campaign_is_404_and_unchanged(
    client: TestClient, account: Account, other_account: Account
) -> None:
    campaign_id = _create(client, account)
    got = _post_csv(client, other_account, campaign_id, "number\n07700900001\n")
    assert got.status_code == 404
    json_got = client.post(
        f"/api/campaign/voice/{campaign_id}/numbers",
        json=[{"number": "07700900001"}],
        headers=other_account.headers,
    )
    assert json_got.status_code == 404
    assert len(_all_numbers(client, account, campaign_id)) == 2


def test_a_running_engine_dials_uploaded_numbers_at_once(database_url: str) -> None:
    """The upload rings the work notify: an engine that looks for work only hourly dials the
    new numbers of its running campaign at once, from another store (another process)."""
    timer = RealTimer()
    engine_side = build(Settings(database_url=database_url), clock=timer)
    api_side = build(Settings(database_url=database_url), clock=timer)
    try:
        tenant, _ = api_side.tenants.create("Live", "GB", "Europe/London", "00:00-23:59")
        flow = api_side.catalog.add_callflow(tenant, "F", "message: Hi\nsms: Hi\n")
        cli = api_side.catalog.add_cli(tenant, "+441632960000")
        today = timer.now().astimezone(LONDON).date()
        body = all_day_body(today, flow.id, cli.id, drama(5))
        campaign_id = api_side.campaigns.create(tenant, body).campaign.id
        network = NetworkSettings(profile=None, seed=1)
        runtime = build_engine(
            engine_side, network, EngineSettings(poll_seconds=3600, lease_seconds=3 * 3600), timer
        )
        upload = io.BytesIO(f"number,name\n{drama(1)},Busy\n{drama(6)},Unobtainable\n".encode())

        async def scenario() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(runtime.engine.run(stop))
            while runtime.engine.stats.recorded < 1:
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.3)  # idle again, in its hourly wait
            report = await asyncio.to_thread(
                api_side.number_uploads.add, tenant, campaign_id, csv_lines(upload, None)
            )
            assert report.added == 2
            while runtime.engine.stats.recorded < 3:
                await asyncio.sleep(0.05)
            stop.set()
            await task

        asyncio.run(asyncio.wait_for(scenario(), 30))
        assert runtime.engine.stats.outcomes[Outcome.BUSY] == 1
        assert runtime.engine.stats.outcomes[Outcome.UNOBTAINABLE] == 1
    finally:
        engine_side.close()
        api_side.close()
