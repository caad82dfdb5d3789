"""A progress bar on the terminal for long CLI jobs (file imports); silent when stderr is not a
terminal, so logs and pipes get only the command's JSON answer."""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)


class ImportProgress:
    def __init__(self, progress: Progress, total: int) -> None:
        self._progress = progress
        self._total = total

    @contextmanager
    def stage(self, name: str) -> Iterator[Callable[[int], None]]:
        """A bar over the file's bytes for one pass; yields the function that advances it."""
        task = self._progress.add_task(name, total=self._total)

        def advance(done: int) -> None:
            self._progress.advance(task, done)

        yield advance
        self._progress.update(task, completed=self._total)


@contextmanager
def import_progress(total_bytes: int) -> Iterator[ImportProgress]:
    console = Console(stderr=True)
    progress = Progress(
        TextColumn("{task.description:>9}"),
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
        console=console,
        disable=not console.is_terminal,
    )
    with progress:
        yield ImportProgress(progress, total_bytes)
