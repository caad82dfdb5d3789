"""A pytest plugin: a failing test's report shows what each SIPp logged as errors during it.

SIPp sees the other side of what a SIP test checks: a message it did not expect, a call it
aborted, a phone that hung up because nobody else did (sipp/phone.xml). Without this, a flaky
SIP test fails with an assertion about the dialer, and why the far end did what it did is
deleted with SIPp's scratch folder. Each SIPp, running or stopped meanwhile, that logged
something during the test adds a section ("SIPp: the SIPp phone on port ...") with those
entries to the report, beside the captured output.

tests/conftest.py loads it (``pytest_plugins``).
"""

import re
from collections.abc import Generator

import pytest

from dialer.testing.sipp_process import ERROR_LOG_HEADER, SippProcess

# A whole module's calls can fill a log: the end says most about the failure.
MAX_CHARS = 8_000
# SIPp writes its entries back to back; each starts with a date and a tab.
_ENTRY = re.compile(r"(?<=[^\n])(?=\d{4}-\d\d-\d\d\t)")


def sipp_sections() -> list[tuple[str, str]]:
    """(title, entries) of each SIPp, running or stopped, that logged errors during this test."""
    running = [(sipp.label, sipp.errors_since_mark()) for sipp in SippProcess.running()]
    sections = []
    for label, errors in [*SippProcess.stopped(), *running]:
        text = _ENTRY.sub("\n", errors.strip().removeprefix(ERROR_LOG_HEADER).strip())
        if text:
            if len(text) > MAX_CHARS:
                text = "[... earlier entries left out ...]\n" + text[-MAX_CHARS:]
            sections.append((f"SIPp: {label}", text))
    return sections


def pytest_runtest_logstart(nodeid: str, location: tuple[str, int | None, str]) -> None:
    """What a SIPp logged during an earlier test is that test's story, not this one's."""
    SippProcess.mark_all_errors()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed:
        for title, text in sipp_sections():
            report.sections.append((title, text))
    return report
