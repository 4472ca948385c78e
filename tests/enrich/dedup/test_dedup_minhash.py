"""MinHash signatures over shared permutations."""

from __future__ import annotations

import numpy as np
from datasketch import MinHash

from pipeline.enrich.dedup import minhash
from pipeline.enrich.dedup.text import shingles

TEXT = (
    "Two women have been photographing the security gates and CCTV cameras at the embassy "
    "every morning this week and they write notes in a small book"
)


def test_signature_equals_a_fresh_datasketch_minhash_with_the_same_seed_and_scheme() -> None:
    items = shingles(TEXT, 3)
    fresh = MinHash(num_perm=64, seed=1, scheme="affine32")
    fresh.update_batch(sorted(items))
    assert np.array_equal(minhash.signature(items, 64), fresh.hashvalues)


def test_encode_decode_round_trip() -> None:
    sig = minhash.signature(shingles(TEXT, 3), 128)
    assert np.array_equal(minhash.decode(minhash.encode(sig)), sig)


def test_band_keys_are_stable_and_differ_per_band() -> None:
    sig = minhash.signature(shingles(TEXT, 3), 128)
    keys = minhash.band_keys(sig, 16, 4)
    assert keys == minhash.band_keys(minhash.signature(shingles(TEXT, 3), 128), 16, 4)
    assert len(set(keys)) == 16
    assert all(key.startswith(f"b{band}:") for band, key in enumerate(keys))


def test_similarity_estimates_jaccard() -> None:
    left = {f"w{i}".encode() for i in range(100)}
    right = {f"w{i}".encode() for i in range(20, 120)}  # Jaccard 80/120
    estimate = minhash.similarity(minhash.signature(left, 256), minhash.signature(right, 256))
    assert abs(estimate - 80 / 120) < 0.1
    assert minhash.similarity(minhash.signature(left, 128), minhash.signature(left, 128)) == 1.0
