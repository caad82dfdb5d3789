"""The limits test's own measures over a call log, checked on hand-made calls."""

from pathlib import Path

import pytest

from dialer.testing.call_log import SECOND, LoggedCall, most_at_once, most_in_a_second, read_calls


def call(started: float, ended: float) -> LoggedCall:
    return LoggedCall("1:1", "w", int(started * SECOND), int(started * SECOND), int(ended * SECOND))


def test_calls_at_once_free_a_line_at_the_instant_they_end() -> None:
    assert most_at_once([]) == 0
    assert most_at_once([call(0, 2), call(1, 3), call(2, 4)]) == 2
    assert most_at_once([call(0, 5), call(1, 2), call(1.5, 3), call(2.5, 4)]) == 3


def test_one_second_windows_are_half_open() -> None:
    assert most_in_a_second([]) == 0
    second = [0, SECOND // 2, SECOND - 1, SECOND]
    assert most_in_a_second(second) == 3
    assert most_in_a_second([0, 0, 0, 2 * SECOND]) == 3


def test_a_log_gives_each_call_its_claim_start_and_end(tmp_path: Path) -> None:
    log = tmp_path / "calls.log"
    log.write_text("start 7:1 10 12\nstart 8:2 11 13\nend 7:1 40\n")
    with pytest.raises(ValueError, match="8:2"):
        read_calls(log, "w")
    calls = read_calls(log, "w", died_at=50)
    assert [(c.destination, c.claimed, c.started, c.ended) for c in calls] == [
        (7, 10, 12, 40),
        (8, 11, 13, 50),
    ]
