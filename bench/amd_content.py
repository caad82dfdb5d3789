"""What is said, measured (h-content): does a speech model trained on real speech, with a small
head trained on the corpus, add to timing what issue 16's targets need?

The front end is Google's speech_embedding (the ONNX melspectrogram and embedding models that
PyPI's `openwakeword` 0.5.1 wheel carries; trained by Google on real speech for keyword
spotting): a 96-number embedding of each 790 ms window of 16 kHz audio, every 80 ms. The corpus's
8 kHz audio is upsampled by 2 to feed it. The head: per decision time, a logistic regression on
the mean and the maximum of the embeddings of the windows that end by then (``pooled``), trained
on the tune half (out of fold, five folds by text, so every tune score is from a head that never
heard that text) plus, with ``--train``, the train pool's items (bench/amd_corpus2_pools.py: the
tune half's voices with texts of their own); the held-out half is scored by heads trained on all
of them. The score is then one more column of bench/amd_bound.py's timing rows, and amd_bound's
trees, policies and fronts run on "ear" (the detector's ear, timing only) and "ear+content"
(and, with ``--ear both``, on the labels' perfect utterance detector, "truth" and
"truth+content"). With ``--silero-onnx FILE`` (silero_vad.onnx from the silero-vad 6.2.3 wheel,
``pip download silero-vad==6.2.3 --no-deps``), also "silero" and "silero+content": silero's
voice at 8 kHz in 32 ms windows, above 0.5, as the voice, with the detector's own tone frames.

Nothing here is in the detector: this is a measurement. It needs what the project does not
install (requirements/bench-content.txt, into the project's .venv):

    .venv/bin/pip install -r requirements/bench-content.txt
    .venv/bin/python bench/amd_corpus2.py --halves train --per-half 2000 --seed 2017 \\
        --out .cache/amd-corpus2-train
    .venv/bin/python bench/amd_content.py [--corpus .cache/amd-corpus2] \\
        [--train .cache/amd-corpus2-train] [--ear ear|both] [--held-out] [--c 0.1] \\
        [--silero-onnx silero_vad.onnx]

The embeddings of each corpus are cached beside it (``content-embeddings-<labels>.npz``, by a
digest of its labels.csv); the run prints their CPU per call-second (one thread).
"""

import argparse
import csv
import hashlib
import importlib.util
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).parent))
import amd_bound
from dialer.telephony.amd_settings import AmdSettings
from dialer.telephony.pcm import read_wav_8k

Array = npt.NDArray[np.float64]
# An embedding reads 76 mel frames 10 ms apart, each of 40 ms of audio (640 samples at 16 kHz,
# measured on the ONNX model: 1280 samples give 5 frames, 16000 give 97): 790 ms of audio.
WINDOW_MS = 790
STEP_MS = 80  # one embedding every 8 mel frames
SECONDS = 10  # amd_bound's last decision point
ANCHORS_MS = (1000, 1500, 2000, 2500, 3000, 3500, 4000, 5000, 8000)  # a head per anchor
FOLDS = 5


def pooled(embeddings: Array, t_ms: int) -> Array:
    """The mean and the maximum of the embeddings of the windows whose audio ends by ``t_ms``
    (the resampling filter reads about 1 ms further). Before the first window ends this is the
    first window's; no head scores a point that early (``ANCHORS_MS`` start at 1000 ms, and the
    points before get no score)."""
    ended = (t_ms - WINDOW_MS) // STEP_MS + 1
    windows = embeddings[: max(1, min(ended, len(embeddings)))]
    return np.concatenate([windows.mean(axis=0), windows.max(axis=0)])


def anchor_of(t_ms: int) -> int | None:
    """The latest anchor at or before ``t_ms``: the head that scores that time."""
    earlier = [a for a in ANCHORS_MS if a <= t_ms]
    return earlier[-1] if earlier else None


