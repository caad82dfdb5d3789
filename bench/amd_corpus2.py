"""The broad labelled corpus for answer detection (issue 16): 8 kHz mono 16-bit WAVs, every kind of
answer people and machines give, in two halves that share no voice and no text.

Labels: ``labels.csv``, one row per file, these columns in this order (fixed: new columns are
only ever added at the end). Times are ms from the answer; an empty cell is "none".

    file             the WAV's name
    half             tune | held-out
    label            human | machine | fax | silence
    kind             the kind of answer (KINDS below), e.g. h-hesitant, m-two-tone, f-cng
    voice            espeak-ng voice "<base>+<variant>" of the callee or greeting ("" for none)
    text_id          "<half>:<pool>:<n>" of the text said ("" for none); a long greeting's is
                     "<half>:long:<n>+<n>+..." (its sentences in order)
    speech_start_ms  the callee's (or greeting's) first speech
    speech_end_ms    the end of its last speech (background talk is not speech of the callee)
    greeting_end_ms  machines: where our message must start: the end of the beep (of the last
                     tone of a two-tone beep or of pips) if any, else the end of the greeting
    beep_kind        single | two-tone | pips | "" (none)
    beep_hz          the tones' frequencies, "/"-separated in order (e.g. "1400/1000")
    beep_start_ms    the first tone's start
    beep_end_ms      the last tone's end
    duration_ms      the file's length
    noise            none | white | pink | street | fan | babble | talk (1-2 people behind)
    snr_db           speech level over the noise (dB); for items without speech, "" and the
                     noise is at an absolute -60 to -40 dBFS
    codec            linear | ulaw | alaw | gsm | amr-nb-<kbit/s>
    band             full | 300-3400 | 400-3000 | 500-2500 (the line's pass band, Hz)
    rate_wpm         espeak-ng's speaking rate (words a minute)
    pitch            espeak-ng's pitch (0-99, 50 its default)
    level_dbfs       the speech's active level before the line (dBFS)
    music_start_ms   a melody before the greeting: its start
    music_end_ms     and its end
    segments         the callee's (or greeting's) speech, "start-end;start-end" (ms)
    tones            every beep tone, "hz@start-end;..." (ms)
    text             what is said, phrases joined by " | "

Kinds (people): h-short (a short "Hello?"), h-late (1.5-2.3 s of silence, then hello), h-twice
("Hello?" twice after a pause), h-level (the phone brought to the mouth: quiet, then loud),
h-hesitant ("Er, hello, ... Mark speaking."), h-noisy (a noisy room, SNR 3-12 dB), h-babble
(one or two other people talking behind, SNR 3-15 dB), h-more (a greeting and then more talk).
Machines: m-beep (a single beep, 400-2000 Hz, 0.1-1.2 s), m-two-tone, m-pips (three short
pips), m-music (a melody before the greeting), m-long (20-40 s, pauses up to 1.5 s inside),
m-pauses (a 0.8-1.5 s pause inside the greeting), m-no-beep (a clear end, then silence).
Fax: f-ced, f-ced-reversals, f-cng. Silence: s-dead-air.

Deterministic: each item's choices come from its own generator seeded by (seed, half, index),
so the same seed and espeak-ng/sox give the same files however the process pool schedules them.

    .venv/bin/python bench/amd_corpus2.py [--out .cache/amd-corpus2] [--per-half 500] [--seed N]
        [--jobs 2]
"""

import argparse
import csv
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np

from amd_corpus import RATE, Audio, active_level_db, ced, v21, write_wav
from amd_corpus2_audio import (
    AMR_MODES,
    BED_TALKERS,
    BEDS,
    background,
    band_limit,
    make_bed,
    melody,
    set_level,
    silence,
    speak,
    through_codec,
    tone,
)
from amd_corpus2_pools import POOLS, Pool, check_split, voices

