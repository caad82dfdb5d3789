"""The broad answer-detection corpus (bench/amd_corpus2.py): its tune / held-out split shares no
voice and no text, it is deterministic, and its labels say where the audio's speech and beeps
are. A few items of the kinds that carry tones, made for real (espeak-ng and sox)."""

import csv
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))

import amd_corpus2 as corpus
import amd_corpus2_pools as pools

SEED = 5


def test_the_halves_share_no_base_voice_variant_or_phrase() -> None:
    tune, held = pools.POOLS["tune"], pools.POOLS["held-out"]
    assert not pools.all_voices(tune) & pools.all_voices(held)
    assert not pools.sentences(tune) & pools.sentences(held)
    assert "0 shared phrases" in pools.check_split()
    assert pools.voices(tune)[0], "women's voices in the tune half"
    assert pools.voices(held)[0], "and in the held-out half"


def test_the_split_check_fails_on_a_shared_phrase(monkeypatch: pytest.MonkeyPatch) -> None:
    held = pools.POOLS["held-out"]
    leaky = pools.Pool(**{**{f: getattr(held, f) for f in held.__slots__}, "short": ("Hello?",)})
    monkeypatch.setitem(pools.POOLS, "held-out", leaky)
    with pytest.raises(AssertionError, match="hello"):
        pools.check_split()


def test_the_train_pool_shares_nothing_with_the_held_out_half() -> None:
    train, held = pools.POOLS["train"], pools.POOLS["held-out"]
    assert not pools.sentences(train) & pools.sentences(held)
    assert not pools.all_voices(train) & pools.all_voices(held)
    assert len(train.greetings) > len(pools.POOLS["tune"].greetings)
    pools.check_split()


def test_the_split_check_fails_on_a_held_out_text_in_the_train_pool(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    train = pools.POOLS["train"]
    leaky = pools.Pool(
        **{
            **{f: getattr(train, f) for f in train.__slots__},
            "greetings": (*train.greetings, ("This mailbox is full.",)),
        }
    )
    monkeypatch.setitem(pools.POOLS, "train", leaky)
    with pytest.raises(AssertionError, match="mailbox is full"):
        pools.check_split()


def test_the_plan_is_fixed_by_the_seed_and_holds_every_kind() -> None:
    kinds = corpus.plan("tune", 500, SEED)
    assert kinds == corpus.plan("tune", 500, SEED)
    assert kinds != corpus.plan("tune", 500, SEED + 1)
    assert len(kinds) == 500
    assert set(kinds) == set(corpus.KINDS)
    assert min(kinds.count(k) for k in corpus.KINDS if k.startswith("h-")) >= 30


def tone_share(x: np.ndarray, hz: float) -> float:
    """The share of ``x``'s power within 30 Hz of ``hz``."""
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size))) ** 2
    f = np.fft.rfftfreq(x.size, 1 / 8000)
    return float(spectrum[np.abs(f - hz) <= 30].sum() / spectrum[(f > 100) & (f < 3900)].sum())


@pytest.mark.parametrize("kind", ["m-beep", "m-two-tone", "m-pips", "m-no-beep"])
def test_a_machines_labels_say_where_its_greeting_and_beep_are(kind: str) -> None:
    item, x = corpus.ItemMaker("tune", 3, kind, SEED).make()
    assert item.label == "machine"
    assert item.duration_ms == round(x.size / 8)
    assert item.voice in pools.all_voices(pools.POOLS["tune"])
    tones = [t.split("@") for t in item.tones.split(";")] if item.tones else []
    assert len(tones) == {"m-beep": 1, "m-two-tone": 2, "m-pips": 3, "m-no-beep": 0}[kind]
    for hz_text, span in tones:
        start, end = (int(t) * 8 for t in span.split("-"))
        hz = float(hz_text)
        assert 400 <= hz <= 2000
        assert tone_share(x[start + 40 : end - 40], hz) > 0.5, "the tone is where labelled"
        before = x[start - 480 : start - 80]
        if item.speech_end_ms is not None and start - 480 > item.speech_end_ms * 8:
            assert tone_share(before, hz) < 0.5, "and not before it"
    assert item.speech_end_ms is not None
    if tones:
        assert item.greeting_end_ms == item.beep_end_ms == int(tones[-1][1].split("-")[1])
        assert item.beep_start_ms is not None
        assert item.speech_end_ms < item.beep_start_ms
    else:
        assert item.greeting_end_ms == item.speech_end_ms
    assert_speech_where_labelled(item, x)


