"""The abandoned-call counts (docs/compliance.md): a campaign's tally over its window, the
calls each number had from the tenant lately, and each campaign's latest pacing decision.

The tally reads ``attempts`` through ``attempts_campaign_ended`` (campaign, end, id, outcome,
stage; migrations 0016 and 0027) alone; a number's calls are in ``number_calls``, one narrow
row per call placed, written with its attempt (``note_number_calls``) so that screening a
claimed batch is one index lookup per number instead of a join through every campaign's
destinations (migration 0016).
"""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from dialer.domain.abandonment import (
    ComplianceSettings,
    InfoMessage,
    PacingStatus,
    RecentCalls,
    Regime,
    Tally,
    stored_false_machine_rate,
)
from dialer.domain.attempt import SETTLED_WITHOUT_CALL, FinishedAttempt
from dialer.domain.codes import Outcome, Stage
from dialer.domain.ids import CampaignId, DestinationId, TenantId
from dialer.storage.database import Connection
from dialer.storage.rows import from_us, to_us

_ANSWERED = Outcome.ANSWERED.value
_DROPPED = Stage.CALL_DROPPED.value
_MACHINES = (Outcome.ANSWERPHONE_MESSAGE_NOT_LEFT.value, Outcome.ANSWERPHONE_MESSAGE_LEFT.value)
_BATCH = 500  # numbers per lookup, as the DNC list's
_WITHOUT_CALL = ", ".join(str(o.value) for o in sorted(SETTLED_WITHOUT_CALL, key=lambda o: o.value))


def abandoned(outcome: Outcome, stage: Stage) -> bool:
    return outcome is Outcome.ANSWERED and stage is Stage.CALL_DROPPED


def note_number_calls(conn: Connection, finished: Sequence[FinishedAttempt], now: datetime) -> None:
    """Write a ``number_calls`` row for each recorded attempt that placed a call (or tried
    to: what counts in attemptsMade) to a possible number, where screening may read it: an
    abandoned call always (the 72-hour rule), any other only for a tenant with a per-number cap
    (docs/compliance.md: a tenant without one pays nothing per call; switching the cap on
    copies the last 24 hours' calls in, ``backfill_number_calls``)."""
    # Whether an attempt counts is asked only for a capped tenant's (issue 11: a property
    # call per attempt); an abandoned call always counts: it was answered.
    capped = _capped_tenants(conn, sorted({f.tenant_id for f in finished})) if finished else set()
    calls: list[tuple[FinishedAttempt, bool]] = []
    for f in finished:
        record = f.record
        if abandoned(record.outcome, record.stage):
            calls.append((f, True))
        elif f.tenant_id in capped and record.counted:
            calls.append((f, False))
    if not calls:
        return
    ids = sorted({f.record.destination_id for f, _ in calls})
    numbers = {
        row[0]: row[1]
        for row in conn.execute(
            "SELECT id, number_e164 FROM destinations WHERE number_e164 IS NOT NULL"
            f" AND id IN ({', '.join('%s' for _ in ids)})",
            ids,
        )
    }
    rows = [
        (
            f.tenant_id,
            numbers[f.record.destination_id],
            to_us(f.record.ended_at or now),
            int(dropped),
        )
        for f, dropped in calls
        if f.record.destination_id in numbers
    ]
    if rows:
        conn.insert_many(
            "number_calls", ("tenant_id", "number_e164", "ended_at", "abandoned"), rows
        )


def _capped_tenants(conn: Connection, tenant_ids: Sequence[TenantId]) -> set[TenantId]:
    """The tenants among these with a per-number cap, read in the recording's transaction.
    PostgreSQL: FOR SHARE orders it with a cap being switched on (an UPDATE of the row, then
    the backfill): either the switch waits for this recording to commit, so its backfill sees
    these attempts, or this waits for the switch and sees the cap."""
    lock = " FOR SHARE" if conn.dialect == "postgres" else ""
    return {
        TenantId(row[0])
        for row in conn.execute(
            "SELECT id FROM tenants WHERE attempts_per_day IS NOT NULL"
            f" AND id IN ({', '.join('%s' for _ in tenant_ids)}){lock}",
            tenant_ids,
        )
    }


