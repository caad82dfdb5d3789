"""Voice activity detectors compared on a callee's speech over noise and background talk.

The evidence behind the detector's choice of VAD (docs/speech-and-detection.md). Each item is an
espeak-ng utterance (several voices, 110-230 words a minute) between 1 s of background before and
after, mixed with one background: none, white or pink noise, fan (brown) noise, or babble (three
other voices talking at once), at 5-20 dB below the callee, half through G.711 mu-law. The truth
per 20 ms frame is whether the callee's clean speech is active there (within 30 dB of its
loudest frame). Background talk is *not* speech: a detector should ignore it.

Each detector is fed the mix 20 ms at a time and scored: frame accuracy, speech frames heard
(recall), background frames taken for speech (false alarm, overall and in babble), and CPU per
second of audio. Detectors whose package is not installed are left out, so this runs with the
project's own dependencies (energy and the spectral VAD) and, in a scratch virtualenv, with
``webrtcvad-wheels``, ``ten-vad`` and ``onnxruntime`` (silero-vad's ONNX model, read from the
silero-vad wheel: ``--silero-onnx path/to/silero_vad.onnx``).

    PYTHONPATH=src python bench/amd_vad_compare.py [--items 48] [--silero-onnx FILE]
"""

import argparse
import asyncio
import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from dialer.telephony.speech import EspeakSynthesizer
from dialer.telephony.tones import FrameAnalyser
from dialer.telephony.vad import GateSettings, SpeechGate

RATE = 8000
FRAME = 160
Audio = npt.NDArray[np.float64]
TEXTS = [
    "Hello?",
    "Hullo? Oh hi, sorry, I was just out in the garden.",
    "Er, hello, Mark speaking.",
    "Yes, speaking, who is this?",
    "Hi, you've reached John and Mary, please leave a message after the tone.",
    "The person you are calling is not available.",
    "Hello, this is Sarah.",
    "Good afternoon, how can I help?",
]
BABBLE = [
    "So I told him that we would be there by six but the traffic was terrible.",
    "Did you see the match last night, it was absolutely brilliant in the end.",
    "Can you pass me the salt please, and the pepper while you are at it.",
    "We are thinking of going to Spain in the summer if the prices come down.",
]
VOICES = ["en", "en-us+f3", "en-gb+m3", "en+f4", "en-us+m5", "en+f2"]
BACKGROUNDS = ["none", "white", "pink", "fan", "babble"]
Vad = Callable[[bytes], list[bool]]  # 20 ms of s16le in, one verdict per 20 ms frame out


@dataclass(frozen=True, slots=True)
class Item:
    background: str
    snr: float
    codec: str
    audio: bytes
    truth: npt.NDArray[np.bool_]


def level_db(frames: Audio) -> npt.NDArray[np.float64]:
    return np.asarray(10 * np.log10(np.mean(frames**2, axis=1) / 32768**2 + 1e-12))


def coloured(rng: np.random.Generator, n: int, colour: str) -> Audio:
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    if colour == "pink":
        spectrum[1:] /= np.sqrt(f[1:] / 200)
    if colour == "fan":  # brown noise with a motor hum: most of its power low
        spectrum[1:] /= f[1:] / 100
        hum = np.argmin(np.abs(f - 150))
        spectrum[hum] += np.abs(spectrum).max() * 3
    spectrum[(f < 100) | (f > 3400)] = 0
    x = np.fft.irfft(spectrum, n)
    return np.asarray(x / np.sqrt(np.mean(x**2)))


def ulaw(x: Audio) -> Audio:
    """Through G.711 mu-law and back (the continuous companding law, close enough here)."""
    y = np.clip(x / 32768, -1, 1)
    code = np.round(np.sign(y) * np.log1p(255 * np.abs(y)) / np.log(256) * 127) / 127
    return np.asarray(np.sign(code) * np.expm1(np.abs(code) * np.log(256)) / 255 * 32768)


