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
        [--jobs 2] [--halves both|tune|held-out|train]
"""

import argparse
import csv
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path

import numpy as np

from amd_corpus import write_wav
from amd_corpus2_audio import BED_TALKERS, BEDS, make_bed, through_codec
from amd_corpus2_items import COLUMNS, HALVES, PARTS, Item, ItemMaker
from amd_corpus2_pools import POOLS, check_split

__all__ = ["COLUMNS", "DEFAULT_OUT", "HALVES", "KINDS", "Item", "ItemMaker", "generate", "plan"]

DEFAULT_OUT = Path(".cache/amd-corpus2")
DEFAULT_SEED = 16
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
    order = np.random.default_rng([seed, PARTS.index(half), 99]).permutation(len(kinds))
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


def check_codecs() -> None:
    """GSM and AMR-NB come from sox's format libraries (AMR-NB from libsox-fmt-base, which
    `apt-get install sox` brings as a recommended package): say so plainly if one is missing."""
    for codec in ("gsm", "amr-nb-12.2"):
        try:
            through_codec(np.zeros(1600), codec)
        except subprocess.CalledProcessError as e:
            raise SystemExit(
                f"sox cannot encode {codec}: {e.stderr.decode(errors='replace').strip()}"
                " (Debian: apt-get install sox libsox-fmt-base)"
            ) from None


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
    check_codecs()
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
    parser.add_argument(
        "--halves",
        choices=["both", *PARTS],
        default="both",
        help="only one half: more tune items for training (bench/amd_train.py --extra) come"
        " from --halves tune with another --seed, never from the held-out half; 'train' makes"
        " items of the train pool's texts (bench/amd_content.py --train)",
    )
    args = parser.parse_args()
    started = time.monotonic()
    halves = HALVES if args.halves == "both" else (args.halves,)
    labels = generate(args.out, args.per_half, args.seed, args.jobs, halves)
    print(
        f"{len(halves) * args.per_half} items in {args.out} (labels: {labels})"
        f" in {time.monotonic() - started:.0f} s",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