DEFAULT_OUT = Path(".cache/amd-corpus2")
DEFAULT_SEED = 16
HALVES = ("tune", "held-out")
KINDS = {  # kind: share of a half
    **dict.fromkeys(
        ["h-short", "h-late", "h-twice", "h-level", "h-hesitant", "h-noisy", "h-babble", "h-more"],
        0.064,
    ),
    **dict.fromkeys(
        ["m-beep", "m-two-tone", "m-pips", "m-music", "m-long", "m-pauses", "m-no-beep"], 0.052
    ),
    **dict.fromkeys(["f-ced", "f-ced-reversals", "f-cng"], 0.024),
    "s-dead-air": 0.052,
}
LABELS = {"h": "human", "m": "machine", "f": "fax", "s": "silence"}


@dataclass(frozen=True, slots=True)
class Item:
    file: str
    half: str
    label: str
    kind: str
    voice: str
    text_id: str
    speech_start_ms: int | None
    speech_end_ms: int | None
    greeting_end_ms: int | None
    beep_kind: str
    beep_hz: str
    beep_start_ms: int | None
    beep_end_ms: int | None
    duration_ms: int
    noise: str
    snr_db: float | None
    codec: str
    band: str
    rate_wpm: int | None
    pitch: int | None
    level_dbfs: float | None
    music_start_ms: int | None
    music_end_ms: int | None
    segments: str
    tones: str
    text: str


COLUMNS = [f.name for f in fields(Item)]


def ms(samples: int) -> int:
    return round(samples * 1000 / RATE)


class Timeline:
    """The file being built, part after part, noting where speech, tones and music are."""

    def __init__(self) -> None:
        self.parts: list[Audio] = []
        self.n = 0
        self.speech: list[tuple[int, int]] = []
        self.tones: list[tuple[float, int, int]] = []
        self.music: tuple[int, int] | None = None

    def add(self, x: Audio, what: str = "", hz: float = 0.0) -> None:
        start = self.n
        self.parts.append(x)
        self.n += x.size
        if what == "speech":
            self.speech.append((start, self.n))
        elif what == "tone":
            self.tones.append((hz, start, self.n))
        elif what == "music":
            self.music = (start, self.n)

    def pause(self, seconds: float) -> None:
        self.add(silence(seconds))

    def audio(self) -> Audio:
        return np.concatenate(self.parts) if self.parts else np.zeros(0)


@dataclass(slots=True)
class Voice:
    name: str
    rate: int
    pitch: int
    level: float

    def say(self, text: str, gain_db: float = 0.0) -> Audio:
        return set_level(speak(text, self.name, self.rate, self.pitch), self.level + gain_db)


