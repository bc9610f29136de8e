"""Which BLAS PyTorch runs on, and its measured sgemm rate.

Debian's python3-torch calls whatever libblas.so.3 the alternatives system selects; the reference
BLAS (libblas3) is ~100x slower at sgemm than OpenBLAS, so ratios against it are meaningless. After
one matrix product this reads /proc/self/maps for the BLAS shared objects actually mapped into the
process (symlinks resolved), classifies them, and times torch.mm on square float32 matrices.

Usage: /usr/bin/python3 blas_probe.py [--threads 1,2] [--size 1024] [--reps 10]
Prints one JSON object on stdout.
"""

import argparse
import json
import os
import time

import torch


def mapped_blas():
    seen = []
    with open("/proc/self/maps") as f:
        for line in f:
            parts = line.split()
            if len(parts) < 6:
                continue
            path = parts[5]
            base = os.path.basename(path)
            if any(k in base for k in ("blas", "mkl_rt", "libmkl", "blis")) and path not in seen:
                seen.append(path)
    return [os.path.realpath(p) for p in seen]


def classify(paths):
    joined = " ".join(paths)
    if "openblas" in joined:
        return "openblas"
    if "mkl" in joined:
        return "mkl"
    if "blis" in joined:
        return "blis"
    if "atlas" in joined:
        return "atlas"
    if any(os.path.basename(p).startswith("libblas.so") for p in paths):
        return "reference"
    return "none-mapped"


def sgemm_gflops(n, reps):
    a = torch.randn(n, n)
    b = torch.randn(n, n)
    c = a @ b
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        torch.mm(a, b, out=c)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n**3 / best / 1e9


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", default="1")
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--reps", type=int, default=10)
    args = ap.parse_args()
    torch.mm(torch.randn(64, 64), torch.randn(64, 64))  # load the BLAS
    paths = mapped_blas()
    rates = {}
    for t in (int(s) for s in args.threads.split(",")):
        torch.set_num_threads(t)
        rates[str(t)] = sgemm_gflops(args.size, args.reps)
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "blasPaths": paths,
                "blas": classify(paths),
                "sgemmSize": args.size,
                "sgemmGflops": rates,
            }
        )
    )


if __name__ == "__main__":
    main()
