"""PyTorch reference timing of one E2 training step (forward + backward + Adam), for `pnpm bench`.

Same architecture as gcvi's E2 (DESIGN §2): two Set Transformers SAB(1→64, 4 heads) → SAB(64→64)
→ PMA(k) → Linear(64→2), k = 5 for Z and 1 for S; q independent Gaussians (mean parameterization);
L_P on one fresh simulated set per step, or the ELBO on a fixed set with K reparameterized samples
and the reference's softmax weighting. Prints one JSON line per objective.

usage: /usr/bin/python3 bench_torch.py [--points 1000] [--reps 10] [--threads 1]
"""
import argparse
import json
import math
import time

import torch
from torch import nn


class MAB(nn.Module):
    def __init__(self, dq, dk, dv, heads):
        super().__init__()
        self.dv, self.h = dv, heads
        self.fc_q, self.fc_k, self.fc_v, self.fc_o = nn.Linear(dq, dv), nn.Linear(dk, dv), nn.Linear(dk, dv), nn.Linear(dv, dv)

    def forward(self, q, k):
        q = self.fc_q(q)
        kk, v = self.fc_k(k), self.fc_v(k)
        s = self.dv // self.h
        q_, k_, v_ = (torch.cat(t.split(s, 2), 0) for t in (q, kk, v))
        a = torch.softmax(q_.bmm(k_.transpose(1, 2)) / math.sqrt(self.dv), 2)
        o = torch.cat((q_ + a.bmm(v_)).split(q.size(0), 0), 2)
        return o + torch.relu(self.fc_o(o))


class SetTransformer(nn.Module):
    def __init__(self, seeds, width=64, heads=4):
        super().__init__()
        self.sab0, self.sab1 = MAB(1, 1, width, heads), MAB(width, width, width, heads)
        self.S = nn.Parameter(torch.empty(1, seeds, width))
        nn.init.xavier_uniform_(self.S)
        self.pma = MAB(width, width, width, heads)
        self.out = nn.Linear(width, 2)

    def forward(self, x):
        h = self.sab0(x, x)
        h = self.sab1(h, h)
        h = self.pma(self.S.repeat(x.size(0), 1, 1), h)
        return self.out(h)


MU = torch.tensor([-20.0, -10.0, 0.0, 10.0, 20.0])


def simulate(n):
    s = torch.randn(1) * 100
    z = MU + s + 0.5 * torch.randn(5)
    c = torch.randint(0, 5, (n,))
    x = z[c] + 0.1 * torch.randn(n)
    return torch.cat([z, s]).unsqueeze(0), x.view(1, n, 1)


def log_joint(theta, x):  # theta [K, 1, 6], x [1, n, 1] -> [K, 1]
    z, s = theta[..., :5], theta[..., 5:]
    lp = -0.5 * (s / 100) ** 2 - math.log(100) - 0.5 * math.log(2 * math.pi)
    lp = lp.sum(-1) + (-0.5 * ((z - MU - s) / 0.5) ** 2 - math.log(0.5) - 0.5 * math.log(2 * math.pi)).sum(-1)
    d = (x.view(1, 1, -1, 1) - z.unsqueeze(2)) / 0.1
    lx = torch.logsumexp(-0.5 * d ** 2, -1) - math.log(5) - math.log(0.1) - 0.5 * math.log(2 * math.pi)
    return lp + lx.sum(-1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--reps", type=int, default=10)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--K", type=int, default=100)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    ez, es = SetTransformer(5), SetTransformer(1)
    opt = torch.optim.Adam(list(ez.parameters()) + list(es.parameters()), lr=1e-3)
    _, x_obs = simulate(a.points)

    def loc(x):
        return torch.cat([ez(x)[..., 0], es(x)[..., 0]], 1)  # [1, 6]

    def step(objective):
        opt.zero_grad()
        if objective == "forward-kl":
            theta, x = simulate(a.points)
            loss = (0.5 * (theta - loc(x)) ** 2).sum()
        else:
            m = loc(x_obs)
            eps = torch.randn(a.K, 1, 6)
            w = log_joint(m + eps, x_obs) - (-0.5 * eps ** 2).sum(-1)
            loss = -(torch.softmax(w.detach(), 0) * w).sum()
        loss.backward()
        opt.step()

    for objective in ("forward-kl", "elbo"):
        for _ in range(2):
            step(objective)
        t0 = time.perf_counter()
        for _ in range(a.reps):
            step(objective)
        ms = (time.perf_counter() - t0) / a.reps * 1000
        print(json.dumps({"objective": objective, "points": a.points, "threads": a.threads,
                          "torch": torch.__version__, "msPerStep": round(ms, 2)}))


if __name__ == "__main__":
    main()
