"""Terminal output of ``dialer simulate``: a progress bar while it runs, a summary after."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

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
