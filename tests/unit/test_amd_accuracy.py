"""The answer-detection benchmark's rules (bench/amd_accuracy.py): when a greeting's end counts as
found, and what each kind of answer is expected to be judged."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

import amd_accuracy as bench
from dialer.telephony.detection import GreetingEnd


def outcome(truth: str, verdict: str, fired: GreetingEnd | None = None) -> bench.Outcome:
    return bench.Outcome(
        file="x.wav",
        half="tune",
        kind="m-beep" if truth == "machine" else "h-short",
        truth=truth,
        verdict=verdict,
        after_ms=2000,
        reason="",
        fed_ms=3000,
        cpu_s=0.0,
        greeting_end=fired,
        greeting_truth_ms=5000 if truth == "machine" else None,
        beep_end_ms=5000 if truth == "machine" else None,
        speech_end_ms=4000,
        duration_ms=9000,
    )


@pytest.mark.parametrize(
    ("fired_at", "found"), [(4999, False), (5000, True), (5300, True), (5301, False)]
)
def test_a_greeting_end_is_found_from_its_true_end_to_300_ms_after(
    fired_at: int, found: bool
) -> None:
    o = outcome("machine", "machine", GreetingEnd("BEEP-1000", fired_at))
    assert bench.greeting_found(o) is found
    assert bench.lateness(o) == fired_at - 5000


def test_waiting_out_the_greeting_is_not_finding_its_end() -> None:
    assert not bench.greeting_found(
        outcome("machine", "machine", GreetingEnd("MAXWAIT-20000", 5100))
    )
    assert not bench.greeting_found(outcome("machine", "human"))


def test_dead_air_is_expected_to_be_judged_a_machine() -> None:
    assert outcome("silence", "machine").right
    assert not outcome("silence", "human").right
    assert not outcome("human", "machine").right


def test_the_targets_name_what_a_half_misses() -> None:
    people = [outcome("human", "human") for _ in range(99)] + [outcome("human", "machine")]
    machines = [outcome("machine", "machine", GreetingEnd("BEEP-1000", 5050)) for _ in range(100)]
    assert bench.check(people + machines) == []
    people[0] = outcome("human", "machine")
    assert bench.check(people + machines) == ["false machine > 1.5%"]


def test_the_corpus_is_chosen_by_name_or_by_its_labels_columns(tmp_path: Path) -> None:
    assert bench.corpus_dir("new")[0] == bench.amd_corpus2.DEFAULT_OUT
    assert bench.corpus_dir("old")[0] == bench.amd_corpus.DEFAULT_OUT
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "labels.csv").write_text("file,half,label,kind,speech_start_ms,speech_end_ms\n")
    (new / "labels.csv").write_text(",".join(bench.amd_corpus2.COLUMNS) + "\n")
    assert bench.corpus_dir(str(old)) == (old, bench.CORPORA["old"][1])
    assert bench.corpus_dir(str(new)) == (new, bench.CORPORA["new"][1])
