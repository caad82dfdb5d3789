"""The items of the broad corpus (bench/amd_corpus2.py, where the labels' columns are explained):
``ItemMaker`` builds one item (its audio and its labels' row) from its own random generator."""

from dataclasses import dataclass, fields

import numpy as np

from amd_corpus import RATE, Audio, active_level_db, ced, v21
from amd_corpus2_audio import (
    AMR_MODES,
    background,
    band_limit,
    melody,
    set_level,
    silence,
    speak,
    through_codec,
    tone,
)
from amd_corpus2_pools import POOLS, Pool, voices

HALVES = ("tune", "held-out")  # the halves scored
PARTS = (*HALVES, "train")  # and the train pool's items (amd_corpus2_pools), never scored
LABELS = {"h": "human", "m": "machine", "f": "fax", "s": "silence"}


@dataclass(frozen=True, slots=True)
class Item:
    """One row of labels.csv, its columns in order: explained at the top of amd_corpus2.py. New
    columns go at the end only, so readers of older corpora keep working."""

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
        self.rng = np.random.default_rng([seed, PARTS.index(half), index])
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
            noisy = ["babble", "babble", "street", "fan", "pink", "white"]
            return self.pick(noisy), self.uniform(3, 12)
        if self.kind == "h-babble":
            return "talk", self.uniform(3, 15)
        if level is None:  # fax, dead air: line noise only, at an absolute level
            return self.pick(["none", "none", "white", "pink", "street", "fan"]), None
        # Other people's voices only in h-noisy and h-babble among people, so that every other
        # kind of person measures its own difficulty, not background talk's.
        quiet = ["none"] * 7 + ["white", "pink"] * 2 + ["street", "fan"] * 3
        kind = self.pick(quiet + ["babble"] * 3 if self.kind.startswith("m-") else quiet)
        return kind, (None if kind == "none" else self.uniform(10, 30))
