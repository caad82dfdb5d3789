"""Attempt history written straight into the SQL store, for tests that need a past without
dialling it (the engine records attempts through ``session.queue.finish_attempts``)."""

from typing import Any

from dialer.domain.attempt import AttemptRecord
from dialer.storage.rows import opt_us, to_us


def record_attempt(session: Any, attempt: AttemptRecord) -> None:
    """Insert ``attempt`` and make it its destination's last; ``session`` is a SqlSession."""
    conn = session._conn
    conn.execute(
        "INSERT INTO attempts (destination_id, attempt_number, outcome, stage, queued_at,"
        " originated_at, answered_at, ended_at, cause, keys, sms_sent, campaign_id)"
        " SELECT %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, campaign_id"
        " FROM destinations WHERE id = %s",
        (
            attempt.destination_id,
            attempt.attempt_number,
            attempt.outcome.value,
            attempt.stage.value,
            to_us(attempt.queued_at),
            opt_us(attempt.originated_at),
            opt_us(attempt.answered_at),
            opt_us(attempt.ended_at),
            attempt.cause,
            attempt.keys,
            int(attempt.sms_sent),
            attempt.destination_id,
        ),
    )
    conn.execute(
        "UPDATE destinations SET attempts_made = %s, last_outcome = %s, last_stage = %s"
        " WHERE id = %s",
        (
            attempt.attempt_number,
            attempt.outcome.value,
            attempt.stage.value,
            attempt.destination_id,
        ),
    )
