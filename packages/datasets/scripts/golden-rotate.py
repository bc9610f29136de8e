"""Golden numbers for rotateImages (run once, by hand): PyTorch's affine_grid + grid_sample with
align_corners=False and padding_mode='border', rotation matrix [[cos, -sin, 0], [sin, cos, 0]],
on a synthetic 28x28 image img[i, j] = sin(0.3 i) * cos(0.2 j) + 0.01 i j / 28 that the TypeScript
test rebuilds exactly. Also d(sum of w * output)/d(angle) by autograd, w[i, j] = cos(0.1 (i + 2 j)).

Usage: /usr/bin/python3 packages/datasets/scripts/golden-rotate.py
"""
import json
import math

import torch
import torch.nn.functional as F

H = W = 28
img = torch.tensor([[math.sin(0.3 * i) * math.cos(0.2 * j) + 0.01 * i * j / 28 for j in range(W)] for i in range(H)],
                   dtype=torch.float64)
wts = torch.tensor([[math.cos(0.1 * (i + 2 * j)) for j in range(W)] for i in range(H)], dtype=torch.float64)
pixels = [0, 29, 100, 203, 350, 406, 434, 517, 600, 783]
res = {"pixels": pixels}
for deg in [260.0, 33.0]:
    a = torch.tensor(math.radians(deg), dtype=torch.float64, requires_grad=True)
    c, s = torch.cos(a), torch.sin(a)
    z = torch.zeros((), dtype=torch.float64)
    mat = torch.stack([torch.stack([c, -s, z]), torch.stack([s, c, z])]).unsqueeze(0)
    grid = F.affine_grid(mat, [1, 1, H, W], align_corners=False)
    out = F.grid_sample(img.view(1, 1, H, W), grid, mode="bilinear", padding_mode="border", align_corners=False)
    loss = (out.view(H, W) * wts).sum()
    loss.backward()
    flat = out.detach().flatten()
    res[str(deg)] = {"values": [round(float(flat[p]), 9) for p in pixels], "grad": round(float(a.grad), 9)}
print(json.dumps(res))
