"""One E1 training step in PyTorch, timed: the peer a user would otherwise pick.

Same step as apps/bench/src/e1.ts: 16 fresh (theta, x) pairs from the E1 simulator, the dense NTK
network relu(x W1) W2 / sqrt(W) (no biases, W2 = 0 at init), the von Mises natural-parameter
negative log-likelihood with log I0 (via i0e), the E1 learning-rate schedule, the skip-on-NaN
check, and an Adam update.

Usage: /usr/bin/python3 e1_step.py --widths 64,1024,4096 --warmup 50 --steps 300 [--threads N]
Prints one JSON object on stdout.
"""

import argparse
import json
import math
import os
import platform
import time

import torch


def run_width(width, batch, warmup, steps, seed):
    torch.manual_seed(seed)
    sigma = 0.5
    lr0 = 1e-4
    w1 = torch.randn(2, width).requires_grad_()
    w2 = torch.zeros(width, 2).requires_grad_()
    params = [w1, w2]
    opt = torch.optim.Adam(params, lr=lr0)
    scale = 1.0 / math.sqrt(width)
    log2pi = math.log(2 * math.pi)
    skipped = 0

    def step(n):
        nonlocal skipped
        theta = torch.rand(batch) * (2 * math.pi)
        ang = theta + sigma * torch.randn(batch)
        x = torch.stack((torch.cos(ang), torch.sin(ang)), dim=1)
        eta = torch.relu(x @ w1) @ w2 * scale + 1e-4
        kappa = torch.linalg.vector_norm(eta, dim=1)
        log_i0 = torch.log(torch.special.i0e(kappa)) + kappa
        nll = -(eta[:, 0] * torch.cos(theta) + eta[:, 1] * torch.sin(theta)) + log2pi + log_i0
        loss = nll.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        finite = all(bool(torch.isfinite(p.grad).all()) for p in params)
        if not finite:
            skipped += 1
            return loss
        for g in opt.param_groups:
            g["lr"] = 1.0 / (1.0 / lr0 + n / 10.0)
        opt.step()
        return loss

    for n in range(warmup):
        step(n)
    times = []
    for n in range(warmup, warmup + steps):
        t0 = time.perf_counter()
        step(n)
        times.append((time.perf_counter() - t0) * 1000.0)
    times.sort()
    return {
        "width": width,
        "medianMs": times[len(times) // 2],
        "p10Ms": times[len(times) // 10],
        "p90Ms": times[(len(times) * 9) // 10],
        "steps": steps,
        "skipped": skipped,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--widths", default="64,1024,4096")
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    results = [
        run_width(int(w), args.batch, args.warmup, args.steps, args.seed)
        for w in args.widths.split(",")
    ]
    print(
        json.dumps(
            {
                "torch": torch.__version__,
                "python": platform.python_version(),
                "threads": torch.get_num_threads(),
                "results": results,
            }
        )
    )


if __name__ == "__main__":
    main()
