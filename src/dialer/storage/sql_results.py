"""Store queries over what a campaign has done: its attempts in order, and its progress."""

from dataclasses import replace

from dialer.domain.attempt import AttemptResult
from dialer.domain.codes import Outcome, Stage
from dialer.domain.destination import DestinationState
from dialer.domain.ids import CampaignId, DestinationId
from dialer.domain.progress import CampaignProgress
from dialer.domain.sms_outbox import SmsRecord
from dialer.storage.database import Connection
from dialer.storage.rows import from_us
from dialer.storage.sql_agent_calls import AGENT_SELECT, agent_from_values
from dialer.storage.sql_counts import destination_tallies
from dialer.storage.sql_sms_rows import SMS_SELECT, sms_record

# Reads the attempts_campaign index (campaign_id, id) as one range scan from the cursor on.
RESULTS_QUERY = (
    "SELECT a.id, coalesce(d.number_e164, d.number_raw), d.name, a.attempt_number, a.outcome,"
    " a.stage, a.queued_at, a.originated_at, a.answered_at, a.ended_at, a.cause, a.keys,"
    f" a.sms_sent, a.destination_id, {AGENT_SELECT}"
    " FROM attempts a JOIN destinations d ON d.id = a.destination_id"
    " WHERE a.campaign_id = %s AND a.id > %s ORDER BY a.id LIMIT %s"
)


def with_texts(conn: Connection, results: list[AttemptResult]) -> list[AttemptResult]:
    """The results with their texts: one more query, for the page's attempts that queued one."""
    texting = sorted({r.destination_id for r in results if r.sms_sent})
    if not texting:
        return results
    found: dict[tuple[int, int], list[SmsRecord]] = {}
    for start in range(0, len(texting), 500):
        chunk = texting[start : start + 500]
        marks = ", ".join("%s" for _ in chunk)
        for destination_id, attempt_number, *row in conn.execute(
            f"SELECT destination_id, attempt_number, {SMS_SELECT} FROM sms_outbox"
            f" WHERE destination_id IN ({marks}) ORDER BY id",
            chunk,
        ):
            found.setdefault((destination_id, attempt_number), []).append(sms_record(row))
    return [
        replace(r, sms=tuple(found.get((r.destination_id, r.attempt_number), ())))
        if r.sms_sent
        else r
        for r in results
    ]


class ResultQueries:
    _conn: Connection

    def attempt_results(
        self, campaign_id: CampaignId, after: int | None, limit: int
    ) -> list[AttemptResult]:
        """The campaign's attempts in the order they were recorded, after attempt id ``after``."""
        rows = self._conn.execute(RESULTS_QUERY, (campaign_id, after or 0, limit))
        results = [
            AttemptResult(
                attempt_id=aid,
                campaign_id=campaign_id,
                destination_id=DestinationId(destination_id),
                number=number,
                name=name,
                attempt_number=attempt_number,
                outcome=Outcome(outcome),
                stage=Stage(stage),
                queued_at=from_us(queued),
                originated_at=None if originated is None else from_us(originated),
                answered_at=None if answered is None else from_us(answered),
                ended_at=None if ended is None else from_us(ended),
                cause=cause,
                keys=keys,
                sms_sent=bool(sms),
                agent=agent_from_values(agent),
            )
            for (
                aid,
                number,
                name,
                attempt_number,
                outcome,
                stage,
                queued,
                originated,
                answered,
                ended,
                cause,
                keys,
                sms,
                destination_id,
                *agent,
            ) in rows
        ]
        return with_texts(self._conn, results)

    def progress(self, campaign_id: CampaignId) -> CampaignProgress:
        """From the counters of migration 0006: the same cost for any size of campaign."""
        tally = destination_tallies(self._conn, [campaign_id])[campaign_id]
        states = dict.fromkeys(DestinationState, 0)
        outcomes: dict[Outcome, int] = {}
        for (state, outcome), count in tally.items():
            states[DestinationState(state)] += count
            if state == DestinationState.DONE.value and outcome:
                outcomes[Outcome(outcome)] = outcomes.get(Outcome(outcome), 0) + count
        return CampaignProgress(
            pending=states[DestinationState.PENDING],
            in_flight=states[DestinationState.IN_FLIGHT],
            done=states[DestinationState.DONE],
            cancelled=states[DestinationState.CANCELLED],
            outcomes=dict(sorted(outcomes.items(), key=lambda item: item[0].value)),
        )
