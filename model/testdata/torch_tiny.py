"""PyTorch peer of cpllm's tiny CP-LLM (configs/model/tiny.yaml, variant
context+pixel/concat, score task), for throughput comparison only.

Same architecture and shapes as the Go model: SigLIP-style ViT context encoder,
VideoPrism-style factorised pixel encoder, MLP projectors, Gemma-style decoder
(RMSNorm 1+w, RoPE rotate-half, multi-query attention, GeGLU, tied embeddings
scaled by sqrt(D)) frozen except LoRA on q/k/v, level-word score head plus a
regression head; AdamW on the trainable set.

Run: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 torch_tiny.py --batch 8 --text-len 16 --steps 50
Prints one JSON line: {"train_steps_per_s": ..., "forward_per_s": ...}.
"""
import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(2)

# tiny.yaml
M, K, S = 4, 2, 32
ENC = dict(patch=16, width=64, heads=4, mlp=256)
CTX_LAYERS, PIX_SPATIAL, PIX_TEMPORAL = 2, 1, 1
DEC = dict(vocab=512, width=128, layers=2, heads=4, kv_heads=1, head_dim=32, mlp=512, theta=10000.0, eps=1e-6)
LORA_RANK, LORA_ALPHA = 4, 4.0
LEVEL_IDS = [4, 5, 6, 7, 8]
BOS = 1


def gelu(x):
    return F.gelu(x, approximate="tanh")


