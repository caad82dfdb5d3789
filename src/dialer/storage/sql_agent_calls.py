"""An attempt's agent call (migration 0013) in the SQL store: its columns on ``attempts``, and
what a concluded agent call changes beside its attempt (the destination's callback agent, an
opt-out's do-not-call entry).

Only attempts with an agent call touch any of this, so an IVR campaign's batches are recorded
with the same statements as before.
"""

from collections.abc import Sequence
from typing import Any

from dialer.domain.attempt import AgentCall, FinishedAttempt
from dialer.domain.codes import Stage
from dialer.storage.database import Connection
from dialer.storage.rows import from_us, opt_us, to_us

# In this order after the attempt's own columns; agent_queued_at is never NULL on an agent call.
AGENT_COLUMNS = (
    "agent_queued_at",
    "agent_id",
    "agent_member",
    "bridged_at",
    "talk_ended_at",
    "wrap_up_ended_at",
    "disposition",
    "callback_at",
    "callback_agent_id",
)
# The same columns as a query's select list, for an attempts table aliased ``a``.
AGENT_SELECT = ", ".join(f"a.{column}" for column in AGENT_COLUMNS)


def agent_values(agent: AgentCall | None) -> tuple[Any, ...]:
    """The AGENT_COLUMNS values of an attempt (all NULL when it had no agent call)."""
    if agent is None:
        return (None,) * len(AGENT_COLUMNS)
    return (
        to_us(agent.queued_at),
        agent.agent_id,
        agent.member,
        opt_us(agent.bridged_at),
        opt_us(agent.talk_ended_at),
        opt_us(agent.wrap_up_ended_at),
        None if agent.disposition is None else agent.disposition.value,
        opt_us(agent.callback_at),
        agent.callback_agent_id,
    )


def agent_from_values(values: Sequence[Any]) -> AgentCall | None:
    """The AgentCall read back from AGENT_COLUMNS' values, None for an attempt without one."""
    queued, agent_id, member, bridged, talk_ended, wrap_up_ended, stage, callback, cb_agent = values
    if queued is None:
        return None
    return AgentCall(
        queued_at=from_us(queued),
        agent_id=agent_id,
        member=member,
        bridged_at=None if bridged is None else from_us(bridged),
        talk_ended_at=None if talk_ended is None else from_us(talk_ended),
        wrap_up_ended_at=None if wrap_up_ended is None else from_us(wrap_up_ended),
        disposition=None if stage is None else Stage(stage),
        callback_at=None if callback is None else from_us(callback),
        callback_agent_id=cb_agent,
    )


def note_agent_calls(conn: Connection, finished: Sequence[FinishedAttempt], stamp: int) -> None:
    """What agent calls change beside their attempts, in the attempts' transaction: each
    destination's callback agent (set by a callback, cleared by any other agent call), and the
    opted-out numbers on their tenant's do-not-call list."""
    calls = sorted(
        (f.record.destination_id, f.callback_agent_id)
        for f in finished
        if f.record.agent is not None
    )
    if calls:
        conn.execute_many(
            "UPDATE destinations SET callback_agent_id = %s WHERE id = %s",
            [(agent_id, destination_id) for destination_id, agent_id in calls],
        )
    opt_outs = sorted({(f.tenant_id, f.opt_out) for f in finished if f.opt_out is not None})
    if opt_outs:
        conn.execute_many(
            "INSERT INTO dnc_numbers (tenant_id, number, created_at) VALUES (%s, %s, %s)"
            " ON CONFLICT (tenant_id, number) DO NOTHING",
            [(tenant_id, number, stamp) for tenant_id, number in opt_outs],
        )