class ItemMaker:
    """Builds one item from its own random generator."""

    def __init__(self, half: str, index: int, kind: str, seed: int) -> None:
        self.half, self.index, self.kind, self.seed = half, index, kind, seed
        self.rng = np.random.default_rng([seed, HALVES.index(half), index])
        self.pool: Pool = POOLS[half]
        self.line = Timeline()
        self.voice: Voice | None = None
        self.text_id = ""
        self.text = ""

    def uniform(self, low: float, high: float) -> float:
        return float(self.rng.uniform(low, high))

    def pick(self, options: list[str]) -> str:
        return options[int(self.rng.integers(len(options)))]

    def choose_voice(self) -> Voice:
        women, men = voices(self.pool)
        name = self.pick(women if self.rng.random() < 0.5 else men)
        self.voice = Voice(
            name, int(self.rng.integers(110, 231)), int(self.rng.integers(25, 76)), 0.0
        )
        self.voice.level = self.uniform(-30, -12)
        return self.voice

    def text_of(self, group: str) -> tuple[str, ...]:
        options: tuple[str | tuple[str, ...], ...] = getattr(self.pool, group)
        n = int(self.rng.integers(len(options)))
        self.text_id = f"{self.half}:{group}:{n}"
        chosen = options[n]
        phrases = (chosen,) if isinstance(chosen, str) else chosen
        self.text = " | ".join(phrases)
        return phrases

    # people

    def human(self) -> None:
        voice = self.choose_voice()
        line = self.line
        lead = 0.0 if self.rng.random() < 0.3 else self.uniform(0.1, 1.2)
        if self.kind == "h-late":
            lead = self.uniform(1.5, 2.3)
        line.pause(lead)
        if self.kind == "h-hesitant":
            for i, phrase in enumerate(self.text_of("hesitant")):
                if i:
                    line.pause(self.uniform(0.3, 0.9))
                line.add(voice.say(phrase), "speech")
        elif self.kind == "h-more":
            greeting, more = self.text_of("more")
            line.add(voice.say(greeting), "speech")
            line.pause(self.uniform(0.2, 0.8))
            line.add(voice.say(more), "speech")
        elif self.kind == "h-twice":
            (hello,) = self.text_of("short")
            line.add(voice.say(hello), "speech")
            line.pause(self.uniform(1.0, 2.5))
            line.add(voice.say(hello, self.uniform(-2, 3)), "speech")
        elif self.kind == "h-level":
            self.level_change()
        else:
            (hello,) = self.text_of("short")
            line.add(voice.say(hello), "speech")
        line.pause(max(7.0 - line.n / RATE, 3.0))

    def level_change(self) -> None:
        """The phone brought to the mouth: a handling rustle, then speech that starts quiet (the
        phone away) and ends at the talker's level, or a far "Hello?" then a near one."""
        assert self.voice is not None
        line = self.line
        if self.rng.random() < 0.5:
            rustle = self.rng.standard_normal(round(self.uniform(0.1, 0.3) * RATE))
            rustle *= np.hanning(rustle.size) * 32768 * 10 ** (self.uniform(-40, -28) / 20)
            line.add(rustle)
            line.pause(self.uniform(0.1, 0.4))
        (hello,) = self.text_of("short")
        far = self.uniform(-24, -12)
        if self.rng.random() < 0.5:
            said = self.voice.say(hello)
            ramp = min(round(self.uniform(0.3, 1.0) * RATE), said.size)
            gain_db = np.concatenate([np.linspace(far, 0, ramp), np.zeros(said.size - ramp)])
            line.add(said * 10 ** (gain_db / 20), "speech")
        else:
            line.add(self.voice.say(hello, far), "speech")
            line.pause(self.uniform(0.3, 0.9))
            line.add(self.voice.say(hello), "speech")

    # machines

    def machine(self) -> None:
        voice = self.choose_voice()
        voice.level = self.uniform(-28, -12)
        line = self.line
        roll = self.rng.random()
        line.pause(
            0.0 if roll < 0.15 else self.uniform(2.0, 3.0) if roll > 0.9 else self.uniform(0.2, 1.0)
        )
        if self.kind == "m-music":
            line.add(melody(self.rng, self.uniform(1.0, 4.0), self.uniform(-30, -16)), "music")
            line.pause(self.uniform(0.1, 0.6))
        if self.kind == "m-long":
            self.long_greeting(voice)
        else:
            sentences = self.text_of("greetings")
            long_pause = int(self.rng.integers(1, len(sentences))) if self.kind == "m-pauses" else 0
            for i, sentence in enumerate(sentences):
                if i:
                    line.pause(
                        self.uniform(0.8, 1.5) if i == long_pause else self.uniform(0.15, 0.5)
                    )
                line.add(voice.say(sentence), "speech")
        beep = {"m-two-tone": "two-tone", "m-pips": "pips", "m-no-beep": ""}.get(
            self.kind, "single"
        )
        if self.kind == "m-long" and self.rng.random() < 0.3:
            beep = ""
        if beep:
            line.pause(self.uniform(0.1, 0.9))
            self.beep(beep)
            line.pause(self.uniform(2.5, 4.0))
        else:
            line.pause(self.uniform(3.0, 5.0))

    def long_greeting(self, voice: Voice) -> None:
        target = self.uniform(20, 40) * RATE
        order = self.rng.permutation(len(self.pool.long))
        said: list[int] = []
        start = self.line.n
        while self.line.n - start < target:
            n = int(order[len(said) % order.size])
            if said:
                self.line.pause(self.uniform(0.3, 1.5))
            self.line.add(voice.say(self.pool.long[n]), "speech")
            said.append(n)
        self.text_id = f"{self.half}:long:{'+'.join(map(str, said))}"
        self.text = " | ".join(self.pool.long[n] for n in said)

    def beep(self, kind: str) -> None:
        level = self.uniform(-24, -8)
        harmonic = self.uniform(10, 25) if self.rng.random() < 0.2 else 0.0
        if kind == "single":
            hz = round(self.uniform(400, 2000), -1)
            self.line.add(tone(hz, self.uniform(0.1, 1.2), level, harmonic=harmonic), "tone", hz)
        elif kind == "two-tone":
            first = round(self.uniform(400, 2000), -1)
            second = first
            while abs(second - first) < 150:
                second = round(self.uniform(400, 2000), -1)
            self.line.add(tone(first, self.uniform(0.12, 0.4), level), "tone", first)
            self.line.pause(self.uniform(0.0, 0.06))
            self.line.add(tone(second, self.uniform(0.15, 0.5), level), "tone", second)
        else:
            hz = round(self.uniform(600, 1600), -1)
            step = 0.0 if self.rng.random() < 0.6 else self.uniform(100, 300)
            for i in range(3):
                if i:
                    self.line.pause(self.uniform(0.05, 0.15))
                pip = round(hz + i * step)
                self.line.add(tone(pip, self.uniform(0.05, 0.15), level, ramp_ms=3), "tone", pip)

    # fax and dead air

    def fax(self) -> None:
        line = self.line
        line.pause(self.uniform(0.2, 1.5))
        level = self.uniform(-20, -9)
        if self.kind == "f-cng":
            for _ in range(3):
                line.add(tone(1100, 0.5, level))
                line.pause(3.0)
        else:
            line.add(ced(self.uniform(2.6, 4.0), level, self.kind == "f-ced-reversals"))
            line.pause(0.075)
            line.add(v21(self.rng, 2.0, level))
            line.pause(1.0)

    def dead_air(self) -> None:
        self.line.pause(self.uniform(7.0, 10.0))

    # the line

    def make(self) -> tuple[Item, Audio]:
        label = LABELS[self.kind[0]]
        {"human": self.human, "machine": self.machine, "fax": self.fax, "silence": self.dead_air}[
            label
        ]()
        line = self.line
        x = line.audio()
        if line.speech:
            spoken = np.concatenate([x[s:e] for s, e in line.speech])
            level: float | None = active_level_db(spoken)
        else:
            level = None
        noise_kind, snr = self.noise_choice(level)
        if noise_kind != "none":
            dbfs = level - snr if level is not None and snr is not None else self.uniform(-60, -40)
            x = x + background(self.rng, self.half, self.seed, noise_kind, x.size, dbfs)
        band = self.pick(["full"] + ["300-3400"] * 3 + ["400-3000"] * 2 + ["500-2500"])
        codec = self.pick(["linear", "ulaw", "ulaw", "alaw", "gsm", "gsm", "amr-nb", "amr-nb"])
        if codec == "amr-nb":
            codec = f"amr-nb-{self.pick(AMR_MODES)}"
        x = through_codec(band_limit(x, band), codec)
        beeps = line.tones
        beep_kind = {0: "", 1: "single", 2: "two-tone", 3: "pips"}[len(beeps)]
        speech_end = ms(line.speech[-1][1]) if line.speech else None
        greeting_end = ms(beeps[-1][2]) if beeps else speech_end
        voice = self.voice
        item = Item(
            file=f"{self.half}-{self.index:04d}-{self.kind}.wav",
            half=self.half,
            label=label,
            kind=self.kind,
            voice=voice.name if voice else "",
            text_id=self.text_id,
            speech_start_ms=ms(line.speech[0][0]) if line.speech else None,
            speech_end_ms=speech_end,
            greeting_end_ms=greeting_end if label == "machine" else None,
            beep_kind=beep_kind,
            beep_hz="/".join(f"{hz:g}" for hz, _, _ in beeps),
            beep_start_ms=ms(beeps[0][1]) if beeps else None,
            beep_end_ms=ms(beeps[-1][2]) if beeps else None,
            duration_ms=ms(x.size),
            noise=noise_kind,
            snr_db=None if snr is None else round(snr, 1),
            codec=codec,
            band=band,
            rate_wpm=voice.rate if voice else None,
            pitch=voice.pitch if voice else None,
            level_dbfs=None if level is None else round(level, 1),
            music_start_ms=ms(line.music[0]) if line.music else None,
            music_end_ms=ms(line.music[1]) if line.music else None,
            segments=";".join(f"{ms(s)}-{ms(e)}" for s, e in line.speech),
            tones=";".join(f"{hz:g}@{ms(s)}-{ms(e)}" for hz, s, e in beeps),
            text=self.text,
        )
        return item, x

    def noise_choice(self, level: float | None) -> tuple[str, float | None]:
        if self.kind == "h-noisy":
            return self.pick(["street", "fan", "babble", "pink", "white"]), self.uniform(3, 12)
        if self.kind == "h-babble":
            return "talk", self.uniform(3, 15)
        if level is None:  # fax, dead air: line noise only, at an absolute level
            return self.pick(["none", "none", "white", "pink", "street", "fan"]), None
        kind = self.pick(["none"] * 7 + ["white", "pink"] * 2 + ["street", "fan", "babble"] * 3)
        return kind, (None if kind == "none" else self.uniform(10, 30))