@pytest.mark.parametrize("kind", ["m-beep", "h-more"])
def test_a_train_item_speaks_the_train_pools_text_in_a_tune_voice(kind: str) -> None:
    item, x = corpus.ItemMaker("train", 3, kind, SEED).make()
    assert item.half == "train"
    assert item.file.startswith("train-")
    assert item.text_id.startswith("train:")
    assert item.voice in pools.all_voices(pools.POOLS["tune"])
    said = {pools.normalise(p) for p in item.text.split(" | ")}
    assert said <= pools.sentences(pools.POOLS["train"])
    assert not said & pools.sentences(pools.POOLS["held-out"])
    assert_speech_where_labelled(item, x)
    # its own generator: not the tune item of the same index and seed said in another pool
    twin = corpus.ItemMaker("tune", 3, kind, SEED).make()[0]
    assert (twin.voice, twin.rate_wpm, twin.pitch) != (item.voice, item.rate_wpm, item.pitch)


@pytest.mark.parametrize("kind", ["h-twice", "h-hesitant", "h-late"])
def test_a_persons_labels_say_where_they_speak(kind: str) -> None:
    item, x = corpus.ItemMaker("held-out", 7, kind, SEED).make()
    assert item.label == "human"
    assert item.greeting_end_ms is None
    assert item.text_id.startswith("held-out:")
    assert item.voice in pools.all_voices(pools.POOLS["held-out"])
    segments = item.segments.split(";")
    assert (
        len(segments)
        == {"h-twice": 2, "h-hesitant": len(item.text.split(" | ")), "h-late": 1}[kind]
    )
    if kind == "h-late":
        assert 1500 <= (item.speech_start_ms or 0) <= 2300
    assert_speech_where_labelled(item, x)


def assert_speech_where_labelled(item: corpus.Item, x: np.ndarray) -> None:
    """Each labelled speech segment is louder than the line after everything has ended."""
    tail = x[-8000:]
    floor = 10 * np.log10(np.mean(tail**2) + 1)
    for segment in item.segments.split(";"):
        start, end = (int(t) * 8 for t in segment.split("-"))
        level = 10 * np.log10(np.mean(x[start:end] ** 2) + 1)
        assert level > floor + 6, (item.file, segment, level, floor)


def test_an_item_is_the_same_every_time() -> None:
    first = corpus.ItemMaker("tune", 11, "m-pips", SEED).make()
    again = corpus.ItemMaker("tune", 11, "m-pips", SEED).make()
    assert first[0] == again[0]
    assert np.array_equal(first[1], again[1])
    assert first[0].tones, "pips were made"


def test_generate_writes_the_labels_columns_in_order(tmp_path: Path) -> None:
    labels = corpus.generate(tmp_path, per_half=1, seed=SEED, jobs=1)
    with labels.open(newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == corpus.COLUMNS
    assert corpus.COLUMNS[:9] == [
        "file",
        "half",
        "label",
        "kind",
        "voice",
        "text_id",
        "speech_start_ms",
        "speech_end_ms",
        "greeting_end_ms",
    ]
    assert {r["half"] for r in rows} == {"tune", "held-out"}
    assert all((tmp_path / r["file"]).exists() for r in rows)


def test_only_the_noisy_kinds_of_person_have_other_voices_behind() -> None:
    def noises(kind: str) -> set[str]:
        return {corpus.ItemMaker("tune", i, kind, SEED).noise_choice(-20.0)[0] for i in range(200)}

    for kind in ("h-short", "h-late", "h-twice", "h-level", "h-hesitant", "h-more"):
        assert not noises(kind) & {"babble", "talk"}, kind
    assert "babble" in noises("h-noisy")
    assert noises("h-babble") == {"talk"}
    assert "babble" in noises("m-beep")
