"""bench/amd_words.py's perfect recogniser: a word counts only once it has been said (plus the
recogniser's latency), and the labels' phrases are laid on their speech segments in order."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

import amd_words as words


def row(text: str, segments: str, file: str = "x.wav") -> dict[str, str]:
    return {"file": file, "text": text, "segments": segments}


def test_words_are_spread_over_their_segment_by_letters() -> None:
    said = dict(words.said(row("Er, | hello there.", "1000-1300;2000-3200")))
    assert said["er"] == 1300.0  # a phrase's last word ends with its segment
    # "hello" has 6 of the 12 weighted letters (each word's letters and a space)
    assert said["hello"] == pytest.approx(2600.0)
    assert said["there"] == 3200.0
    assert said["hello there"] == 3200.0  # a pair counts once its second word is said
    assert "er hello" not in said  # pairs do not cross a pause between phrases


def test_one_phrase_said_in_every_segment() -> None:
    said = words.said(row("Hello?", "840-1275;3010-3445"))
    assert said == [("hello", 1275.0), ("hello", 3445.0)]


def test_phrases_and_segments_must_agree() -> None:
    with pytest.raises(ValueError, match="2 phrases, 3 segments"):
        words.said(row("Hi. | Bye.", "0-100;200-300;400-500"))


def test_the_bag_holds_only_what_has_been_said_by_then() -> None:
    r = row("Please leave a message.", "1000-2000", "m.wav")
    vocab = words.vocabulary([r, row("Hello?", "0-500", "h.wav")])
    stack = words.bag(vocab, latency_ms=300)
    said = dict(words.said(r))
    before = stack([r], int(said["message"]) + 299)[0]
    after = stack([r], int(said["message"]) + 300)[0]
    assert before[vocab["message"]] == 0.0
    assert after[vocab["message"]] == 1.0
    assert before[vocab["please"]] == 1.0
    assert after[vocab["hello"]] == 0.0  # never said here
    assert stack([r], 999).sum() == 0.0


def test_a_word_no_training_text_says_has_no_column() -> None:
    vocab = words.vocabulary([row("Hello?", "0-500")])
    stack = words.bag(vocab, latency_ms=0)
    assert stack([row("Hullo?", "0-500", "y.wav")], 10_000).sum() == 0.0


@pytest.mark.parametrize(
    ("reference", "hypothesis", "errors"),
    [
        ("leave a message", "leave a message", 0),
        ("leave a message", "leave message", 1),  # a deletion
        ("leave a message", "please leave a message", 1),  # an insertion
        ("you have reached", "you breached", 2),  # a substitution and a deletion
        ("", "hello", 1),
        ("hello", "", 1),
    ],
)
def test_word_errors(reference: str, hypothesis: str, errors: int) -> None:
    assert words.word_errors(reference.split(), hypothesis.split()) == errors


def test_the_recogniser_is_read_at_the_latest_anchor_before_a_point() -> None:
    transcripts = {"m.wav": {str(a): f"words at {a}" for a in words.amd_asr.ANCHORS_MS}}
    text = words.heard(transcripts, words.told(0))
    m = row("Please leave a message.", "1000-2000", "m.wav")
    assert text(m, 1499) == ""  # before the first anchor the recogniser has said nothing
    assert text(m, 1500) == "words at 1500"
    assert text(m, 3499) == "words at 3000"
    assert text(m, 10_000) == "words at 5000"
    # a row it did not transcribe (the train pool's) reads the labels' words
    h = row("Hello there.", "0-1200", "h.wav")
    assert text(h, 1200) == "hello there"
    assert text(h, 1199) == "hello"
