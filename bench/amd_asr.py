"""What a real recogniser hears (h-words): Moonshine tiny (English, MIT; the weights PyPI's
``moonshine-voice`` 0.1.0 wheel carries, run by its own library) on each person's and machine's
first seconds, at each anchor time, for bench/amd_words.py's ``--asr``.

A transcript at an anchor is what the recogniser says of the audio from the start of the call
to that anchor (8 kHz upsampled to 16 kHz), so a decision at a point reads the transcript of
the latest anchor at or before it and nothing later. Kept beside the corpus, keyed by a digest
of its labels (``asr-moonshine-<labels>.json``); the run prints the recogniser's CPU per
second of audio it read, one thread per process.

    .venv/bin/pip install moonshine-voice==0.1.0   (later releases fetch the model at run time)
    .venv/bin/python bench/amd_asr.py [--corpus .cache/amd-corpus2] [--jobs 2]
"""

import argparse
import hashlib
import json
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import amd_content

ANCHORS_MS = (1500, 2000, 2500, 3000, 3500, 4000, 5000)
_transcriber: Any = None


def cache_of(corpus: Path) -> Path:
    digest = hashlib.sha256((corpus / "labels.csv").read_bytes()).hexdigest()[:16]
    return corpus / f"asr-moonshine-{digest}.json"


def _transcribe(wav: str) -> tuple[str, dict[str, str], float, float]:
    global _transcriber
    from scipy.signal import resample_poly

    if _transcriber is None:
        import moonshine_voice
        from moonshine_voice.moonshine_api import ModelArch
        from moonshine_voice.transcriber import Transcriber

        model = Path(moonshine_voice.__file__).parent / "assets" / "tiny-en"
        _transcriber = Transcriber(str(model), ModelArch.TINY)
    pcm = amd_content.first_seconds(Path(wav)).astype(np.float64) / 32768
    texts: dict[str, str] = {}
    cpu = heard = 0.0
    for anchor in ANCHORS_MS:
        audio = np.clip(resample_poly(pcm[: anchor * 8], 2, 1), -1, 1).astype(np.float32)
        start = time.process_time()
        lines = _transcriber.transcribe_without_streaming(audio.tolist(), 16000).lines
        cpu += time.process_time() - start
        heard += anchor / 1000
        texts[str(anchor)] = " ".join(line.text for line in lines).strip()
    return Path(wav).name, texts, cpu, heard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path(".cache/amd-corpus2"))
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    cache = cache_of(args.corpus)
    rows = amd_content.labelled(args.corpus)
    wavs = [str(args.corpus / r["file"]) for r in rows]
    out: dict[str, dict[str, str]] = {}
    cpu = heard = 0.0
    with ProcessPoolExecutor(args.jobs) as pool:
        for n, (name, texts, c, h) in enumerate(pool.map(_transcribe, wavs, chunksize=4), 1):
            out[name] = texts
            cpu, heard = cpu + c, heard + h
            if n % 100 == 0:
                print(f"{n}/{len(wavs)}: {name} at 3.5 s: {texts['3500']!r}", file=sys.stderr)
    cache.write_text(json.dumps(out, indent=0, sort_keys=True))
    print(
        f"{args.corpus}: {len(out)} items, {len(ANCHORS_MS)} anchors each, recogniser CPU"
        f" {cpu / heard * 1000:.1f} ms per second of audio read -> {cache}"
    )


if __name__ == "__main__":
    main()
