"""MinHash signatures over shared permutations, their LSH band keys and similarity."""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache

import numpy as np
import numpy.typing as npt
from datasketch import MinHash

Signature = npt.NDArray[np.uint32]

# Band keys and stored signatures outlive a process: the seed and scheme are part of the
# state's format, so both are fixed here, never taken from the library's defaults.
_SEED = 1
_SCHEME = "affine32"


@lru_cache(maxsize=4)
def _permutations(num_perm: int) -> npt.NDArray[np.uint32]:
    # Building permutations costs ~120 µs; every signature of one process shares them.
    return MinHash(num_perm=num_perm, seed=_SEED, scheme=_SCHEME).permutations  # type: ignore[no-any-return]


def signature(shingles: set[bytes], num_perm: int) -> Signature:
    """The MinHash of a shingle set (sorted first, so the hash never depends on set order)."""
    sketch = MinHash(num_perm=num_perm, permutations=_permutations(num_perm), scheme=_SCHEME)
    sketch.update_batch(sorted(shingles))
    return np.asarray(sketch.hashvalues, dtype=np.uint32)


def band_keys(sig: Signature, bands: int, rows: int) -> list[str]:
    """One key per LSH band: two signatures that agree on a whole band share its key."""
    little = sig.astype("<u4")
    return [
        f"b{band}:"
        + hashlib.blake2b(
            little[band * rows : (band + 1) * rows].tobytes(), digest_size=8
        ).hexdigest()
        for band in range(bands)
    ]


def similarity(left: Signature, right: Signature) -> float:
    """Estimated Jaccard similarity: the share of permutations whose minimum agrees."""
    if len(left) != len(right):
        return 0.0
    return float(np.count_nonzero(left == right)) / len(left)


def encode(sig: Signature) -> str:
    """Compact text form for the state index (little-endian uint32, base64)."""
    return base64.b64encode(sig.astype("<u4").tobytes()).decode("ascii")


def decode(text: str) -> Signature:
    """Inverse of `encode`."""
    return np.frombuffer(base64.b64decode(text), dtype="<u4").astype(np.uint32)
