"""The directory that lets ``dialer serve --workers N`` sum its processes' metrics.

prometheus-client's multiprocess mode: each process writes its metrics to files in
PROMETHEUS_MULTIPROC_DIR, and a scrape of any one process reads and sums them all. The
library decides the mode when it is first imported, so this runs before anything imports
it; the API copies inherit the variable. An operator who sets the variable keeps it (and
may point ``dialer worker`` processes on the same machine at the same directory, so one
scrape covers them too); else serve makes a fresh directory and removes it at exit, since
files of an earlier run would be summed in (docs/metrics.md).
"""

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


@contextmanager
def shared(needed: bool) -> Iterator[None]:
    if not needed or os.environ.get(VARIABLE):
        yield
        return
    path = tempfile.mkdtemp(prefix="dialer-metrics-")
    os.environ[VARIABLE] = path
    try:
        yield
    finally:
        os.environ.pop(VARIABLE, None)
        shutil.rmtree(path, ignore_errors=True)