class Block(nn.Module):  # SigLIP pre-LN block
    def __init__(self, d, heads, mlp):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d, eps=1e-6), nn.LayerNorm(d, eps=1e-6)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(d, mlp), nn.Linear(mlp, d)

    def forward(self, x):
        n, t, d = x.shape
        h = self.ln1(x)
        split = lambda y: y.view(n, t, self.heads, d // self.heads).transpose(1, 2)
        q, k, v = split(self.q(h)), split(self.k(h)), split(self.v(h))
        a = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(d // self.heads), -1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(n, t, d))
        return x + self.fc2(gelu(self.fc1(self.ln2(x))))


class ViT(nn.Module):
    def __init__(self, layers, mean, std):
        super().__init__()
        p, d = ENC["patch"], ENC["width"]
        self.mean, self.std = mean, std
        self.patch = nn.Linear(p * p * 3, d)
        self.pos = nn.Parameter(torch.randn((S // p) ** 2, d) * 0.02)
        self.blocks = nn.ModuleList(Block(d, ENC["heads"], ENC["mlp"]) for _ in range(layers))
        self.post = nn.LayerNorm(d, eps=1e-6)

    def forward(self, img):  # uint8 [N, S, S, 3]
        n, p, g = img.shape[0], ENC["patch"], S // ENC["patch"]
        x = (img.float() / 255 - self.mean) / self.std
        x = x.view(n, g, p, g, p, 3).permute(0, 1, 3, 2, 4, 5).reshape(n, g * g, p * p * 3)
        x = self.patch(x) + self.pos
        for b in self.blocks:
            x = b(x)
        return self.post(x)


class PixelEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        d = ENC["width"]
        self.spatial = ViT(PIX_SPATIAL, 0.0, 1.0)
        self.pos = nn.Parameter(torch.randn(K, d) * 0.02)
        self.blocks = nn.ModuleList(Block(d, ENC["heads"], ENC["mlp"]) for _ in range(PIX_TEMPORAL))
        self.post = nn.LayerNorm(d, eps=1e-6)

    def forward(self, patches):  # [B, K, S, S, 3]
        b = patches.shape[0]
        x = self.spatial(patches.reshape(b * K, S, S, 3))
        t, d = x.shape[1], x.shape[2]
        x = x.view(b, K, t, d).transpose(1, 2).reshape(b * t, K, d) + self.pos
        for blk in self.blocks:
            x = blk(x)
        x = self.post(x).view(b, t, K, d).transpose(1, 2)
        return x.reshape(b, K * t, d)


class Projector(nn.Module):
    def __init__(self, din, d):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(din, d), nn.Linear(d, d)

    def forward(self, x):
        return self.fc2(gelu(self.fc1(x)))


class RMSNorm(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(d))

    def forward(self, x):
        return x / torch.sqrt(x.pow(2).mean(-1, keepdim=True) + DEC["eps"]) * (1 + self.weight)


class LoRALinear(nn.Module):
    def __init__(self, din, dout, rank):
        super().__init__()
        self.base = nn.Linear(din, dout, bias=False)
        self.rank = rank
        if rank:
            self.a = nn.Parameter(torch.randn(din, rank) / math.sqrt(din))
            self.b = nn.Parameter(torch.zeros(rank, dout))

    def forward(self, x):
        y = self.base(x)
        if self.rank:
            y = y + (x @ self.a @ self.b) * (LORA_ALPHA / self.rank)
        return y


def rope(x):  # [B, H, T, hd]
    t, hd = x.shape[2], x.shape[3]
    inv = DEC["theta"] ** (-torch.arange(0, hd // 2, dtype=torch.float64) * 2 / hd)
    ang = torch.arange(t, dtype=torch.float64)[:, None] * inv[None]
    cos, sin = ang.cos().float(), ang.sin().float()
    x1, x2 = x[..., : hd // 2], x[..., hd // 2:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], -1)


class DecoderLayer(nn.Module):
    def __init__(self):
        super().__init__()
        d, h, kv, hd = DEC["width"], DEC["heads"], DEC["kv_heads"], DEC["head_dim"]
        self.in_norm, self.post_norm = RMSNorm(d), RMSNorm(d)
        self.q = LoRALinear(d, h * hd, LORA_RANK)
        self.k = LoRALinear(d, kv * hd, LORA_RANK)
        self.v = LoRALinear(d, kv * hd, LORA_RANK)
        self.o = LoRALinear(h * hd, d, 0)
        self.gate, self.up = nn.Linear(d, DEC["mlp"], bias=False), nn.Linear(d, DEC["mlp"], bias=False)
        self.down = nn.Linear(DEC["mlp"], d, bias=False)

    def forward(self, x, mask):
        b, t, d = x.shape
        h, kv, hd = DEC["heads"], DEC["kv_heads"], DEC["head_dim"]
        y = self.in_norm(x)
        q = rope(self.q(y).view(b, t, h, hd).transpose(1, 2))
        k = rope(self.k(y).view(b, t, kv, hd).transpose(1, 2)).repeat_interleave(h // kv, 1)
        v = self.v(y).view(b, t, kv, hd).transpose(1, 2).repeat_interleave(h // kv, 1)
        att = (q @ k.transpose(-1, -2)) / math.sqrt(hd) + mask
        a = torch.softmax(att, -1) @ v
        x = x + self.o(a.transpose(1, 2).reshape(b, t, h * hd))
        y = self.post_norm(x)
        return x + self.down(gelu(self.gate(y)) * self.up(y))


class CPLLM(nn.Module):
    def __init__(self):
        super().__init__()
        d = DEC["width"]
        self.ctx = ViT(CTX_LAYERS, 0.5, 0.5)
        self.pix = PixelEncoder()
        self.proj_c, self.proj_p = Projector(ENC["width"], d), Projector(ENC["width"], d)
        self.embed = nn.Embedding(DEC["vocab"], d)
        nn.init.normal_(self.embed.weight, std=1 / math.sqrt(d))
        self.layers = nn.ModuleList(DecoderLayer() for _ in range(DEC["layers"]))
        self.norm = RMSNorm(d)
        self.reg = nn.Linear(d, 1)
        for n, p in self.named_parameters():  # decoder base frozen, LoRA trainable
            if n.startswith(("embed", "layers", "norm")) and not n.endswith((".a", ".b")):
                p.requires_grad_(False)

    def forward(self, frames, patches, tokens, pos):
        b, l = tokens.shape
        d = DEC["width"]
        c = self.proj_c(self.ctx(frames.reshape(b * M, S, S, 3)).reshape(b, -1, ENC["width"]))
        p = self.proj_p(self.pix(patches))
        bos = self.embed(torch.full((b, 1), BOS, dtype=torch.long)) * math.sqrt(d)
        x = torch.cat([bos, c, p, self.embed(tokens) * math.sqrt(d)], 1)
        t = x.shape[1]
        mask = torch.full((t, t), float("-inf")).triu(1)
        for layer in self.layers:
            x = layer(x, mask)
        h = self.norm(x)[:, t - l:]
        state = h[torch.arange(b), pos]  # [B, D]
        level = state @ self.embed.weight[LEVEL_IDS].T
        reg = self.reg(state).squeeze(-1) + 3
        return level, reg


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--text-len", type=int, default=16)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--warmup", type=int, default=5)
    a = ap.parse_args()
    torch.manual_seed(0)
    model = CPLLM()
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-4, weight_decay=0)
    b, l = a.batch, a.text_len
    frames = torch.randint(0, 256, (b, M, S, S, 3), dtype=torch.uint8)
    patches = torch.randint(0, 256, (b, K, S, S, 3), dtype=torch.uint8)
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
    n_tr = sum(p.numel() for p in model.parameters() if p.requires_grad)
    n_fr = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    print(json.dumps({"train_steps_per_s": train, "forward_per_s": fwd, "trainable": n_tr, "frozen": n_fr, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
