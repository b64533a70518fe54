"""PyTorch peer of cpllm's small CP-LLMs, score task, for throughput
comparison (and a parameter-count check) only.

--config tiny (default): configs/model/tiny.yaml, variant context+pixel/concat.
--config demo: configs/model/demo.yaml, variant pixel-only/concat.

Same architecture and shapes as the Go model: a SigLIP-style ViT context
encoder, a VideoPrism-style factorised pixel encoder (spatial ViT within each
patch, then a transformer across the K patches; demo puts 7x7 local contrast
normalisation (MSCN) and a 3x3 conv + GELU stem before its patch embedding),
MLP projectors, a Gemma-style decoder (RMSNorm 1+w, RoPE rotate-half,
multi-query attention, GeGLU, tied embeddings scaled by sqrt(D)) with LoRA on
q/k/v, a level-word score head plus a regression head; AdamW on the trainable
set. The decoder's base weights are frozen for tiny (trainable.decoder: lora)
and train with the adapters for demo (trainable.decoder: full); encoders,
projectors and heads train in both.

Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 torch_tiny.py [--config demo] --batch 8 --text-len 16 --steps 50
Prints one JSON line: {"train_steps_per_s": ..., "forward_per_s": ..., "params_total": ..., ...}.
--count-only builds the model and prints only its parameter counts, whole and
per component (the Go model's Components), without running it.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)

# The model configs (configs/model/<name>.yaml), as far as they matter here.
_DECODER = dict(vocab=512, width=128, heads=4, kv_heads=1, head_dim=32, mlp=512, theta=10000.0, eps=1e-6)
_ENCODER = dict(width=64, heads=4, mlp=256, ln_eps=1e-6, stem=0, local_norm=0, local_norm_eps=0.0)
CONFIGS = {
    "tiny": dict(
        M=4, K=2, S=32,
        context=dict(_ENCODER, patch=16, layers=2, mean=0.5, std=0.5),
        pixel=dict(_ENCODER, patch=16, layers=1, temporal_layers=1, mean=0.0, std=1.0),
        decoder=dict(_DECODER, layers=2),
        lora=dict(rank=4, alpha=4.0),  # on q_proj, k_proj, v_proj
        train_decoder="lora",  # base frozen, adapters train
    ),
    "demo": dict(
        M=4, K=2, S=32,
        context=None,  # pixel-only
        pixel=dict(_ENCODER, patch=8, layers=1, temporal_layers=1, mean=0.0, std=1.0,
                   stem=16, local_norm=7, local_norm_eps=1e-3),
        decoder=dict(_DECODER, layers=1),
        lora=dict(rank=4, alpha=4.0),
        train_decoder="full",  # base and adapters train
    ),
}
LEVEL_IDS = [4, 5, 6, 7, 8]
BOS = 1


def gelu(x):
    return F.gelu(x, approximate="tanh")


def local_norm(x, w, eps):
    """MSCN of x [N, C, H, W] per channel (vit.LocalNorm): (x - mean) /
    sqrt(var + eps) over a w x w window clipped at the border, var being the
    window mean of (x - its own local mean)^2."""
    box = lambda y: F.avg_pool2d(y, w, stride=1, padding=w // 2, count_include_pad=False)
    d = x - box(x)
    return d / torch.sqrt(box(d * d) + eps)


class Block(nn.Module):  # SigLIP pre-LN block
    def __init__(self, e):
        super().__init__()
        d = e["width"]
        self.heads = e["heads"]
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=e["ln_eps"]), nn.LayerNorm(d, eps=e["ln_eps"])
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(d, e["mlp"]), nn.Linear(e["mlp"], d)

    def forward(self, x):
        n, t, d = x.shape
        h = self.ln1(x)
        split = lambda y: y.view(n, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), -1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(n, t, d))
        return x + self.fc2(gelu(self.fc1(self.ln2(x))))


class ViT(nn.Module):
    """vit.Forward: normalise, [MSCN], [3x3 conv stem + GELU], patchify,
    linear patch embedding + position embedding, blocks, post-LN."""

    def __init__(self, e, s):
        super().__init__()
        p, d = e["patch"], e["width"]
        self.e = e
        self.stem = nn.Conv2d(3, e["stem"], 3, padding=1) if e["stem"] else None
        ch = e["stem"] or 3
        self.patch = nn.Linear(p * p * ch, d)
        self.pos = nn.Parameter(torch.randn((s // p) ** 2, d) * 0.02)
        self.blocks = nn.ModuleList(Block(e) for _ in range(e["layers"]))
        self.post = nn.LayerNorm(d, eps=e["ln_eps"])

    def forward(self, img):  # uint8 [N, S, S, 3]
        e = self.e
        n, s, p = img.shape[0], img.shape[1], e["patch"]
        g = s // p
        x = (img.float() / 255 - e["mean"]) / e["std"]
        if e["local_norm"] or self.stem is not None:
            x = x.permute(0, 3, 1, 2)  # NCHW
            if e["local_norm"]:  # no parameters before it: no gradient (Go: StopGradient)
                x = local_norm(x, e["local_norm"], e["local_norm_eps"])
            if self.stem is not None:
                x = gelu(self.stem(x))
            x = x.permute(0, 2, 3, 1)  # NHWC
        c = x.shape[-1]
        x = x.reshape(n, g, p, g, p, c).permute(0, 1, 3, 2, 4, 5).reshape(n, g * g, p * p * c)
        x = self.patch(x) + self.pos
        for b in self.blocks:
            x = b(x)
        return self.post(x)


class PixelEncoder(nn.Module):
    """vit.Factorized: spatial ViT per patch, then blocks across the K patches."""

    def __init__(self, e, k, s):
        super().__init__()
        d = e["width"]
        self.k = k
        self.spatial = ViT(e, s)
        self.pos = nn.Parameter(torch.randn(k, d) * 0.02)
        self.blocks = nn.ModuleList(Block(e) for _ in range(e["temporal_layers"]))
        self.post = nn.LayerNorm(d, eps=e["ln_eps"])

    def forward(self, patches):  # [B, K, S, S, 3]
        b, k, s = patches.shape[0], self.k, patches.shape[2]
        x = self.spatial(patches.reshape(b * k, s, s, 3))
        t, d = x.shape[1], x.shape[2]
        x = x.view(b, k, t, d).transpose(1, 2).reshape(b * t, k, d) + self.pos
        for blk in self.blocks:
            x = blk(x)
        x = self.post(x).view(b, t, k, d).transpose(1, 2)
        return x.reshape(b, k * t, d)


class Projector(nn.Module):
    def __init__(self, din, d):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(din, d), nn.Linear(d, d)

    def forward(self, x):
        return self.fc2(gelu(self.fc1(x)))


class RMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.zeros(d))

    def forward(self, x):
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * (1 + self.weight)


class LoRALinear(nn.Module):
    def __init__(self, din, dout, rank, alpha):
        super().__init__()
        self.base = nn.Linear(din, dout, bias=False)
        self.rank, self.alpha = rank, alpha
        if rank:
            self.a = nn.Parameter(torch.randn(din, rank) / math.sqrt(din))
            self.b = nn.Parameter(torch.zeros(rank, dout))

    def forward(self, x):
        y = self.base(x)
        if self.rank:
            y = y + (x @ self.a @ self.b) * (self.alpha / self.rank)
        return y


def rope(x, theta):  # [B, H, T, hd]
    t, hd = x.shape[2], x.shape[3]
    inv = theta ** (-torch.arange(0, hd // 2, dtype=torch.float64) * 2 / hd)
    ang = torch.arange(t, dtype=torch.float64)[:, None] * inv[None]
    cos, sin = ang.cos().float(), ang.sin().float()
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


class DecoderLayer(nn.Module):
    def __init__(self, c, lora):
        super().__init__()
        d, h, kv, hd = c["width"], c["heads"], c["kv_heads"], c["head_dim"]
        self.c = c
        r, al = lora["rank"], lora["alpha"]
        self.in_norm, self.post_norm = RMSNorm(d, c["eps"]), RMSNorm(d, c["eps"])
        self.q = LoRALinear(d, h * hd, r, al)
        self.k = LoRALinear(d, kv * hd, r, al)
        self.v = LoRALinear(d, kv * hd, r, al)
        self.o = LoRALinear(h * hd, d, 0, al)
        self.gate, self.up = nn.Linear(d, c["mlp"], bias=False), nn.Linear(d, c["mlp"], bias=False)
        self.down = nn.Linear(c["mlp"], d, bias=False)

    def forward(self, x, mask):
        b, t, d = x.shape
        c = self.c
        h, kv, hd = c["heads"], c["kv_heads"], c["head_dim"]
        y = self.in_norm(x)
        q = rope(self.q(y).view(b, t, h, hd).transpose(1, 2), c["theta"])
        k = rope(self.k(y).view(b, t, kv, hd).transpose(1, 2), c["theta"]).repeat_interleave(h // kv, 1)
        v = self.v(y).view(b, t, kv, hd).transpose(1, 2).repeat_interleave(h // kv, 1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
        a = torch.softmax(att, -1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(b, t, h * hd))
        y = self.post_norm(x)
        return x + self.down(gelu(self.gate(y)) * self.up(y))


class CPLLM(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        dc = cfg["decoder"]
        d = dc["width"]
        ce, pe = cfg["context"], cfg["pixel"]
        self.ctx = ViT(ce, cfg["S"]) if ce else None
        self.pix = PixelEncoder(pe, cfg["K"], cfg["S"]) if pe else None
        self.proj_c = Projector(ce["width"], d) if ce else None
        self.proj_p = Projector(pe["width"], d) if pe else None
        self.embed = nn.Embedding(dc["vocab"], d)
        nn.init.normal_(self.embed.weight, std=1 / math.sqrt(d))
        self.layers = nn.ModuleList(DecoderLayer(dc, cfg["lora"]) for _ in range(dc["layers"]))
        self.norm = RMSNorm(d, dc["eps"])
        self.reg = nn.Linear(d, 1)
        if cfg["train_decoder"] == "lora":  # decoder base frozen, LoRA trainable
            for n, p in self.named_parameters():
                if component(n) == "decoder" and not n.endswith((".a", ".b")):
                    p.requires_grad_(False)

    def forward(self, frames, patches, tokens, pos):
        b, l = tokens.shape
        cfg = self.cfg
        d = cfg["decoder"]["width"]
        parts = [self.embed(torch.full((b, 1), BOS, dtype=torch.long)) * math.sqrt(d)]
        if self.ctx is not None:
            s = cfg["S"]
            parts.append(self.proj_c(self.ctx(frames.reshape(b * cfg["M"], s, s, 3)).reshape(b, -1, cfg["context"]["width"])))
        if self.pix is not None:
            parts.append(self.proj_p(self.pix(patches)))
        parts.append(self.embed(tokens) * math.sqrt(d))
        x = torch.cat(parts, 1)
        t = x.shape[1]
        mask = torch.full((t, t), float("-inf")).triu(1)
        for layer in self.layers:
            x = layer(x, mask)
        h = self.norm(x)[:, t - l:]
        state = h[torch.arange(b), pos]  # [B, D]
        level = state @ self.embed.weight[LEVEL_IDS].T
        reg = self.reg(state).squeeze(-1) + 3
        return level, reg


def component(name):
    """The Go model's component (model.Components) of a parameter name."""
    top = name.split(".")[0]
    return {"ctx": "context_encoder", "pix": "pixel_encoder", "proj_c": "projectors", "proj_p": "projectors",
            "embed": "decoder", "layers": "decoder", "norm": "decoder", "reg": "heads"}[top]


