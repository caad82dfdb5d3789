"""A SIPp process a test runs: its scratch folder, its launch, its error log, and its end (every
SIPp the suite starts, the fake carrier and the agents' phones, shares this life).

Each one started and not yet stopped is listed by ``SippProcess.running()``, and what one logged
before it stopped is kept until the next test, so that a failing test's report can show what
SIPp itself saw go wrong (dialer.testing.sipp_report).
"""

import shutil
import signal
import subprocess
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Self

ERROR_LOG_HEADER = "The following events occurred:"


class SippProcess(ABC):
    """Subclasses say how to start (``start``, through ``launch``, with ``-trace_err`` into
    ``error_file``); stopping is the same."""

    _running: ClassVar[list["SippProcess"]] = []
    # (label, new errors) of each one stopped with something new in its log, until the next
    # ``mark_all_errors``: a SIPp a test ran in a ``with`` block is gone before its report.
    _stopped: ClassVar[list[tuple[str, str]]] = []

    def __init__(self, prefix: str) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self.process: subprocess.Popen[bytes] | None = None
        self._errors_marked = 0  # the length of the error log at ``mark_all_errors``

    @classmethod
    def running(cls) -> list["SippProcess"]:
        """The SIPp processes started and not yet stopped, oldest first."""
        return list(cls._running)

    @classmethod
    def stopped(cls) -> list[tuple[str, str]]:
        """(label, new errors) of each SIPp stopped since ``mark_all_errors`` that logged new
        errors since then."""
        return list(cls._stopped)

    @classmethod
    def mark_all_errors(cls) -> None:
        """From now on, ``errors_since_mark`` of each running SIPp reads only what is new."""
        cls._stopped.clear()
        for sipp in cls._running:
            sipp._errors_marked = len(sipp.errors())

    def errors_since_mark(self) -> str:
        return self.errors()[self._errors_marked :]

    @property
    def error_file(self) -> Path:
        """Where SIPp logs what went wrong (``-trace_err -error_file``)."""
        return self.root / "errors.log"

    @property
    def label(self) -> str:
        """Which SIPp this is, for a report."""
        return f"{type(self).__name__} in {self.root}"

    def errors(self) -> str:
        """SIPp's error log (unexpected messages, receive timeouts, aborted calls): empty when
        nothing was logged."""
        try:
            text = self.error_file.read_text(errors="replace")
        except FileNotFoundError:
            return ""
        return "" if text.strip() == ERROR_LOG_HEADER else text

    @abstractmethod
    def start(self, timeout: float = 10.0) -> Self:
        """Launch SIPp and return once it listens."""

    def launch(self, args: list[str], stderr_file: Path) -> "subprocess.Popen[bytes]":
        """Run SIPp with ``args`` in the scratch folder, its stderr kept in ``stderr_file``
        (nothing reads its screen or its stdin)."""
        with stderr_file.open("wb") as stderr:
            self.process = subprocess.Popen(
                args,
                cwd=self.root,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        SippProcess._running.append(self)
        return self.process

    def stop(self) -> None:
        """End SIPp at once (calls in progress just stop) and remove its files."""
        try:
            if self.process is not None and self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(5)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(5)
        finally:
            if self in SippProcess._running:
                SippProcess._running.remove(self)
                if errors := self.errors_since_mark():
                    SippProcess._stopped.append((self.label, errors))
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> Self:
        return self if self.process is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