def backfill_number_calls(conn: Connection, tenant_id: TenantId, since: datetime) -> None:
    """The tenant's calls placed since ``since`` that ``number_calls`` lacks (written while
    it had no cap: only abandoned ones were), from its attempts, as migration 0016 did for
    every tenant. Calls of campaigns deleted meanwhile are gone with their attempts."""
    conn.execute(
        "INSERT INTO number_calls (tenant_id, number_e164, ended_at, abandoned)"
        " SELECT c.tenant_id, d.number_e164, a.ended_at,"
        " CASE WHEN a.outcome = %s AND a.stage = %s THEN 1 ELSE 0 END"
        " FROM campaigns c"
        " JOIN attempts a ON a.campaign_id = c.id"
        " JOIN destinations d ON d.id = a.destination_id"
        " WHERE c.tenant_id = %s AND a.ended_at >= %s AND d.number_e164 IS NOT NULL"
        f" AND (a.originated_at IS NOT NULL OR a.outcome NOT IN ({_WITHOUT_CALL}))"
        " AND NOT EXISTS (SELECT 1 FROM number_calls n WHERE n.tenant_id = c.tenant_id"
        " AND n.number_e164 = d.number_e164 AND n.ended_at = a.ended_at)",
        (_ANSWERED, _DROPPED, tenant_id, to_us(since)),
    )


class AbandonmentQueries:
    _conn: Connection

    def tally(self, campaign_id: CampaignId, since: datetime) -> Tally:
        rows = self._conn.execute(
            "SELECT"
            " coalesce(sum(CASE WHEN outcome = %s THEN 1 ELSE 0 END), 0),"
            " coalesce(sum(CASE WHEN outcome = %s AND stage = %s THEN 1 ELSE 0 END), 0),"
            " coalesce(sum(CASE WHEN outcome IN (%s, %s) THEN 1 ELSE 0 END), 0)"
            " FROM attempts WHERE campaign_id = %s AND ended_at >= %s",
            (_ANSWERED, _ANSWERED, _DROPPED, *_MACHINES, campaign_id, to_us(since)),
        )
        live, dropped, machines = rows[0]
        return Tally(int(live), int(dropped), int(machines))

    def recent(
        self, tenant_id: TenantId, numbers: Sequence[str], since: datetime
    ) -> dict[str, RecentCalls]:
        ended: dict[str, list[datetime]] = {}
        last_abandoned: dict[str, datetime] = {}
        unique = sorted(set(numbers))
        for start in range(0, len(unique), _BATCH):
            batch = unique[start : start + _BATCH]
            values: list[object]
            if self._conn.dialect == "postgres":
                # One array: one statement text for every batch, prepared once.
                where, values = "= ANY(%s::text[])", [batch]
            else:
                where, values = f"IN ({', '.join(['%s'] * len(batch))})", list(batch)
            for number, at, was_abandoned in self._conn.execute(
                "SELECT number_e164, ended_at, abandoned FROM number_calls"
                f" WHERE tenant_id = %s AND ended_at >= %s AND number_e164 {where}"
                " ORDER BY number_e164, ended_at",
                (tenant_id, to_us(since), *values),
            ):
                moment = from_us(at)
                ended.setdefault(number, []).append(moment)
                if was_abandoned:
                    last_abandoned[number] = moment
        return {n: RecentCalls(tuple(times), last_abandoned.get(n)) for n, times in ended.items()}

    def calls_in_flight(
        self, tenant_id: TenantId, numbers: Sequence[str], excluding: Sequence[DestinationId]
    ) -> dict[str, int]:
        # in_flight holds only the calls on the line now (thousands at most): read whole,
        # each row's destination by its key.
        found: dict[str, int] = {}
        unique = sorted(set(numbers))
        skip: list[int] = sorted(set(excluding)) or [0]  # ids start at 1: 0 excludes none
        for start in range(0, len(unique), _BATCH):
            batch = unique[start : start + _BATCH]
            for number, count in self._conn.execute(
                "SELECT d.number_e164, count(*) FROM in_flight f"
                " JOIN destinations d ON d.id = f.destination_id"
                " JOIN campaigns c ON c.id = f.campaign_id"
                f" WHERE c.tenant_id = %s AND d.number_e164 IN ({', '.join('%s' for _ in batch)})"
                f" AND f.destination_id NOT IN ({', '.join('%s' for _ in skip)})"
                " GROUP BY d.number_e164",
                (tenant_id, *batch, *skip),
            ):
                found[number] = int(count)
        return found

    def save_pacing(
        self,
        campaign_id: CampaignId,
        ratio: float,
        reason: str,
        at: datetime,
        seen: tuple[int, int, int] | None = None,
    ) -> None:
        ready, ringing, waiting = (None, None, None) if seen is None else seen
        # Not for a campaign deleted meanwhile: its row would outlive it.
        self._conn.execute(
            "INSERT INTO campaign_pacing (campaign_id, ratio, reason, decided_at,"
            " agents_ready, calls_ringing, waiting_for_agent)"
            " SELECT %s, %s, %s, %s, %s, %s, %s"
            " WHERE EXISTS (SELECT 1 FROM campaigns WHERE id = %s)"
            " ON CONFLICT (campaign_id) DO UPDATE SET"
            " ratio = excluded.ratio, reason = excluded.reason, decided_at = excluded.decided_at,"
            " agents_ready = excluded.agents_ready, calls_ringing = excluded.calls_ringing,"
            " waiting_for_agent = excluded.waiting_for_agent",
            (campaign_id, float(ratio), reason, to_us(at), ready, ringing, waiting, campaign_id),
        )

    def pacing(self, campaign_id: CampaignId) -> PacingStatus | None:
        rows = self._conn.execute(
            "SELECT ratio, reason, decided_at, agents_ready, calls_ringing, waiting_for_agent"
            " FROM campaign_pacing WHERE campaign_id = %s",
            (campaign_id,),
        )
        if not rows:
            return None
        ratio, reason, at, ready, ringing, waiting = rows[0]
        return PacingStatus(float(ratio), reason, from_us(at), ready, ringing, waiting)