async def make_items(count: int, seed: int) -> list[Item]:
    rng = np.random.default_rng(seed)
    synths: dict[int, EspeakSynthesizer] = {}

    async def say(text: str, voice: str, speed: int) -> Audio:
        synth = synths.setdefault(speed, EspeakSynthesizer(speed=speed))
        x = np.frombuffer(await synth.render(text, voice), "<i2").astype(np.float64)
        voiced = np.flatnonzero(np.abs(x) > 30)
        return x[voiced[0] : voiced[-1] + 1]

    babble_parts = [await say(t, VOICES[i + 1], 170) for i, t in enumerate(BABBLE)]
    items = []
    for index in range(count):
        speed = int(rng.integers(110, 231))
        speech = await say(TEXTS[index % len(TEXTS)], VOICES[int(rng.integers(len(VOICES)))], speed)
        speech = np.concatenate((np.zeros(RATE), speech, np.zeros(RATE)))
        speech = speech[: speech.size // FRAME * FRAME]
        frames = speech.reshape(-1, FRAME)
        levels = level_db(frames)
        truth = levels > levels.max() - 30
        active = float(10 * np.log10(np.mean(10 ** (levels[truth] / 10))))
        speech *= 10 ** ((float(rng.uniform(-30, -14)) - active) / 20)
        background = BACKGROUNDS[index % len(BACKGROUNDS)]
        snr = float(rng.uniform(5, 20))
        n = speech.size
        if background == "none":
            mix, snr = speech, 99.0
        else:
            if background == "babble":
                bg = np.zeros(n)
                for part in babble_parts[:3]:
                    start = int(rng.integers(part.size))
                    bg += np.resize(np.roll(part, -start), n)
                bg /= np.sqrt(np.mean(bg**2))
            else:
                bg = coloured(rng, n, background)
            speech_rms = np.sqrt(np.mean(speech.reshape(-1, FRAME)[truth] ** 2))
            mix = speech + bg * speech_rms * 10 ** (-snr / 20)
        codec = "ulaw" if index % 2 else "linear"
        if codec == "ulaw":
            mix = ulaw(mix)
        pcm = np.clip(np.round(mix), -32768, 32767).astype("<i2").tobytes()
        items.append(Item(background, snr, codec, pcm, truth))
    return items


def gate_vad(settings: GateSettings) -> Callable[[], Vad]:
    """The detector's own gate (vad.py) with ``settings``, tones excluded as the detector does."""

    def make() -> Vad:
        analyser = FrameAnalyser(tone_floor_db=settings.silence_threshold - 5.0)
        gate = SpeechGate(settings)
        started: list[float] = []
        index = 0

        def feed(pcm: bytes) -> list[bool]:
            nonlocal index
            out = []
            for facts in analyser.feed_frames(pcm):
                if len(started) < 5:  # the detector holds 100 ms back to judge the start
                    started.append(facts.level)
                    if len(started) == 5:
                        gate.start(started)
                samples = facts.samples if facts.hz is None else None
                out.append(gate.step(index, facts.level, samples))
                index += 1
            return out

        return feed

    return make


def webrtc_vad(mode: int) -> Callable[[], Vad]:
    def make() -> Vad:
        webrtcvad: Any = importlib.import_module("webrtcvad")
        vad = webrtcvad.Vad(mode)
        return lambda pcm: [bool(vad.is_speech(pcm, RATE))]

    return make


def ten_vad() -> Vad:
    module: Any = importlib.import_module("ten_vad")
    vad = module.TenVad(hop_size=256, threshold=0.5)  # 16 ms at 16 kHz (its only rate)
    pending = np.zeros(0, dtype=np.int16)
    heard: list[bool] = []

    def feed(pcm: bytes) -> list[bool]:
        nonlocal pending
        x = np.frombuffer(pcm, "<i2").astype(np.float64)
        up = np.interp(np.arange(2 * x.size) / 2, np.arange(x.size), x)  # 8 -> 16 kHz
        pending = np.concatenate((pending, up.astype(np.int16)))
        while pending.size >= 256:
            _, flag = vad.process(pending[:256])
            heard.append(bool(flag))
            pending = pending[256:]
        # The 20 ms frame ending now: the latest 16 ms hop's verdict.
        return [heard[-1] if heard else False]

    return feed


def silero_vad(model: Path) -> Callable[[], Vad]:
    def make() -> Vad:
        ort: Any = importlib.import_module("onnxruntime")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        state = np.zeros((2, 1, 128), dtype=np.float32)
        context = np.zeros(32, dtype=np.float32)
        pending = np.zeros(0, dtype=np.float32)
        sr = np.array(RATE, dtype=np.int64)
        last = [0.0]

        def feed(pcm: bytes) -> list[bool]:
            nonlocal state, context, pending
            x = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768
            pending = np.concatenate((pending, x))
            while pending.size >= 256:  # 32 ms windows at 8 kHz, 32 samples of context
                window = np.concatenate((context, pending[:256]))[None, :]
                out, state = session.run(None, {"input": window, "state": state, "sr": sr})
                last[0] = float(out[0][0])
                context = pending[224:256]
                pending = pending[256:]
            return [last[0] > 0.5]

        return feed

    return make


def score(name: str, make: Callable[[], Vad], items: list[Item]) -> None:
    rows: dict[str, list[int]] = {}
    cpu = 0.0
    seconds = 0.0
    for item in items:
        vad = make()
        said: list[bool] = []
        started = time.process_time()
        for offset in range(0, len(item.audio), 2 * FRAME):
            said.extend(vad(item.audio[offset : offset + 2 * FRAME]))
        cpu += time.process_time() - started
        seconds += len(item.audio) / 2 / RATE
        guess = np.zeros(item.truth.size, dtype=bool)
        guess[: min(len(said), guess.size)] = said[: guess.size]
        for key in ("all", item.background):
            tally = rows.setdefault(key, [0, 0, 0, 0])  # right, speech heard, speech, false
            tally[0] += int(np.sum(guess == item.truth))
            tally[1] += int(np.sum(guess & item.truth))
            tally[2] += int(np.sum(item.truth))
            tally[3] += int(np.sum(guess & ~item.truth))
    frames = sum(item.truth.size for item in items)
    right, heard, speech, false = rows["all"]
    parts = [
        f"{name:<14} acc {right / frames:6.1%}  heard {heard / speech:6.1%}",
        f"false {false / (frames - speech):6.1%}",
    ]
    for key in BACKGROUNDS[1:]:
        if key in rows:
            per = rows[key]
            n = sum(item.truth.size for item in items if item.background == key)
            parts.append(f"{key} {per[3] / max(n - per[2], 1):5.1%}/{per[1] / max(per[2], 1):4.0%}")
    parts.append(f"cpu {cpu / seconds * 1e6:6.0f} us/s")
    print("  ".join(parts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=48)
    parser.add_argument("--seed", type=int, default=160016)
    parser.add_argument("--silero-onnx", type=Path)
    args = parser.parse_args()
    items = asyncio.run(make_items(args.items, args.seed))
    print(f"{len(items)} items; per background: false alarm / speech heard")
    candidates: list[tuple[str, Callable[[], Vad]]] = [
        # The energy rule alone, as before issue 16: no voicing or talker-level test.
        ("energy", gate_vad(GateSettings(periodicity=-1.0, background_margin=1e9))),
        ("energy+talker", gate_vad(GateSettings(periodicity=-1.0))),
        ("energy+voicing", gate_vad(GateSettings(background_margin=1e9))),
        ("gate", gate_vad(GateSettings())),
    ]
    candidates += [(f"webrtcvad-{mode}", webrtc_vad(mode)) for mode in range(4)]
    candidates.append(("ten-vad", ten_vad))
    if args.silero_onnx:
        candidates.append(("silero-onnx", silero_vad(args.silero_onnx)))
    for name, make in candidates:
        try:
            score(name, make, items)
        except (ImportError, OSError) as error:
            print(f"{name:<14} not installed ({error})")


if __name__ == "__main__":
    main()
