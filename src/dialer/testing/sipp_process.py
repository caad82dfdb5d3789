"""A SIPp process a test runs: its scratch folder, its launch, and its end (every SIPp the
suite starts, the fake carrier and the agents' phones, shares this life)."""

import shutil
import signal
import subprocess
import tempfile
from abc import ABC, abstractmethod
from pathlib import Path
from types import TracebackType
from typing import Self


class SippProcess(ABC):
    """Subclasses say how to start (``start``, through ``launch``); stopping is the same."""

    def __init__(self, prefix: str) -> None:
        self.root = Path(tempfile.mkdtemp(prefix=prefix))
        self.process: subprocess.Popen[bytes] | None = None

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
