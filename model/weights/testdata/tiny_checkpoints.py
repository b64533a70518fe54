"""Random tiny pretrained-style checkpoints for a cpllm model config.

Writes, with shapes taken from the model config's context_encoder,
pixel_encoder and decoder sections:
  OUT/siglip/model.safetensors + config.json  HF SiglipVisionModel layout
  OUT/gemma/model.safetensors + config.json   HF GemmaForCausalLM layout
  OUT/videoprism.npz                          VideoPrism flax layout (scanned
                                              layers; 4-frame, 4x4 position
                                              tables, resized at import)
The modules are the PyTorch oracles of hf_oracles.py and videoprism_oracle.py
(written from the published architectures), randomly initialised.

Usage:
  /usr/bin/python3 model/weights/testdata/tiny_checkpoints.py --out DIR \
      [--config configs/model/import-tiny.yaml] [--seed 0]
"""
import argparse
import json
import os
import sys

import numpy as np
import torch
import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_oracles  # noqa: E402
import videoprism_oracle  # noqa: E402

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..")


def siglip_sizes(cfg):
    ce = cfg["context_encoder"]
    return {"image_size": cfg["input"]["size"], "patch_size": ce["patch_size"], "width": ce["width"],
            "layers": ce["layers"], "heads": ce["heads"], "mlp_dim": ce["mlp_dim"],
            "layer_norm_eps": ce["layer_norm_eps"]}


def gemma_sizes(cfg):
    d = cfg["decoder"]
    return {k: d[k] for k in ("vocab_size", "width", "layers", "heads", "kv_heads", "head_dim", "mlp_dim",
                              "rope_theta", "rms_norm_eps")}


def write(out, name, module, hf_config):
    os.makedirs(os.path.join(out, name), exist_ok=True)
    hf_oracles.save_safetensors(module, os.path.join(out, name, "model.safetensors"))
    with open(os.path.join(out, name, "config.json"), "w") as f:
        json.dump(hf_config, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--config", default=os.path.join(ROOT, "configs", "model", "import-tiny.yaml"))
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    with open(a.config) as f:
        cfg = yaml.safe_load(f)
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(a.seed)
    os.makedirs(a.out, exist_ok=True)

    s = siglip_sizes(cfg)
    write(a.out, "siglip", hf_oracles.build_siglip(s, gen), {
        "model_type": "siglip_vision_model", "hidden_size": s["width"], "intermediate_size": s["mlp_dim"],
        "num_hidden_layers": s["layers"], "num_attention_heads": s["heads"], "image_size": s["image_size"],
        "patch_size": s["patch_size"], "num_channels": 3, "layer_norm_eps": s["layer_norm_eps"],
        "hidden_act": "gelu_pytorch_tanh"})

    g = gemma_sizes(cfg)
    write(a.out, "gemma", hf_oracles.build_gemma(g, gen), {
        "model_type": "gemma", "architectures": ["GemmaForCausalLM"], "vocab_size": g["vocab_size"],
        "hidden_size": g["width"], "intermediate_size": g["mlp_dim"], "num_hidden_layers": g["layers"],
        "num_attention_heads": g["heads"], "num_key_value_heads": g["kv_heads"], "head_dim": g["head_dim"],
        "rope_theta": g["rope_theta"], "rms_norm_eps": g["rms_norm_eps"], "hidden_activation": "gelu_pytorch_tanh",
        "tie_word_embeddings": True})

    pe = cfg["pixel_encoder"]
    v = {"patch_size": pe["patch_size"], "width": pe["width"], "heads": pe["heads"], "mlp_dim": pe["mlp_dim"],
         "spatial_layers": pe["layers"], "temporal_layers": pe["temporal_layers"], "pos_emb_shape": [4, 4, 4]}
    params = videoprism_oracle.random_params(v, gen)
    np.savez(os.path.join(a.out, "videoprism.npz"), **videoprism_oracle.flatten({"params": params}))
    print("wrote", os.path.join(a.out, "siglip"), os.path.join(a.out, "gemma"), os.path.join(a.out, "videoprism.npz"))


if __name__ == "__main__":
    main()
