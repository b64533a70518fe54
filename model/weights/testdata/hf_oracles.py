"""PyTorch oracles for cpllm's SigLIP and Gemma imports.

Small PyTorch modules written from Hugging Face transformers'
modeling_siglip.py (SiglipVisionModel: conv patch embedding, learned
positions, pre-LN encoder layers with gelu_pytorch_tanh MLPs,
post_layernorm) and modeling_gemma.py (GemmaForCausalLM: embeddings scaled
by sqrt(hidden), GemmaRMSNorm with (1 + weight), rotate-half RoPE, grouped
KV heads, GeGLU MLP with gelu_pytorch_tanh, tied output embeddings). Module
attribute names follow HF, so state_dict() gives the checkpoint names.

Usage:
  hf_oracles.py siglip CONFIG.json OUTDIR  -> OUTDIR/model.safetensors, OUTDIR/io.npz
  hf_oracles.py gemma  CONFIG.json OUTDIR  -> OUTDIR/model.safetensors, OUTDIR/io.npz
CONFIG.json holds the sizes (keys as in the functions below) and a seed.
io.npz holds the inputs and the PyTorch outputs (float32).
"""
import json
import math
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from safetensors_ref import encode  # noqa: E402  (the independent writer)


def gelu_tanh(x):
    return nn.functional.gelu(x, approximate="tanh")


class SiglipAttention(nn.Module):
    def __init__(self, d, heads):
        super().__init__()
        self.heads, self.hd = heads, d // heads
        self.q_proj, self.k_proj = nn.Linear(d, d), nn.Linear(d, d)
        self.v_proj, self.out_proj = nn.Linear(d, d), nn.Linear(d, d)

    def forward(self, x):
        b, t, d = x.shape
        split = lambda y: y.view(b, t, self.heads, self.hd).transpose(1, 2)
        q, k, v = split(self.q_proj(x)), split(self.k_proj(x)), split(self.v_proj(x))
        w = torch.softmax(q @ k.transpose(2, 3) * self.hd ** -0.5, dim=-1, dtype=torch.float32)
        return self.out_proj((w @ v).transpose(1, 2).reshape(b, t, d))


class SiglipMLP(nn.Module):
    def __init__(self, d, inner):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(d, inner), nn.Linear(inner, d)

    def forward(self, x):
        return self.fc2(gelu_tanh(self.fc1(x)))


class SiglipEncoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        d = c["width"]
        self.layer_norm1 = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.self_attn = SiglipAttention(d, c["heads"])
        self.layer_norm2 = nn.LayerNorm(d, eps=c["layer_norm_eps"])
        self.mlp = SiglipMLP(d, c["mlp_dim"])

    def forward(self, x):
        x = x + self.self_attn(self.layer_norm1(x))
        return x + self.mlp(self.layer_norm2(x))


class SiglipEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.layers = nn.ModuleList([SiglipEncoderLayer(c) for _ in range(c["layers"])])


