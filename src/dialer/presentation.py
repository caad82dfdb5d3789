"""Terminal output of ``dialer simulate``: a progress bar while it runs, a summary after."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from dialer.agent_figures import AgentFigures, AgentTally
from dialer.domain.codes import Outcome, Stage
from dialer.engine.stats import EngineStats
from dialer.simulation import Simulation

_console = Console()


@contextmanager
def progress_bar(total: int) -> Iterator[Callable[[EngineStats], None]]:
    with Progress(
        TextColumn("[bold]dialling"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[attempts]} attempts"),
        TimeElapsedColumn(),
        console=_console,
        transient=False,
    ) as progress:
        task = progress.add_task("dialling", total=total, attempts=0)

        def update(stats: EngineStats) -> None:
            progress.update(task, completed=stats.done, attempts=stats.recorded)

        yield update


def _table(title: str, rows: list[tuple[str, int]], total: int) -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("")
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    for name, count in rows:
        table.add_row(name, str(count), f"{100 * count / total:.1f}%" if total else "-")
    return table


def print_summary(sim: Simulation, elapsed: float) -> None:
    stats = sim.runtime.engine.stats
    simulated = sim.runtime.timer.now() - sim.started_sim
    finals = [(o.api_name, stats.final[o]) for o in Outcome if stats.final[o]]
    attempts = [(o.api_name, stats.outcomes[o]) for o in Outcome if stats.outcomes[o]]
    answered = [
        (s.api_name, stats.stages[s]) for s in Stage if stats.stages[s] and s is not Stage.NONE
    ]
    _console.print(_table("Destinations by final outcome", finals, stats.done))
    _console.print(_table("Attempts by outcome", attempts, stats.recorded))
    _console.print(_table("Stages reached", answered, sum(n for _, n in answered)))
    rate = stats.recorded / elapsed if elapsed > 0 else 0.0
    _console.print(
        f"campaign {sim.campaign.id} ({sim.campaign.code}): {stats.done} of {sim.numbers}"
        f" destinations finished, {stats.recorded} attempts ({stats.originated} dialled,"
        f" {stats.postponed} postponed for calling hours), {stats.sms_sent} SMS sent\n"
        f"simulated {simulated} in {elapsed:.1f} s real: {rate:,.0f} calls/s"
    )
    if sim.figures is not None:
        print_agent_figures(sim.figures)


def _figure(value: float | None, form: str) -> str:
    return "-" if value is None else format(value, form)


def _agent_row(tally: AgentTally) -> list[str]:
    occupancy = tally.occupancy
    return [
        tally.member,
        str(tally.calls),
        _figure(tally.logged_in / 3600, ".2f"),
        _figure(tally.talk_minutes_per_hour, ".1f"),
        "-" if occupancy is None else f"{100 * occupancy:.1f}%",
        _figure(tally.mean_wait, ".1f"),
    ]


def agent_table(figures: AgentFigures) -> Table:
    """Per agent and for the team: calls, hours logged in, talk minutes per agent-hour,
    occupancy ((talk + wrap-up) / logged-in time), mean wait between calls."""
    table = Table(title="Agents", title_justify="left")
    table.add_column("agent")
    for name in ("calls", "hours in", "talk min/h", "occupancy", "mean wait s"):
        table.add_column(name, justify="right")
    for tally in sorted(figures.agents.values(), key=lambda t: _member_key(t.member)):
        table.add_row(*_agent_row(tally))
    table.add_section()
    table.add_row(*_agent_row(figures.team()), style="bold")
    return table


def _member_key(member: str) -> tuple[str, int]:
    head, _, tail = member.rpartition("-")
    return (head, int(tail)) if tail.isdigit() else (member, 0)


def print_agent_figures(figures: AgentFigures) -> None:
    _console.print(agent_table(figures))
    p50, p95 = figures.to_agent_percentile(0.5), figures.to_agent_percentile(0.95)
    _console.print(
        f"answer to agent: p50 {_figure(p50, '.2f')} s, p95 {_figure(p95, '.2f')} s over"
        f" {len(figures.to_agent)} bridged calls; abandoned (CallDropped): {figures.abandoned}"
    )
