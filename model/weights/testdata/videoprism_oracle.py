"""PyTorch oracle for cpllm's VideoPrism import.

A float32 PyTorch forward pass of VideoPrism's factorised encoder written
from google-deepmind/videoprism (encoders.FactorizedEncoder and layers.py):
patch projection over (row, column, channel) patches, spatial position
table (resized with jax.image.resize's bilinear weights when the grid
differs), pre-LN transformer layers whose LayerNorm scales by (1 + scale),
attention projections [D, N, H] with queries scaled by 1/sqrt(H), exact
(erf) GELU MLPs, spatial_ln, then a temporal transformer across frames with
its own position table and temporal_ln. The checkpoint is written as the
released files are: np.savez of the '/'-joined flax parameter paths under
params/, layers stacked on a leading axis (scan, x_layers).

Usage: videoprism_oracle.py CONFIG.json OUTDIR
  -> OUTDIR/videoprism.npz (checkpoint), OUTDIR/io.npz (images uint8 values
     as float32 [B, K, S, S, 3], tokens [B, K*N, D]).
CONFIG: seed, batch, frames (K), image_size (S), resize (0 = none: CP-LLM
enlarges each patch bilinearly, align_corners=False, before VideoPrism),
patch_size, width, heads, mlp_dim, spatial_layers, temporal_layers,
pos_emb_shape [T0, H0, W0].
"""
import json
import math
import os
import sys

import numpy as np
import torch

EPS = 1e-6  # layers.LayerNorm default


def jax_linear_resize_matrix(n_in, n_out):
    """jax.image.scale_and_translate weights for the triangle kernel with
    antialiasing (jax.image.resize's default): [n_out, n_in]."""
    inv = n_in / n_out
    kernel_scale = max(inv, 1.0)
    sample = (np.arange(n_out) + 0.5) * inv - 0.5
    x = np.abs(sample[None, :] - np.arange(n_in)[:, None]) / kernel_scale
    w = np.maximum(0, 1 - np.abs(x))
    total = w.sum(axis=0, keepdims=True)
    w = np.where(np.abs(total) > 1000 * np.finfo(np.float32).eps, w / np.where(total != 0, total, 1), 0)
    ok = (sample >= -0.5) & (sample <= n_in - 0.5)
    return torch.tensor(np.where(ok[None, :], w, 0).T, dtype=torch.float32)


def layer_norm(x, p):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) * torch.rsqrt(var + EPS) * (1 + p["scale"]) + p["bias"]


def transformer_layer(x, p, heads):
    h = layer_norm(x, p["layer_norm"])
    a = p["self_attention"]
    q = torch.einsum("btd,dnh->btnh", h, a["query"]["w"]) + a["query"]["b"]
    k = torch.einsum("btd,dnh->btnh", h, a["key"]["w"]) + a["key"]["b"]
    v = torch.einsum("btd,dnh->btnh", h, a["value"]["w"]) + a["value"]["b"]
    q = q * (q.shape[-1] ** -0.5)
    probs = torch.softmax(torch.einsum("btnh,bsnh->bnts", q, k), dim=-1)
    enc = torch.einsum("bnts,bsnh->btnh", probs, v)
    x = x + torch.einsum("btnh,dnh->btd", enc, a["post"]["w"]) + a["post"]["b"]
    f = p["ff_layer"]
    h = layer_norm(x, f["layer_norm"])
    h = torch.nn.functional.gelu(h @ f["ffn_layer1"]["linear"]["kernel"] + f["ffn_layer1"]["linear"]["bias"])
    return x + h @ f["ffn_layer2"]["linear"]["kernel"] + f["ffn_layer2"]["linear"]["bias"]


def stack(x, p, layers, heads):
    """StackedTransformer with scan: parameters carry a leading layer axis."""
    for i in range(layers):
        x = transformer_layer(x, tree_index(p, i), heads)
    return x


def tree_index(p, i):
    return {k: tree_index(v, i) for k, v in p.items()} if isinstance(p, dict) else p[i]


