"""Time an agent spent in each state, from the stored changes of its sessions (the day
report: GET /api/agents/report)."""

from datetime import datetime, timedelta

from dialer.domain.agent_session import AgentState, StateChange


def time_in_states(
    changes: list[StateChange], start: datetime, end: datetime
) -> dict[int, dict[AgentState, timedelta]]:
    """Per agent, the time spent in each state within [start, end), from its changes in order
    of time (the last change before ``start`` included, so a state that began earlier counts)."""
    spans: dict[int, dict[AgentState, timedelta]] = {}
    last: dict[int, StateChange] = {}
    for change in sorted(changes, key=lambda c: (c.at, c.id or 0)):
        before = last.get(change.agent_id)
        if before is not None:
            _add(spans, before, change.at, start, end)
        last[change.agent_id] = change
    for change in last.values():
        _add(spans, change, end, start, end)
    return spans


def _add(
    spans: dict[int, dict[AgentState, timedelta]],
    change: StateChange,
    until: datetime,
    start: datetime,
    end: datetime,
) -> None:
    begin, finish = max(change.at, start), min(until, end)
    if finish <= begin or change.state is AgentState.OFFLINE:
        return
    per_state = spans.setdefault(change.agent_id, {})
    per_state[change.state] = per_state.get(change.state, timedelta()) + (finish - begin)
