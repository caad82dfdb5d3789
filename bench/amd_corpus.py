"""A labelled corpus for answering-machine and fax detection: 8 kHz mono 16-bit WAVs.

Humans say a short answer ("Hello?", "Yes, speaking.") and wait; machines play a greeting of a
few seconds, then a beep or nothing, then record; fax machines send the CED answer tone (some
with V.25 phase reversals) then V.21-like signalling, or the CNG calling tone's cadence. Speech is
espeak-ng in several voices, languages and speeds, at random talker levels; some items have white
or pink background noise, and some pass through G.711 mu-law or A-law.

Two halves with their own seeds: "tune" (what the detector's defaults were tuned on) and
"held-out" (never looked at while tuning), so the benchmark reports both. Deterministic: the same
seeds and the same espeak-ng give the same files.

labels.csv has one row per file: file, half, label (human/machine/fax), kind, speech_start_ms,
speech_end_ms (the greeting's end for machines), beep_start_ms, beep_end_ms (empty if none),
duration_ms, noise, codec, voice, speed, text.

    .venv/bin/python bench/amd_corpus.py [--out .cache/amd-corpus] [--per-half 200]
"""

import argparse
import asyncio
import csv
import sys
import wave
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from dialer.telephony.pcm import alaw_decode, ulaw_decode
from dialer.telephony.speech import EspeakSynthesizer

RATE = 8000
DEFAULT_OUT = Path(".cache/amd-corpus")
SEEDS = {"tune": 20250930, "held-out": 77003}
Audio = npt.NDArray[np.float64]

HUMAN_TEXTS = {
    "en": [
        "Hello?",
        "Hello.",
        "Yes?",
        "Hi.",
        "Yes, speaking.",
        "Hi, who is this?",
        "Hello, this is Sarah.",
        "Hello, who's calling?",
        "Speaking.",
        "Yeah, hello?",
    ],
    "de": ["Hallo?", "Ja, bitte?", "Müller.", "Ja, hallo?"],
    "fr": ["Allô?", "Oui, allô?", "Oui?", "Allô, c'est qui?"],
    "es": ["¿Diga?", "¿Sí?", "Hola.", "¿Bueno?"],
}
MACHINE_TEXTS = {
    "en": [
        "Hi, you've reached John and Mary, we can't come to the phone right now, please leave a"
        " message after the tone.",
        "Hello, you have reached the voicemail of Peter Smith. I am not available at the moment."
        " Please leave your name and number and I will call you back.",
        "The person you are calling is not available. Please leave a message after the tone.",
        "Hi, this is Dave. Leave a message.",
        "Hey, it's Sam, I can't talk right now, leave a message.",
        "Thank you for calling Acme Dental. Our office is currently closed. Our hours are Monday"
        " to Friday, nine to five.",
        "You've reached the Johnsons. Sorry we missed you. Leave us a message and we'll get back"
        " to you.",
        "Hello. Please leave a message.",
    ],
    "de": [
        "Hallo, hier ist der Anrufbeantworter von Familie Müller. Bitte hinterlassen Sie eine"
        " Nachricht nach dem Signalton.",
        "Guten Tag, Sie sind verbunden mit der Mailbox von Anna. Bitte sprechen Sie nach dem Ton.",
    ],
    "fr": [
        "Bonjour, vous êtes bien chez Marie. Je ne suis pas disponible pour le moment, laissez-moi"
        " un message après le bip sonore.",
        "Vous êtes sur la messagerie de Paul. Laissez un message, je vous rappellerai.",
    ],
    "es": [
        "Hola, has llamado a Carlos. No puedo atender ahora, deja tu mensaje después de la señal.",
        "Buenos días, ha llamado a la consulta del doctor García. Deje su mensaje, por favor.",
    ],
}
VOICES = {
    "en": ["en", "en-us", "en-gb", "en+f3", "en+m3", "en-us+f2", "en-gb+m5", "en+f4"],
    "de": ["de", "de+f3"],
    "fr": ["fr", "fr+m3"],
    "es": ["es", "es+f2"],
}
SPEEDS = [130, 150, 175, 200, 230]


@dataclass(frozen=True, slots=True)
class Item:
    file: str
    half: str
    label: str
    kind: str
    speech_start_ms: int | None
    speech_end_ms: int | None
    beep_start_ms: int | None
    beep_end_ms: int | None
    duration_ms: int
    noise: str
    codec: str
    voice: str
    speed: int | None
    text: str


# signals


def silence(seconds: float) -> Audio:
    return np.zeros(round(seconds * RATE))


