"""EspeakSynthesizer with the real espeak-ng: rendering, both caches, streaming, voices.

These need the espeak-ng program (scripts/test installs it); without it they fail, saying so,
rather than skip: a missing text-to-speech engine is a broken test host, not an optional extra.
"""

import asyncio
import shutil
from collections.abc import Awaitable
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import numpy as np
import pytest

from dialer.telephony.pcm import SpeechError, pcm_duration
from dialer.telephony.speech import EspeakSynthesizer

T = TypeVar("T")
SENTENCE = "Hello, this is a reminder about your appointment tomorrow at ten."


@pytest.fixture(autouse=True)
def espeak_installed() -> None:
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is not installed: apt-get install espeak-ng (scripts/test does)")


def run(awaitable: Awaitable[T]) -> T:
    async def wrapper() -> T:
        return await awaitable

    return asyncio.run(wrapper())


def test_render_gives_8khz_pcm_of_a_plausible_length() -> None:
    pcm = run(EspeakSynthesizer().render(SENTENCE, None))
    assert len(pcm) % 2 == 0
    # 11 words at espeak-ng's 175 words a minute: about 4 s, pauses included.
    assert timedelta(seconds=2) < pcm_duration(pcm) < timedelta(seconds=7)
    samples = np.frombuffer(pcm, "<i2").astype(np.float64)
    assert np.sqrt(np.mean(samples**2)) > 500  # speech, not silence


def test_a_cache_hit_returns_the_same_bytes_without_running_espeak() -> None:
    synth = EspeakSynthesizer()

    async def twice() -> tuple[bytes, bytes, int]:
        first = await synth.render(SENTENCE, "en")
        runs = synth.runs
        return first, await synth.render(SENTENCE, "en"), runs

    first, second, runs = run(twice())
    assert (runs, synth.runs) == (1, 1)
    assert second == first


def test_concurrent_requests_for_the_same_text_render_once() -> None:
    synth = EspeakSynthesizer()

    async def together() -> list[bytes]:
        return await asyncio.gather(*(synth.render(SENTENCE, "en-gb") for _ in range(6)))

    results = run(together())
    assert synth.runs == 1
    assert len(set(results)) == 1


def test_the_disk_cache_survives_a_new_instance(tmp_path: Path) -> None:
    first = run(EspeakSynthesizer(cache_dir=tmp_path).render(SENTENCE, "en-us"))
    assert len(list(tmp_path.glob("*.pcm"))) == 1
    again = EspeakSynthesizer(cache_dir=tmp_path)
    assert run(again.render(SENTENCE, "en-us")) == first
    assert again.runs == 0


def test_the_disk_cache_is_bounded(tmp_path: Path) -> None:
    synth = EspeakSynthesizer(cache_dir=tmp_path, disk_max_bytes=100_000)

    async def several() -> None:
        for n in range(8):
            await synth.render(f"Message number {n} for you.", None)

    run(several())
    assert sum(p.stat().st_size for p in tmp_path.glob("*.pcm")) <= 100_000


def test_a_broken_disk_cache_costs_renders_not_speech(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "file"
    not_a_directory.write_text("")
    pcm = run(EspeakSynthesizer(cache_dir=not_a_directory).render("Still spoken.", None))
    assert len(pcm) > 8000


def test_voice_speed_and_text_are_all_part_of_the_key() -> None:
    synth = EspeakSynthesizer()

    async def variants() -> list[bytes]:
        return [
            await synth.render("Good morning.", "en"),
            await synth.render("Good morning.", "en+f3"),
            await synth.render("Good evening.", "en"),
            await EspeakSynthesizer(speed=300).render("Good morning.", "en"),
        ]

    renders = run(variants())
    assert len(set(renders)) == 4
    assert len(renders[3]) < len(renders[0])  # faster speech is shorter


def test_stream_yields_phrase_by_phrase_and_adds_up_to_the_whole() -> None:
    text = (
        "Hello Maria. This is Doctor Smith's office, calling about your appointment on Tuesday"
        " the fourth of March, at half past ten in the morning, at the clinic on Main Street."
        " Please arrive ten minutes early. Press one to confirm, or two to cancel."
    )
    synth = EspeakSynthesizer()

    async def both() -> tuple[list[bytes], bytes]:
        return [chunk async for chunk in synth.stream(text, None)], await synth.render(text, None)

    chunks, whole = run(both())
    assert len(chunks) >= 4
    assert all(chunks)
    streamed = pcm_duration(b"".join(chunks)).total_seconds()
    # Phrases rendered apart each end in espeak-ng's closing pause; otherwise the same speech.
    assert 0.85 < streamed / pcm_duration(whole).total_seconds() < 1.3


def test_stream_renders_the_next_phrase_while_the_first_plays() -> None:
    synth = EspeakSynthesizer()

    async def first_then_wait() -> int:
        stream = synth.stream("First phrase here. Second phrase there. Third one.", None)
        await anext(stream)  # the first phrase: the caller starts playing it
        for _ in range(100):  # the event loop turns while it plays; the second phrase starts
            if synth.runs == 2:
                break
            await asyncio.sleep(0)
        runs = synth.runs
        await stream.aclose()
        return runs

    assert run(first_then_wait()) == 2
    assert synth.runs == 2  # the third phrase was never asked for


def test_prepare_renders_the_first_phrase_ahead_of_the_stream() -> None:
    synth = EspeakSynthesizer()
    text = "Good morning Anna. Your parcel arrives today. Press one to confirm."

    async def ring_then_answer() -> tuple[int, int, int]:
        synth.prepare(text, "en-gb")  # while the phone rings
        await synth.render("Good morning Anna.", "en-gb")  # the prepared render, done
        before = synth.runs
        chunks = [chunk async for chunk in synth.stream(text, "en-gb")]
        return before, synth.runs, len(chunks)

    before, after, phrases = run(ring_then_answer())
    assert (before, after, phrases) == (1, 3, 3)  # the first phrase was not rendered again


def test_prepare_with_a_bad_voice_leaves_the_error_to_the_speaker() -> None:
    synth = EspeakSynthesizer()

    async def prepare_then_say() -> None:
        synth.prepare("Hello.", "xx-nowhere")
        await synth.render("Hello.", "xx-nowhere")

    with pytest.raises(SpeechError, match="unknown voice"):
        run(prepare_then_say())


def test_bad_voices_are_speech_errors() -> None:
    synth = EspeakSynthesizer()
    for voice, message in [
        ("en;rm -rf", "not a voice name"),
        ("", "not a voice name"),
        ("xx-nowhere", "unknown voice 'xx-nowhere'"),
        ("en+nosuchvariant", "unknown voice variant 'nosuchvariant'"),
    ]:
        with pytest.raises(SpeechError, match=message):
            run(synth.render("Hello.", voice))
    assert synth.runs == 0


def test_a_missing_program_is_a_speech_error() -> None:
    with pytest.raises(SpeechError, match="not installed"):
        run(EspeakSynthesizer(binary="espeak-ng-not-here").render("Hello.", None))