def make_one(job: tuple[Path, str, int, str, int]) -> dict[str, object]:
    out, half, index, kind, seed = job
    item, audio = ItemMaker(half, index, kind, seed).make()
    write_wav(out / item.file, audio)
    return asdict(item)


def plan(half: str, count: int, seed: int) -> list[str]:
    """The kinds of a half's items, in a shuffled order fixed by the seed."""
    shares = np.array(list(KINDS.values()))
    counts = np.floor(shares / shares.sum() * count).astype(int)
    for i in np.argsort(-(shares / shares.sum() * count - counts))[: count - counts.sum()]:
        counts[i] += 1
    kinds = [k for k, c in zip(KINDS, counts, strict=True) for _ in range(c)]
    order = np.random.default_rng([seed, HALVES.index(half), 99]).permutation(len(kinds))
    return [kinds[i] for i in order]


def check_voices() -> None:
    """espeak-ng ignores an unknown variant silently: make sure every one exists."""
    listing = subprocess.run(
        ["espeak-ng", "--voices=variant"], capture_output=True, text=True, check=True
    ).stdout
    known = {
        line.split()[4].removeprefix("!v/") for line in listing.splitlines()[1:] if line.strip()
    }
    for pool in POOLS.values():
        missing = set(pool.female + pool.male) - known
        assert not missing, f"espeak-ng has no variant {missing}"