def counts(model):
    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    comps = {}
    for n, p in model.named_parameters():
        c = comps.setdefault(component(n), {"total": 0, "trainable": 0})
        c["total"] += p.numel()
        c["trainable"] += p.numel() if p.requires_grad else 0
    return total, trainable, comps


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", choices=sorted(CONFIGS), default="tiny")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--text-len", type=int, default=16)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--count-only", action="store_true", help="print the parameter counts only")
    a = ap.parse_args()
    torch.manual_seed(0)
    cfg = CONFIGS[a.config]
    model = CPLLM(cfg)
    total, trainable, comps = counts(model)
    if a.count_only:
        print(json.dumps({"params_total": total, "params_trainable": trainable, "components": comps}))
        return
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-4, weight_decay=0)
    b, l, m, k, s = a.batch, a.text_len, cfg["M"], cfg["K"], cfg["S"]
    frames = torch.randint(0, 256, (b, m, s, s, 3), dtype=torch.uint8) if cfg["context"] else None
    patches = torch.randint(0, 256, (b, k, s, s, 3), dtype=torch.uint8) if cfg["pixel"] else None
    tokens = torch.randint(4, 204, (b, l))
    pos = torch.full((b,), l - 2)
    target = torch.softmax(torch.randn(b, 5), -1)
    scores = torch.tensor([5.0, 4, 3, 2, 1])

    def step():
        level, reg = model(frames, patches, tokens, pos)
        loss = -(target * F.log_softmax(level, -1)).sum(-1).mean() + F.mse_loss(reg, target @ scores)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    for _ in range(a.warmup):
        step()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        step()
    train = a.steps / (time.perf_counter() - t0)
    with torch.no_grad():
        for _ in range(a.warmup):
            model(frames, patches, tokens, pos)
        t0 = time.perf_counter()
        for _ in range(a.steps):
            model(frames, patches, tokens, pos)
        fwd = a.steps / (time.perf_counter() - t0)
    print(json.dumps({"train_steps_per_s": train, "forward_per_s": fwd, "trainable": trainable, "frozen": total - trainable,
                      "params_total": total, "params_trainable": trainable, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