class SiglipEmbeddings(nn.Module):
    def __init__(self, c):
        super().__init__()
        p = c["patch_size"]
        self.patch_embedding = nn.Conv2d(3, c["width"], kernel_size=p, stride=p, padding="valid")
        self.position_embedding = nn.Embedding((c["image_size"] // p) ** 2, c["width"])

    def forward(self, pixel_values):
        x = self.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        return x + self.position_embedding(torch.arange(x.shape[1]))


class SiglipVisionTransformer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embeddings = SiglipEmbeddings(c)
        self.encoder = SiglipEncoder(c)
        self.post_layernorm = nn.LayerNorm(c["width"], eps=c["layer_norm_eps"])

    def forward(self, pixel_values):
        x = self.embeddings(pixel_values)
        for layer in self.encoder.layers:
            x = layer(x)
        return self.post_layernorm(x)  # last_hidden_state


class SiglipVisionModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.vision_model = SiglipVisionTransformer(c)


class GemmaRMSNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.eps, self.weight = eps, nn.Parameter(torch.zeros(d))

    def forward(self, x):
        x = x.float()
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * (1.0 + self.weight.float())


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class GemmaAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, self.h, self.kv, self.hd = c["width"], c["heads"], c["kv_heads"], c["head_dim"]
        self.theta = c["rope_theta"]
        self.q_proj = nn.Linear(d, self.h * self.hd, bias=False)
        self.k_proj = nn.Linear(d, self.kv * self.hd, bias=False)
        self.v_proj = nn.Linear(d, self.kv * self.hd, bias=False)
        self.o_proj = nn.Linear(self.h * self.hd, d, bias=False)

    def forward(self, x):
        b, t, _ = x.shape
        q = self.q_proj(x).view(b, t, self.h, self.hd).transpose(1, 2)
        k = self.k_proj(x).view(b, t, self.kv, self.hd).transpose(1, 2)
        v = self.v_proj(x).view(b, t, self.kv, self.hd).transpose(1, 2)
        inv_freq = 1.0 / (self.theta ** (torch.arange(0, self.hd, 2, dtype=torch.int64).float() / self.hd))
        freqs = torch.arange(t).float()[:, None] * inv_freq[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos(), emb.sin()
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        rep = self.h // self.kv  # repeat_kv
        k, v = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
        s = q @ k.transpose(2, 3) * self.hd ** -0.5
        s = s + torch.triu(torch.full((t, t), float("-inf")), diagonal=1)
        w = torch.softmax(s, dim=-1, dtype=torch.float32)
        return self.o_proj((w @ v).transpose(1, 2).reshape(b, t, self.h * self.hd))


class GemmaMLP(nn.Module):
    def __init__(self, d, inner):
        super().__init__()
        self.gate_proj = nn.Linear(d, inner, bias=False)
        self.up_proj = nn.Linear(d, inner, bias=False)
        self.down_proj = nn.Linear(inner, d, bias=False)

    def forward(self, x):
        return self.down_proj(gelu_tanh(self.gate_proj(x)) * self.up_proj(x))


class GemmaDecoderLayer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.input_layernorm = GemmaRMSNorm(c["width"], c["rms_norm_eps"])
        self.self_attn = GemmaAttention(c)
        self.post_attention_layernorm = GemmaRMSNorm(c["width"], c["rms_norm_eps"])
        self.mlp = GemmaMLP(c["width"], c["mlp_dim"])

    def forward(self, x):
        x = x + self.self_attn(self.input_layernorm(x))
        return x + self.mlp(self.post_attention_layernorm(x))


class GemmaModel(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocab_size"], c["width"])
        self.layers = nn.ModuleList([GemmaDecoderLayer(c) for _ in range(c["layers"])])
        self.norm = GemmaRMSNorm(c["width"], c["rms_norm_eps"])


class GemmaForCausalLM(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.model = GemmaModel(c)

    def forward(self, ids):
        m = self.model
        x = m.embed_tokens(ids)
        x = x * torch.tensor(m.embed_tokens.weight.shape[1] ** 0.5, dtype=x.dtype)
        for layer in m.layers:
            x = layer(x)
        return m.norm(x) @ m.embed_tokens.weight.T  # tied lm_head


def randomize(module, gen):
    """Every parameter random: weights ~ N(0, 1/fan_in), LayerNorm weights
    around 1, biases and Gemma's (1 + weight) norms around 0, so no term of
    the forward pass is trivial."""
    with torch.no_grad():
        for mod in module.modules():
            for name, p in mod.named_parameters(recurse=False):
                if isinstance(mod, nn.LayerNorm) and name == "weight":
                    p.copy_(1 + 0.1 * torch.randn(p.shape, generator=gen))
                elif isinstance(mod, nn.Embedding):
                    p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p.shape[1]))
                elif p.dim() >= 2:
                    p.copy_(torch.randn(p.shape, generator=gen) / math.sqrt(p[0].numel()))
                else:
                    p.copy_(0.1 * torch.randn(p.shape, generator=gen))


def save_safetensors(module, path):
    sd = {k: ("F32", list(v.shape), v.detach().float().contiguous()) for k, v in module.state_dict().items()}
    with open(path, "wb") as f:
        f.write(encode(sd))


def build_siglip(c, gen):
    m = SiglipVisionModel(c)
    randomize(m, gen)
    return m


def build_gemma(c, gen):
    m = GemmaForCausalLM(c)
    randomize(m, gen)
    return m


def siglip(c, out):
    gen = torch.Generator().manual_seed(c["seed"])
    m = build_siglip(c, gen)
    save_safetensors(m, os.path.join(out, "model.safetensors"))
    s = c["image_size"]
    images = torch.randint(0, 256, (c["batch"], s, s, 3), generator=gen)
    pixels = (images.float() / 255 - c["image_mean"]) / c["image_std"]  # the SigLIP image processor
    with torch.no_grad():
        tokens = m.vision_model(pixels.permute(0, 3, 1, 2))
    np.savez(os.path.join(out, "io.npz"), images=images.float().numpy(), tokens=tokens.numpy())


def gemma(c, out):
    gen = torch.Generator().manual_seed(c["seed"])
    m = build_gemma(c, gen)
    save_safetensors(m, os.path.join(out, "model.safetensors"))
    ids = torch.randint(0, c["vocab_size"], (1, c["seq_len"]), generator=gen)
    with torch.no_grad():
        logits = m(ids)
    np.savez(os.path.join(out, "io.npz"), ids=ids.float().numpy(), logits=logits.numpy())


def main():
    torch.set_num_threads(1)
    kind, cfg, out = sys.argv[1], sys.argv[2], sys.argv[3]
    with open(cfg) as f:
        c = json.load(f)
    {"siglip": siglip, "gemma": gemma}[kind](c, out)


if __name__ == "__main__":
    main()