class ComplianceQueries:
    """A tenant's abandoned-call settings, columns of ``tenants`` (migration 0015)."""

    _conn: Connection

    def compliance(self, tenant_id: TenantId) -> ComplianceSettings | None:
        rows = self._conn.execute(
            f"SELECT {', '.join(COMPLIANCE_COLUMNS)} FROM tenants WHERE id = %s", (tenant_id,)
        )
        return compliance_from_row(rows[0]) if rows else None

    def set_compliance(self, tenant_id: TenantId, settings: ComplianceSettings) -> None:
        message = settings.message
        self._conn.execute(
            "UPDATE tenants SET regime = %s, abandon_target = %s, info_message = %s,"
            " info_recording = %s, opt_out_key = %s, attempts_per_day = %s,"
            " false_machine_rate = %s WHERE id = %s",
            (
                settings.regime.value,
                float(settings.target),
                None if message is None else message.text,
                None if message is None else message.recording,
                settings.opt_out_key,
                settings.attempts_per_day,
                float(settings.false_machine_rate),
                tenant_id,
            ),
        )

    def backfill_number_calls(self, tenant_id: TenantId, since: datetime) -> None:
        backfill_number_calls(self._conn, tenant_id, since)


# The columns compliance_from_row reads, in its order (dialing_contexts selects them too).
COMPLIANCE_COLUMNS = (
    "regime",
    "abandon_target",
    "info_message",
    "info_recording",
    "opt_out_key",
    "attempts_per_day",
    "false_machine_rate",
)


def compliance_from_row(row: Sequence[Any]) -> ComplianceSettings:
    regime, target, text, recording, key, per_day, false_machines = row
    message = None
    if text is not None or recording is not None:
        message = InfoMessage(text or "", recording)
    return ComplianceSettings(
        regime=Regime(regime),
        target=float(target),
        message=message,
        opt_out_key=key,
        attempts_per_day=per_day,
        false_machine_rate=stored_false_machine_rate(float(false_machines)),
    )