def encoder(params, x, c):
    """x [B, T, H, W, 3] in [0, 1] -> [B, T*N, D] (FactorizedEncoder.__call__)."""
    b, t, h, w, ch = x.shape
    ps = c["patch_size"]
    m, n = h // ps, w // ps
    x = x.reshape(b * t, m, ps, n, ps, ch).permute(0, 1, 3, 2, 4, 5).reshape(b * t, m * n, ps * ps * ch)
    pp = params["patch_projection"]["linear"]
    x = x @ pp["kernel"] + pp["bias"]
    t0, h0, w0 = c["pos_emb_shape"]
    pos = params["spatial_pos_emb"]["emb_var"]
    if (h0, w0) != (m, n):  # _interpolate_emb_2d: jax.image.resize over (H, W)
        grid = pos.reshape(h0, w0, -1)
        grid = torch.einsum("yi,ijd->yjd", jax_linear_resize_matrix(h0, m), grid)
        grid = torch.einsum("xj,yjd->yxd", jax_linear_resize_matrix(w0, n), grid)
        pos = grid.reshape(m * n, -1)
    x = x + pos
    x = stack(x, params["spatial_encoder"]["transformers_stack"]["x_layers"], c["spatial_layers"], c["heads"])
    x = layer_norm(x, params["spatial_ln"])
    d = x.shape[-1]
    x = x.reshape(b, t, m * n, d).permute(0, 2, 1, 3).reshape(b * m * n, t, d)  # (bt)nd->(bn)td
    tpos = params["temporal_pos_emb"]["emb_var"]
    if t0 != t:  # _interpolate_emb_1d
        tpos = jax_linear_resize_matrix(t0, t) @ tpos
    x = x + tpos
    x = stack(x, params["temporal_encoder"]["transformers_stack"]["x_layers"], c["temporal_layers"], c["heads"])
    x = layer_norm(x, params["temporal_ln"])
    return x.reshape(b, m * n, t, d).permute(0, 2, 1, 3).reshape(b, t * m * n, d)  # (bn)td->b(tn)d


def random_params(c, gen):
    d, nh, f = c["width"], c["heads"], c["mlp_dim"]
    hd = d // nh
    rn = lambda *s, std=1.0: torch.randn(s, generator=gen) * std

    def ln(*lead):
        return {"scale": rn(*lead, d, std=0.1), "bias": rn(*lead, d, std=0.1)}

    def stack_params(n):
        proj = lambda: {"w": rn(n, d, nh, hd, std=d ** -0.5), "b": rn(n, nh, hd, std=0.1)}
        return {"layer_norm": ln(n),
                "self_attention": {"query": proj(), "key": proj(), "value": proj(),
                                   "post": {"w": rn(n, d, nh, hd, std=d ** -0.5), "b": rn(n, d, std=0.1)}},
                "ff_layer": {"layer_norm": ln(n),
                             "ffn_layer1": {"linear": {"kernel": rn(n, d, f, std=d ** -0.5), "bias": rn(n, f, std=0.1)}},
                             "ffn_layer2": {"linear": {"kernel": rn(n, f, d, std=f ** -0.5), "bias": rn(n, d, std=0.1)}}}}

    t0, h0, w0 = c["pos_emb_shape"]
    p = c["patch_size"]
    return {"patch_projection": {"linear": {"kernel": rn(p * p * 3, d, std=(p * p * 3) ** -0.5), "bias": rn(d, std=0.1)}},
            "spatial_pos_emb": {"emb_var": rn(h0 * w0, d, std=0.5)},
            "temporal_pos_emb": {"emb_var": rn(t0, d, std=0.5)},
            "spatial_encoder": {"transformers_stack": {"x_layers": stack_params(c["spatial_layers"])}},
            "temporal_encoder": {"transformers_stack": {"x_layers": stack_params(c["temporal_layers"])}},
            "spatial_ln": ln(), "temporal_ln": ln()}


def flatten(tree, prefix=""):
    """utils.traverse_with_names: '/'-joined paths of the leaves."""
    out = {}
    for k in sorted(tree):
        v = tree[k]
        if isinstance(v, dict):
            out.update(flatten(v, prefix + k + "/"))
        else:
            out[prefix + k] = v.numpy().astype(np.float32)
    return out


def main():
    torch.set_num_threads(1)
    with open(sys.argv[1]) as f:
        c = json.load(f)
    out = sys.argv[2]
    gen = torch.Generator().manual_seed(c["seed"])
    params = random_params(c, gen)
    np.savez(os.path.join(out, "videoprism.npz"), **flatten({"params": params}))
    s, k = c["image_size"], c["frames"]
    images = torch.randint(0, 256, (c["batch"], k, s, s, 3), generator=gen)
    x = images.float() / 255
    if c["resize"]:
        r = c["resize"]
        x = torch.nn.functional.interpolate(x.reshape(-1, s, s, 3).permute(0, 3, 1, 2), size=(r, r),
                                            mode="bilinear", align_corners=False)
        x = x.permute(0, 2, 3, 1).reshape(c["batch"], k, r, r, 3)
    with torch.no_grad():
        tokens = encoder(params, x, c)
    np.savez(os.path.join(out, "io.npz"), images=images.float().numpy(), tokens=tokens.numpy())


if __name__ == "__main__":
    main()