def tone(hz: float, seconds: float, dbfs: float, ramp_ms: float = 5.0) -> Audio:
    t = np.arange(round(seconds * RATE)) / RATE
    out = np.sin(2 * np.pi * hz * t) * 32768 * 10 ** (dbfs / 20) * np.sqrt(2)
    ramp = min(round(ramp_ms * RATE / 1000), out.size // 2)
    if ramp:
        out[:ramp] *= np.linspace(0, 1, ramp)
        out[-ramp:] *= np.linspace(1, 0, ramp)
    return out


def ced(seconds: float, dbfs: float, reversals: bool) -> Audio:
    """2100 Hz answer tone; with V.25 phase reversals every 450 ms when ``reversals``."""
    t = np.arange(round(seconds * RATE)) / RATE
    phase = np.pi * (t // 0.45 % 2) if reversals else 0.0
    return np.sin(2 * np.pi * 2100 * t + phase) * 32768 * 10 ** (dbfs / 20) * np.sqrt(2)


def v21(rng: np.random.Generator, seconds: float, dbfs: float) -> Audio:
    """V.21 channel-2 FSK at 300 bit/s: random bits on 1650/1850 Hz, continuous phase."""
    n = round(seconds * RATE)
    bits = rng.integers(0, 2, size=n * 300 // RATE + 1)
    freq = np.where(bits[np.arange(n) * 300 // RATE] == 1, 1650.0, 1850.0)
    return np.sin(np.cumsum(2 * np.pi * freq / RATE)) * 32768 * 10 ** (dbfs / 20) * np.sqrt(2)


def noise(rng: np.random.Generator, n: int, colour: str, dbfs: float) -> Audio:
    """White or pink (1/f) noise in the telephone band (200-3400 Hz), at ``dbfs`` RMS."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / RATE)
    if colour == "pink":
        spectrum[1:] /= np.sqrt(f[1:] / 200)
    spectrum[(f < 200) | (f > 3400)] = 0
    shaped = np.fft.irfft(spectrum, n)
    return shaped / np.sqrt(np.mean(shaped**2)) * 32768 * 10 ** (dbfs / 20)


def active_level_db(x: Audio) -> float:
    """Level of the speech's active part (frames within 30 dB of its loudest), dBFS."""
    frames = x[: x.size // 160 * 160].reshape(-1, 160)
    levels = 10 * np.log10(np.mean(frames**2, axis=1) / 32768**2 + 1e-12)
    active = levels[levels > levels.max() - 30]
    return float(10 * np.log10(np.mean(10 ** (active / 10))))


def at_level(x: Audio, dbfs: float) -> Audio:
    return x * 10 ** ((dbfs - active_level_db(x)) / 20)


def ulaw_encode(x: Audio) -> npt.NDArray[np.uint8]:
    """G.711 mu-law, the exact segment coding."""
    value = np.clip(np.round(x), -32768, 32767).astype(np.int32)
    sign = (value < 0).astype(np.int32)
    magnitude = np.minimum(np.abs(value), 32635) + 0x84
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return (~((sign << 7) | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8)


def alaw_encode(x: Audio) -> npt.NDArray[np.uint8]:
    """G.711 A-law, the exact segment coding."""
    value = np.clip(np.round(x), -32768, 32767).astype(np.int32) >> 3
    positive = value >= 0
    magnitude = np.where(positive, value, -value - 1)
    bit_length = np.floor(np.log2(np.maximum(magnitude, 1))).astype(np.int32) + 1
    segment = np.maximum(bit_length - 5, 0)
    mantissa = np.where(segment < 2, magnitude >> 1, magnitude >> segment) & 0x0F
    return (((segment << 4) | mantissa) ^ np.where(positive, 0xD5, 0x55)).astype(np.uint8)


def through_codec(x: Audio, codec: str) -> Audio:
    if codec == "ulaw":
        return ulaw_decode(ulaw_encode(x))
    if codec == "alaw":
        return alaw_decode(alaw_encode(x))
    return x


def write_wav(path: Path, x: Audio) -> None:
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes())


# items


class Maker:
    def __init__(self, half: str, seed: int) -> None:
        self.half = half
        self.rng = np.random.default_rng(seed)
        self.synths: dict[int, EspeakSynthesizer] = {}

    def choose(self, options: list[str]) -> str:
        return options[int(self.rng.integers(len(options)))]

    async def speech(self, texts: dict[str, list[str]]) -> tuple[Audio, str, int, str]:
        language = self.choose(["en"] * 6 + ["de", "fr", "es"])
        voice = self.choose(VOICES[language])
        text = self.choose(texts[language])
        speed = int(SPEEDS[int(self.rng.integers(len(SPEEDS)))])
        synth = self.synths.setdefault(speed, EspeakSynthesizer(speed=speed))
        pcm = await synth.render(text, voice)
        x = np.frombuffer(pcm, "<i2").astype(np.float64)
        voiced = np.flatnonzero(np.abs(x) > 30)  # trim espeak-ng's trailing pause
        x = x[: voiced[-1] + 1] if voiced.size else x
        return at_level(x, float(self.rng.uniform(-32, -14))), voice, speed, text

    def finish(
        self,
        index: int,
        label: str,
        kind: str,
        parts: list[Audio],
        marks: dict[str, int | None],
        spoken: tuple[str, int, str] | None = None,
    ) -> tuple[Item, Audio]:
        x = np.concatenate(parts)
        speech_db = -22.0 if marks.get("speech_start_ms") is None else None
        noise_name = self.choose(["none", "none", "white", "pink"])
        if noise_name != "none":
            if speech_db is None:
                start, end = marks["speech_start_ms"] or 0, marks["speech_end_ms"] or 0
                speech_db = active_level_db(x[start * 8 : end * 8])
            snr = float(self.rng.uniform(15, 35))
            x = x + noise(self.rng, x.size, noise_name, speech_db - snr)
            noise_name = f"{noise_name}-{round(snr)}dB"
        codec = self.choose(["linear", "linear", "ulaw", "alaw"])
        x = through_codec(x, codec)
        item = Item(
            file=f"{self.half}-{index:03d}-{label}-{kind}.wav",
            half=self.half,
            label=label,
            kind=kind,
            speech_start_ms=marks.get("speech_start_ms"),
            speech_end_ms=marks.get("speech_end_ms"),
            beep_start_ms=marks.get("beep_start_ms"),
            beep_end_ms=marks.get("beep_end_ms"),
            duration_ms=x.size // 8,
            noise=noise_name,
            codec=codec,
            voice=spoken[0] if spoken else "",
            speed=spoken[1] if spoken else None,
            text=spoken[2] if spoken else "",
        )
        return item, x

    async def human(self, index: int) -> tuple[Item, Audio]:
        speech, voice, speed, text = await self.speech(HUMAN_TEXTS)
        lead = 0.0 if self.rng.random() < 0.3 else float(self.rng.uniform(0.2, 1.5))
        parts = [silence(lead), speech]
        kind = "answer"
        if self.rng.random() < 0.2:  # nobody spoke back: "Hello?" again after a pause
            parts += [silence(float(self.rng.uniform(1.2, 2.0))), speech]
            kind = "answer-twice"
        end = sum(p.size for p in parts)
        parts.append(silence(max(6.5 - end / RATE, 1.0)))
        marks: dict[str, int | None] = {
            "speech_start_ms": round(lead * 1000),
            "speech_end_ms": round((lead * RATE + speech.size) / 8),
        }
        return self.finish(index, "human", kind, parts, marks, (voice, speed, text))

    async def machine(self, index: int) -> tuple[Item, Audio]:
        speech, voice, speed, text = await self.speech(MACHINE_TEXTS)
        lead = float(self.rng.choice([0.0, 0.3, 0.6, 1.0, 3.0]))
        parts = [silence(lead), speech]
        start, end = round(lead * 1000), round((lead * RATE + speech.size) / 8)
        marks: dict[str, int | None] = {"speech_start_ms": start, "speech_end_ms": end}
        kind = "greeting-silence"
        if self.rng.random() < 0.6:
            pause = float(self.rng.uniform(0.2, 0.6))
            hz = float(self.rng.choice([1000.0, 1400.0]))
            length = float(self.rng.uniform(0.2, 0.5))
            parts += [silence(pause), tone(hz, length, float(self.rng.uniform(-20, -8)))]
            marks["beep_start_ms"] = end + round(pause * 1000)
            marks["beep_end_ms"] = end + round((pause + length) * 1000)
            kind = f"greeting-beep{round(hz)}"
        parts.append(silence(4.0))
        return self.finish(index, "machine", kind, parts, marks, (voice, speed, text))

    async def fax(self, index: int) -> tuple[Item, Audio]:
        lead = float(self.rng.uniform(0.2, 1.5))
        level = float(self.rng.uniform(-20, -9))
        if self.rng.random() < 0.6:
            reversals = bool(self.rng.random() < 0.4)
            parts = [
                silence(lead),
                ced(float(self.rng.uniform(2.6, 4.0)), level, reversals),
                silence(0.075),
                v21(self.rng, 2.0, level),
                silence(1.0),
            ]
            kind = "ced-reversals" if reversals else "ced"
        else:
            parts = [silence(lead)]
            for _ in range(3):
                parts += [tone(1100, 0.5, level), silence(3.0)]
            kind = "cng"
        return self.finish(index, "fax", kind, parts, {})


async def make_half(out: Path, half: str, count: int) -> list[Item]:
    maker = Maker(half, SEEDS[half])
    kinds = ["human"] * 2 + ["machine"] * 2 + ["fax"]  # 40% human, 40% machine, 20% fax
    made = []
    for index in range(count):
        make = getattr(maker, kinds[index % len(kinds)])
        item, audio = await make(index)
        write_wav(out / item.file, audio)
        made.append(item)
    return made


def generate(out: Path = DEFAULT_OUT, per_half: int = 200) -> Path:
    """Write the corpus into ``out`` (replacing its WAVs) and return its labels.csv."""
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.wav"):
        old.unlink()
    items = [item for half in SEEDS for item in asyncio.run(make_half(out, half, per_half))]
    labels = out / "labels.csv"
    with labels.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(asdict(items[0])))
        writer.writeheader()
        writer.writerows(asdict(item) for item in items)
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--per-half", type=int, default=200)
    args = parser.parse_args()
    labels = generate(args.out, args.per_half)
    print(f"{2 * args.per_half} items in {args.out} (labels: {labels})", file=sys.stderr)


if __name__ == "__main__":
    main()
