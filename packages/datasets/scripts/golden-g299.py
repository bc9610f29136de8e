"""Golden numbers for the PyTorch checkpoint importer test (run once, by hand).

Usage: /usr/bin/python3 packages/datasets/scripts/golden-g299.py ../shared/fixtures/G299.ckpt

Loads the fixture state dict with torch, builds the E3 generator MLP
64 -> 256 -> ReLU -> 256 -> ReLU -> 784 -> tanh in float64, and prints G(z) at a few pixels for
latents that the TypeScript test rebuilds exactly: z_k[j] = sin(0.37 (j + 1) (k + 1)) for k = 0, 1
and z_2[j] = cos(0.11 j) - 0.5. The numbers are pasted into test/mnist-torch.test.ts.
"""
import json
import math
import sys

import torch

sd = torch.load(sys.argv[1], map_location="cpu")
net = torch.nn.Sequential(
    torch.nn.Linear(64, 256), torch.nn.ReLU(),
    torch.nn.Linear(256, 256), torch.nn.ReLU(),
    torch.nn.Linear(256, 784), torch.nn.Tanh(),
)
net.load_state_dict(sd)
net = net.double()
zs = [[math.sin(0.37 * (j + 1) * (k + 1)) for j in range(64)] for k in range(2)]
zs.append([math.cos(0.11 * j) - 0.5 for j in range(64)])
pixels = [0, 100, 203, 300, 350, 378, 406, 434, 490, 517, 600, 783]
with torch.no_grad():
    out = net(torch.tensor(zs, dtype=torch.float64))
print(json.dumps({
    "shapes": {k: list(v.shape) for k, v in sd.items()},
    "firstValues": {k: float(v.flatten()[0]) for k, v in sd.items()},
    "pixels": pixels,
    "values": [[round(float(out[k, p]), 9) for p in pixels] for k in range(3)],
    "mean": [round(float(out[k].mean()), 9) for k in range(3)],
}, indent=1))
