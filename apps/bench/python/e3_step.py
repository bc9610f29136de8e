"""E3 and E4 training steps in PyTorch, timed (the same steps as apps/bench/src/e3.ts).

DESIGN section 2 E3/E4. The generator G: 64 -> 256 -> ReLU -> 256 -> ReLU -> 784 -> tanh, image =
(G(z) + 1)/2 clamped to [0, 1]; rotation: affine_grid + grid_sample (bilinear, border padding,
align_corners=False), differentiable in the angle; pixel noise sd 0.01.

- e3-lp: L_P on B simulated sets of n images (one uniform angle per set): generator forward,
  rotation, noise; angle encoder conv(1->4->16->64, 3x3, stride 2) + ReLU -> 3 x [dense 512,
  LeakyReLU 0.01] -> dense 2, averaged over each set = eta; loss -mean log vonMises(theta | eta)
  with log I0 via i0e; backward; Adam.
- e3-iwbo: IWBO on a minibatch of 32 observed images with K particles: per-image Gaussian encoder
  conv(1->2->4->8) -> dense 64 -> ReLU -> dense 128 (64 means, 64 log-sds clipped to [-12, 3]);
  z = mean + sd * eps [K, 32, 64]; log p(x | z, theta) through the generator and the rotation by
  the parameter theta; log N(z; 0, I); log q; loss -mean_b logmeanexp_k; backward; Adam.
- e4-lp: L_P on one simulated set of the 100 known images (fresh angle and noise): the angle
  encoder, q = Normal(0.5 eta_1, 0.5); backward; Adam.
- e4-elbo: ELBO on the observed set with K reparameterized angles theta_k ~ q: log-likelihood of
  the 100 known images rotated by each theta_k, minus log 2 pi, minus log q; loss -mean_k w_k.

Usage: /usr/bin/python3 e3_step.py --cases e3-lp:8x16,e3-lp:1x1000,e3-iwbo:100,e4-lp,e4-elbo:16
         --warmup 1 --steps 3 [--threads N]
Prints one JSON object on stdout.
"""

import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F
from torch import nn

NOISE = 0.01
LOG_2PI = math.log(2 * math.pi)


def generator():
    return nn.Sequential(
        nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 784), nn.Tanh()
    )


def images(gen, z):
    return ((gen(z) + 1) / 2).clamp(0, 1).view(-1, 1, 28, 28)


def rotate(img, theta):
    """img [N, 1, 28, 28], theta [N] -> rotated [N, 1, 28, 28] (border padding)."""
    c, s = torch.cos(theta), torch.sin(theta)
    zero = torch.zeros_like(c)
    mat = torch.stack((torch.stack((c, -s, zero), 1), torch.stack((s, c, zero), 1)), 1)
    grid = F.affine_grid(mat, list(img.shape), align_corners=False)
    return F.grid_sample(img, grid, mode="bilinear", padding_mode="border", align_corners=False)


class AngleEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(1, 4, 3, 2), nn.Conv2d(4, 16, 3, 2), nn.Conv2d(16, 64, 3, 2)])
        self.fcs = nn.ModuleList([nn.Linear(256, 512), nn.Linear(512, 512), nn.Linear(512, 512)])
        self.out = nn.Linear(512, 2)

    def forward(self, x):
        """x [B, n, 28, 28] -> eta [B, 2] (per-image outputs averaged over each set)."""
        b, n = x.shape[:2]
        h = x.reshape(b * n, 1, 28, 28)
        for c in self.convs:
            h = torch.relu(c(h))
        h = h.reshape(b * n, 256)
        for f in self.fcs:
            h = F.leaky_relu(f(h), 0.01)
        return self.out(h).view(b, n, 2).mean(1)


class LatentEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList([nn.Conv2d(1, 2, 3, 2), nn.Conv2d(2, 4, 3, 2), nn.Conv2d(4, 8, 3, 2)])
        self.fc = nn.Linear(32, 64)
        self.out = nn.Linear(64, 128)

    def forward(self, x):
        h = x.reshape(-1, 1, 28, 28)
        for c in self.convs:
            h = torch.relu(c(h))
        return self.out(torch.relu(self.fc(h.reshape(h.shape[0], 32))))


def von_mises_nll(eta, theta):
    kappa = torch.linalg.vector_norm(eta, dim=1)
    log_i0 = torch.log(torch.special.i0e(kappa)) + kappa
    return -(eta[:, 0] * torch.cos(theta) + eta[:, 1] * torch.sin(theta)) + LOG_2PI + log_i0


