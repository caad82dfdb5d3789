"""The ids of the attempt an engine line is about, for structured logs.

A context variable, so every line logged while a call runs (in its task, or a thread it hands
work to: both copy the context) carries them without threading them through every call;
``--log-format json`` writes them on each line (cli/logs.py).
"""

import logging
from contextvars import ContextVar

from dialer.domain.attempt import DialJob

_IDS: ContextVar[dict[str, int] | None] = ContextVar("dialer_log_ids", default=None)

FIELDS = ("campaign_id", "destination_id", "attempt")


def about_attempt(job: DialJob) -> None:
    """From here on, in this task, lines are about this attempt."""
    _IDS.set(
        {
            "campaign_id": job.campaign_id,
            "destination_id": job.destination_id,
            "attempt": job.attempt_number,
        }
    )


def ids(campaign_id: int, destination_id: int, attempt: int) -> dict[str, int]:
    """``extra=`` for a line about an attempt logged outside its call's task."""
    return {"campaign_id": campaign_id, "destination_id": destination_id, "attempt": attempt}


class ContextFilter(logging.Filter):
    """Copies the ids onto each record (as attributes, like ``extra=``), unless the call
    gave its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        ids = _IDS.get()
        if ids:
            for name, value in ids.items():
                if not hasattr(record, name):
                    setattr(record, name, value)
        return True
