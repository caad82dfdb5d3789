"""The ids of the attempt an engine line is about, for structured logs.

A context variable, so every line logged while a call runs (in its task, or a thread it hands
work to: both copy the context) carries them without threading them through every call;
``--log-format json`` writes them on each line (cli/logs.py).
"""

import logging
from contextvars import ContextVar

from dialer.domain.attempt import DialJob

# The job itself, not a dict of its ids: a call sets it once and most calls log nothing, so
# the names are only read off it when a line is written.
_JOB: ContextVar[DialJob | None] = ContextVar("dialer_log_job", default=None)

FIELDS = ("campaign_id", "destination_id", "attempt")


# From here on, in this task, lines are about this attempt: about_attempt(job). The variable's
# own set, not a function around it: one Python call per attempt fewer (issue 11).
about_attempt = _JOB.set


def ids(campaign_id: int, destination_id: int, attempt: int) -> dict[str, int]:
    """``extra=`` for a line about an attempt logged outside its call's task."""
    return {"campaign_id": campaign_id, "destination_id": destination_id, "attempt": attempt}


class ContextFilter(logging.Filter):
    """Copies the ids onto each record (as attributes, like ``extra=``), unless the call
    gave its own."""

    def filter(self, record: logging.LogRecord) -> bool:
        job = _JOB.get()
        if job is not None:
            for name, value in zip(
                FIELDS, (job.campaign_id, job.destination_id, job.attempt_number), strict=True
            ):
                if not hasattr(record, name):
                    setattr(record, name, value)
        return True