class Embedder:
    """Google's speech_embedding through onnxruntime, one thread."""

    def __init__(self) -> None:
        import onnxruntime as ort

        spec = importlib.util.find_spec("openwakeword")
        if spec is None or not spec.submodule_search_locations:
            raise SystemExit("pip install -r requirements/bench-content.txt (openwakeword 0.5.1)")
        models = Path(next(iter(spec.submodule_search_locations))) / "resources" / "models"
        options = ort.SessionOptions()
        options.intra_op_num_threads = options.inter_op_num_threads = 1
        cpu = ["CPUExecutionProvider"]
        mel, net = models / "melspectrogram.onnx", models / "embedding_model.onnx"
        self.mel = ort.InferenceSession(str(mel), options, providers=cpu)
        self.net = ort.InferenceSession(str(net), options, providers=cpu)

    def __call__(self, pcm8: npt.NDArray[np.int16]) -> Array:
        from scipy.signal import resample_poly

        audio = np.clip(resample_poly(pcm8.astype(np.float64), 2, 1), -32768, 32767)
        # openwakeword's own scaling of the melspectrogram, to match Google's TF Hub model
        spec = np.squeeze(self.mel.run(None, {"input": audio.astype(np.float32)[None]})[0])
        spec = spec / 10 + 2
        frames = 76
        windows = np.array(
            [spec[i : i + frames] for i in range(0, spec.shape[0] - frames + 1, STEP_MS // 10)]
        )
        out = self.net.run(None, {"input_1": windows[..., None].astype(np.float32)})[0]
        return np.asarray(np.squeeze(out), dtype=np.float64)


def silero_frames(corpus: Path, model: Path) -> dict[str, Array]:
    """silero-vad's speech probability for each 20 ms frame of each person's and machine's first
    10 s (the 32 ms window that holds the frame's end), cached beside the corpus."""
    import onnxruntime as ort

    cache, rows, stored = _cached(corpus, "silero-frames")
    if stored is not None:
        return stored
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
    frames = amd_bound.POINTS_MS[-1] // amd_bound.FRAME_MS
    rate = np.array(8000, dtype=np.int64)
    cpu, out = 0.0, {}
    for r in rows:
        x = first_seconds(corpus / r["file"]) / 32768
        started = time.process_time()
        state = np.zeros((2, 1, 128), dtype=np.float32)
        context = np.zeros(32, dtype=np.float32)
        probabilities = []
        for i in range(0, x.size - 255, 256):  # 32 ms windows, with 32 samples of context
            window = np.concatenate((context, x[i : i + 256])).astype(np.float32)[None]
            prob, state = session.run(None, {"input": window, "state": state, "sr": rate})
            probabilities.append(float(prob[0][0]))
            context = window[0, -32:]
        cpu += time.process_time() - started
        p = np.array(probabilities)
        out[r["file"]] = p[np.minimum((np.arange(frames) * 160 + 159) // 256, len(p) - 1)]
    np.savez_compressed(cache, **out)
    print(
        f"{corpus}: silero CPU {cpu / (len(out) * frames * 0.02) * 1000:.1f} ms per call-second",
        file=sys.stderr,
    )
    return out


def _cached(corpus: Path, name: str) -> tuple[Path, list[dict[str, str]], dict[str, Array] | None]:
    """The cache file of ``name`` for this corpus, its people and machines, and what the cache
    holds for them if it holds them all. A cache is of one corpus's labels: one made again with
    another seed into the same folder has the same file names."""
    digest = hashlib.sha256((corpus / "labels.csv").read_bytes()).hexdigest()[:12]
    cache = corpus / f"{name}-{digest}.npz"
    rows = labelled(corpus)
    if cache.exists():
        stored = np.load(cache)
        if all(r["file"] in stored for r in rows):
            return cache, rows, {r["file"]: stored[r["file"]] for r in rows}
    return cache, rows, None


def first_seconds(wav: Path) -> npt.NDArray[np.int16]:
    """The file's first ``SECONDS`` at 8 kHz, padded with silence."""
    pcm = np.frombuffer(read_wav_8k(wav), dtype="<i2")[: SECONDS * 8000]
    return np.concatenate([pcm, np.zeros(SECONDS * 8000 - len(pcm), dtype=np.int16)])


def labelled(corpus: Path) -> list[dict[str, str]]:
    with (corpus / "labels.csv").open() as f:
        return [r for r in csv.DictReader(f) if r["label"] in ("human", "machine")]


def embeddings(corpus: Path) -> dict[str, Array]:
    """Each person's and machine's first 10 s embedded (cached beside the corpus)."""
    cache, rows, stored = _cached(corpus, "content-embeddings")
    if stored is not None:
        return stored
    embed, cpu, out = Embedder(), 0.0, {}
    for r in rows:
        pcm = first_seconds(corpus / r["file"])
        started = time.process_time()
        out[r["file"]] = embed(pcm)
        cpu += time.process_time() - started
    np.savez_compressed(cache, **out)
    print(
        f"{corpus}: {len(out)} items embedded, CPU {cpu / (len(out) * SECONDS) * 1000:.1f} ms"
        " per call-second",
        file=sys.stderr,
    )
    return out


Features = Callable[[Sequence[dict[str, str]], int], Array]  # items' rows at a point


def embedded(emb: dict[str, Array]) -> Features:
    """The pooled embeddings of items at a point, a row each."""
    width = 2 * next(iter(emb.values())).shape[1]  # mean and maximum of each number

    def stack(rows: Sequence[dict[str, str]], t_ms: int) -> Array:
        return np.array([pooled(emb[r["file"]], t_ms) for r in rows]).reshape(len(rows), width)

    return stack


def scores(
    tune: Sequence[dict[str, str]],
    held: Sequence[dict[str, str]],
    extra: Sequence[dict[str, str]],
    stack: Features,
    c: float,
) -> dict[str, Array]:
    """Each tune and held-out item's content score at every one of amd_bound's points, from
    heads on ``stack``'s rows (bench/amd_words.py gives it the words said instead)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold

    def head(x: Array, y: npt.NDArray[np.bool_]) -> Any:
        return LogisticRegression(C=c, max_iter=3000).fit(x, y)

    y = np.array([r["label"] == "machine" for r in tune])
    y_extra = np.array([r["label"] == "machine" for r in extra], dtype=np.bool_)
    texts = np.array([r["text_id"].split("+")[0] for r in tune])  # a long greeting by its first
    out = {r["file"]: np.zeros(len(amd_bound.POINTS_MS)) for r in (*tune, *held)}
    for a in ANCHORS_MS:
        x, x_extra = stack(tune, a), stack(extra, a)
        folds = [
            (te, head(np.vstack([x[tr], x_extra]), np.concatenate([y[tr], y_extra])))
            for tr, te in GroupKFold(FOLDS).split(x, y, texts)
        ]
        full = head(np.vstack([x, x_extra]), np.concatenate([y, y_extra]))
        for j, t in enumerate(amd_bound.POINTS_MS):
            if anchor_of(t) != a:
                continue
            for te, model in folds:
                fold = model.decision_function(stack([tune[i] for i in te], t))
                for i, s in zip(te, fold, strict=True):
                    out[tune[i]["file"]][j] = s
            for r, s in zip(held, full.decision_function(stack(held, t)), strict=True):
                out[r["file"]][j] = s
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path(".cache/amd-corpus2"))
    parser.add_argument("--train", type=Path, default=None, help="the train pool's corpus")
    parser.add_argument("--ear", choices=["ear", "both"], default="ear")
    parser.add_argument("--held-out", action="store_true", help="also score the held-out half")
    parser.add_argument("--c", type=float, default=0.1, help="the heads' inverse regularisation")
    parser.add_argument("--silero-onnx", type=Path, default=None, help="also silero as the ear")
    args = parser.parse_args()
    rows = labelled(args.corpus)
    emb = embeddings(args.corpus)
    extra = labelled(args.train) if args.train else []
    if args.train:
        emb |= embeddings(args.train)
    tune = [r for r in rows if r["half"] == "tune"]
    held = [r for r in rows if r["half"] == "held-out"]
    content = scores(tune, held, extra, embedded(emb), args.c)
    items = amd_bound.load(args.corpus)
    ears = ["ear", "truth"] if args.ear == "both" else ["ear"]
    if args.silero_onnx:
        ears.append("silero")
        voice = silero_frames(args.corpus, args.silero_onnx)
        tones = np.load(amd_bound.ear_cache(args.corpus, AmdSettings()))  # load has made it
        for item in items:
            tone = tones[item.file][1]
            item.rows["silero"] = amd_bound.timeline_rows((voice[item.file] > 0.5) & ~tone, tone)
    for item in items:
        for ear in ears:
            item.rows[f"{ear}+content"] = np.column_stack([item.rows[ear], content[item.file]])
    tune_items = [i for i in items if i.half == "tune"]
    held_items = [i for i in items if i.half == "held-out"] if args.held_out else []
    print(f"train pool: {len(extra)} people and machines" if extra else "no train pool")
    for ear in ears:
        for name in (ear, f"{ear}+content"):
            amd_bound.run(tune_items, held_items, name)


if __name__ == "__main__":
    main()