def e3_lp(sets, n):
    gen = generator().requires_grad_(False)
    enc = AngleEncoder()
    opt = torch.optim.Adam(enc.parameters(), lr=1e-3)

    def step():
        with torch.no_grad():
            theta = torch.rand(sets) * (2 * math.pi)
            img = images(gen, torch.randn(sets * n, 64))
            rot = rotate(img, theta.repeat_interleave(n))
            x = (rot + NOISE * torch.randn_like(rot)).view(sets, n, 28, 28)
        loss = von_mises_nll(enc(x), theta).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def e3_iwbo(k, batch=32, observed=1000):
    gen = generator().requires_grad_(False)
    with torch.no_grad():
        img = images(gen, torch.randn(observed, 64))
        x_obs = rotate(img, torch.full((observed,), 260 * math.pi / 180))
        x_obs = (x_obs + NOISE * torch.randn_like(x_obs)).view(observed, 784)
    enc = LatentEncoder()
    theta = torch.zeros((), requires_grad=True)
    opt = torch.optim.Adam(list(enc.parameters()) + [theta], lr=1e-2)
    const = 784 * (-0.5 * LOG_2PI - math.log(NOISE))

    def step():
        idx = torch.randperm(observed)[:batch]
        x = x_obs[idx]
        out = enc(x)
        mean, sd = out[:, :64], torch.exp(out[:, 64:].clamp(-12, 3))
        eps = torch.randn(k, batch, 64)
        z = mean + sd * eps
        log_q = (-0.5 * eps**2 - torch.log(sd) - 0.5 * LOG_2PI).sum(2)
        rot = rotate(images(gen, z.reshape(k * batch, 64)), theta.expand(k * batch)).view(k, batch, 784)
        log_lik = -0.5 * (((x.view(1, batch, 784) - rot) / NOISE) ** 2).sum(2) + const
        log_prior = -0.5 * ((z**2).sum(2) + 64 * LOG_2PI)
        w = log_lik + log_prior - log_q
        loss = -(torch.logsumexp(w, 0) - math.log(k)).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def e4_setup(n=100):
    gen = generator().requires_grad_(False)
    with torch.no_grad():
        img = images(gen, torch.randn(n, 64))
    return img


def e4_lp(n=100):
    img = e4_setup(n)
    enc = AngleEncoder()
    opt = torch.optim.Adam(enc.parameters(), lr=1e-3)

    def step():
        with torch.no_grad():
            theta = torch.rand(1) * (2 * math.pi)
            rot = rotate(img, theta.expand(n))
            x = (rot + NOISE * torch.randn_like(rot)).view(1, n, 28, 28)
        mu = 0.5 * enc(x)[:, 0]
        loss = (0.5 * ((theta - mu) / 0.5) ** 2 + math.log(0.5) + 0.5 * LOG_2PI).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def e4_elbo(k, n=100):
    img = e4_setup(n)
    with torch.no_grad():
        x_obs = rotate(img, torch.full((n,), 260 * math.pi / 180))
        x_obs = (x_obs + NOISE * torch.randn_like(x_obs)).view(1, n, 28, 28)
    enc = AngleEncoder()
    opt = torch.optim.Adam(enc.parameters(), lr=1e-3)
    const = n * 784 * (-0.5 * LOG_2PI - math.log(NOISE))

    def step():
        mu = 0.5 * enc(x_obs)[0, 0]
        eps = torch.randn(k)
        theta = mu + 0.5 * eps
        log_q = -0.5 * eps**2 - math.log(0.5) - 0.5 * LOG_2PI
        rot = rotate(img.repeat(k, 1, 1, 1), theta.repeat_interleave(n)).view(k, n * 784)
        log_lik = -0.5 * (((x_obs.view(1, n * 784) - rot) / NOISE) ** 2).sum(1) + const
        w = log_lik - LOG_2PI - log_q
        loss = -w.mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def make(case):
    name, _, arg = case.partition(":")
    if name == "e3-lp":
        b, n = (int(v) for v in arg.split("x"))
        return e3_lp(b, n)
    if name == "e3-iwbo":
        return e3_iwbo(int(arg))
    if name == "e4-lp":
        return e4_lp()
    if name == "e4-elbo":
        return e4_elbo(int(arg))
    raise SystemExit(f"unknown case {case}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cases", required=True)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--steps", type=int, default=3)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    results = []
    for case in args.cases.split(","):
        step = make(case)
        for _ in range(args.warmup):
            step()
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            step()
            times.append((time.perf_counter() - t0) * 1000.0)
        times.sort()
        results.append({"case": case, "medianMs": times[len(times) // 2], "rounds": times})
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))


if __name__ == "__main__":
    main()
