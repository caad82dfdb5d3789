"""The README's quick-start campaign works on any day: written for a later date, it dials."""

import asyncio
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

from dialer.domain.codes import Outcome
from tests.integration.engine_support import LONDON, Rig

EXAMPLE = Path(__file__).parents[2] / "docs" / "examples" / "campaign.py"


def example(*args: str) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, str(EXAMPLE), *args], check=True, capture_output=True, text=True
    ).stdout
    body: dict[str, object] = json.loads(out)
    return body


def test_the_quick_start_campaign_is_accepted_and_dials_on_a_later_day(rig: Rig) -> None:
    later = datetime(2031, 3, 4, 22, 30, tzinfo=LONDON)  # after that day's window, even
    asyncio.run(rig.timer.idle_until(later))
    account = rig.account
    body = example(
        "--start",
        "2031-03-04",
        "--callflow",
        str(account.callflow_id),
        "--cli",
        str(account.cli_id),
    )
    campaign = rig.container.campaigns.create(account.tenant, body).campaign.id
    rig.run()
    got = rig.attempts(campaign)
    assert set(got) == {"+447700900123", "+447700900456"}
    rows = [row for attempts in got.values() for row in attempts]
    assert all(r.originated_at is not None and r.originated_at > later for r in rows)
    assert Outcome.OUT_OF_TIME not in {r.outcome for r in rows}


def test_by_default_the_quick_start_campaign_starts_today() -> None:
    before = datetime.now(LONDON).date().isoformat()
    body = example()
    after = datetime.now(LONDON).date().isoformat()
    assert body["startDate"] in (before, after)  # the same day, unless midnight fell between
    assert (body["callflow_Id"], body["cli_Id"]) == (1, 1)
