"""One E2 training step in PyTorch, timed (same step as apps/bench/src/e2.ts).

A simulated (S, Z, X) with n points; the Z encoder (5 seeds) and the S encoder (1 seed), each a
Set Transformer SAB(1->64, 4 heads) -> SAB(64->64) -> PMA(k) -> Linear(64->2) as in the reference
code (residual on the query, O + relu(fc_o(O)), no layer norm, scale 1/sqrt(64)); forward-KL loss
with the "mean" parameterization (Gaussian, scale 1); backward; Adam. And the ELBO step: the
observed X (S = 100) with K = 100 reparameterized samples, self-normalized weights (detached).

Usage: /usr/bin/python3 e2_step.py --n 1000 --warmup 2 --steps 5 [--threads N]
"""

import argparse
import json
import math
import os
import time

import torch
from torch import nn

MU = torch.tensor([-20.0, -10.0, 0.0, 10.0, 20.0])


class MAB(nn.Module):
    def __init__(self, dq, dk, dv, heads):
        super().__init__()
        self.dv, self.heads = dv, heads
        self.fc_q, self.fc_k, self.fc_v = nn.Linear(dq, dv), nn.Linear(dk, dv), nn.Linear(dk, dv)
        self.fc_o = nn.Linear(dv, dv)

    def forward(self, q, k):
        q = self.fc_q(q)
        kk, v = self.fc_k(k), self.fc_v(k)
        split = self.dv // self.heads
        q_, k_, v_ = (torch.cat(t.split(split, 2), 0) for t in (q, kk, v))
        a = torch.softmax(q_.bmm(k_.transpose(1, 2)) / math.sqrt(self.dv), 2)
        o = torch.cat((q_ + a.bmm(v_)).split(q.size(0), 0), 2)
        return o + torch.relu(self.fc_o(o))


class SetTransformer(nn.Module):
    def __init__(self, seeds, width=64, heads=4):
        super().__init__()
        self.sab1 = MAB(1, 1, width, heads)
        self.sab2 = MAB(width, width, width, heads)
        self.seeds = nn.Parameter(torch.randn(1, seeds, width) / math.sqrt(width))
        self.pma = MAB(width, width, width, heads)
        self.out = nn.Linear(width, 2)

    def forward(self, x):
        h = self.sab1(x, x)
        h = self.sab2(h, h)
        p = self.pma(self.seeds.repeat(x.size(0), 1, 1), h)
        return self.out(p)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    z_enc, s_enc = SetTransformer(5), SetTransformer(1)
    opt = torch.optim.Adam(list(z_enc.parameters()) + list(s_enc.parameters()), lr=1e-3)

    def normal_lp(a, b, sd):
        return -0.5 * ((a - b) / sd) ** 2 - math.log(sd) - 0.5 * math.log(2 * math.pi)

    s_obs = torch.tensor(100.0)
    z_obs = MU + s_obs + 0.5 * torch.randn(5)
    x_obs = (z_obs[torch.randint(0, 5, (args.n,))] + 0.1 * torch.randn(args.n)).view(1, args.n, 1)
    K = 100

    def elbo_step():
        z_mean = z_enc(x_obs)[0, :, 0]
        s_mean = s_enc(x_obs)[0, 0, 0]
        z = z_mean + torch.randn(K, 5)
        s = s_mean + torch.randn(K)
        log_prior = normal_lp(s, 0.0, 100.0) + normal_lp(z, MU + s[:, None], 0.5).sum(1)
        comp = normal_lp(x_obs.view(1, args.n, 1), z[:, None, :], 0.1)
        log_lik = torch.logsumexp(comp, 2).sum(1) - args.n * math.log(5)
        log_q = normal_lp(z, z_mean, 1.0).sum(1) + normal_lp(s, s_mean, 1.0)
        log_w = log_prior + log_lik - log_q
        loss = -(torch.softmax(log_w, 0).detach() * log_w).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    def step():
        s = 100 * torch.randn(())
        z = MU + s + 0.5 * torch.randn(5)
        x = (z[torch.randint(0, 5, (args.n,))] + 0.1 * torch.randn(args.n)).view(1, args.n, 1)
        z_mean = z_enc(x)[0, :, 0]
        s_mean = s_enc(x)[0, 0, 0]
        loss = 0.5 * ((z - z_mean) ** 2).sum() + 0.5 * (s - s_mean) ** 2
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    results = []
    for name, fn in (("forward-kl", step), ("elbo", elbo_step)):
        for _ in range(args.warmup):
            fn()
        times = []
        for _ in range(args.steps):
            t0 = time.perf_counter()
            fn()
            times.append((time.perf_counter() - t0) * 1000.0)
        times.sort()
        results.append({"case": f"{name}, n {args.n}", "medianMs": times[len(times) // 2]})
    print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "results": results}))

if __name__ == "__main__":
    main()