def generate(
    out: Path = DEFAULT_OUT,
    per_half: int = 500,
    seed: int = DEFAULT_SEED,
    jobs: int = 2,
    halves: tuple[str, ...] = HALVES,
) -> Path:
    """Write the corpus into ``out`` (replacing its WAVs) and return its labels.csv."""
    print(check_split(), file=sys.stderr)
    check_voices()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.wav"):
        old.unlink()
    work = [
        (out, half, i, kind, seed)
        for half in halves
        for i, kind in enumerate(plan(half, per_half, seed))
    ]
    if jobs > 1:
        beds = [(half, seed, talkers) for half in halves for talkers in BED_TALKERS]
        with ProcessPoolExecutor(jobs) as pool:
            BEDS.update(zip(beds, pool.map(make_bed, *zip(*beds, strict=True)), strict=True))
        # The item workers fork from here, so each has the beds without building them again.
        with ProcessPoolExecutor(jobs) as pool:
            rows = list(pool.map(make_one, work, chunksize=4))
    else:
        rows = [make_one(job) for job in work]
    labels = out / "labels.csv"
    with labels.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return labels


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--per-half", type=int, default=500)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    args = parser.parse_args()
    started = time.monotonic()
    labels = generate(args.out, args.per_half, args.seed, args.jobs)
    print(
        f"{2 * args.per_half} items in {args.out} (labels: {labels})"
        f" in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
