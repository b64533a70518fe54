#!/usr/bin/python3
"""Would nsfwjs's InceptionV3 give cpllm better quality features than its MobileNetV2?

A probe before any Go port: PyTorch runs the TF.js layers model that npm's
nsfwjs 4.4.0 ships (InceptionV3, Keras layout, 299x299 training input,
ImageNet weights frozen up to mixed5, mixed6-10 fine-tuned for a 5-class
content classifier; uint8-quantized weights) on the same kind of input as
cpllm's MobileNetV2 features: 8 uniformly spaced whole frames of each
KoNViD-1k clip at native resolution (ffmpeg CLI), each CLIVE image at its
own resolution, pixels / 255 (nsfwjs' own normalisation). Features: the
channel means of every mixed block (MLSP-style global average pooling),
averaged over the frames.

Then the repeated five-fold cross-validation of real-ceiling/ceiling.py
(20 partitions, its ridge and kernel ridge, hyperparameters on the
training folds only) on the KoNViD-1k train split and on CLIVE, for the
InceptionV3 features alone, with the 45 statistics, and beside the
MobileNetV2 sets ceiling.py reports (read from the same features.jsonl).

  probe.py --tfjs DIR --konvid-videos DIR --konvid-ids train.txt \
      --konvid-labels KONVID_1K_metadata.csv --konvid-features features.jsonl \
      --clive-images DIR --clive-data DIR --clive-features features.jsonl \
      --cache features.npz --out DIR

The graph is built from model.json's own topology (Conv2D, BatchNormalization,
Activation, pooling, Concatenate), so the probe needs no hand-wiring of the
94 convolutions; the classifier head's softmax on a few images is printed as
a sanity check.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys
import time

import numpy as np
import scipy.io
import torch
import torch.nn.functional as F
from scipy import stats

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("ceiling", os.path.join(HERE, "..", "real-ceiling", "ceiling.py"))
ceiling = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ceiling)

FRAMES = 8


def load_tfjs(d):
    """Topology and dequantized weights (name -> float32 array) of a TF.js layers model."""
    m = json.load(open(os.path.join(d, "model.json")))
    w = {}
    for group in m["weightsManifest"]:
        # deploy/tfjs-export.js writes each shard as <path>.bin
        buf = b"".join(open(os.path.join(d, p if os.path.exists(os.path.join(d, p)) else p + ".bin"), "rb").read()
                       for p in group["paths"])
        off = 0
        for spec_ in group["weights"]:
            n = int(np.prod(spec_["shape"])) if spec_["shape"] else 1
            q = spec_.get("quantization")
            if q:
                if q["dtype"] != "uint8":
                    raise SystemExit(f"{d}: {spec_['name']}: quantization {q['dtype']} not handled")
                raw = np.frombuffer(buf, np.uint8, n, off).astype(np.float64)
                vals = (raw * q["scale"] + q["min"]).astype(np.float32)
                off += n
            else:
                vals = np.frombuffer(buf, np.float32, n, off).copy()
                off += 4 * n
            w[spec_["name"]] = vals.reshape(spec_["shape"])
        if off != len(buf):
            raise SystemExit(f"{d}: weights use {off} of {len(buf)} bytes")
    return m["modelTopology"]["model_config"]["config"], w


def same_pad(k, s, size):
    """TF 'same' padding (before, after) for kernel k, stride s on an axis of length size."""
    out = -(-size // s)
    total = max((out - 1) * s + k - size, 0)
    return total // 2, total - total // 2


class Net:
    """Runs a Keras functional model's layers in order, NCHW."""

    def __init__(self, cfg, w):
        self.layers, self.w = cfg["layers"], w

    def run(self, x, until=None):
        """Activations by layer name, up to and including layer until (None: all)."""
        acts = {}
        for l in self.layers:
            c, kind, name = l["config"], l["class_name"], l["config"]["name"]
            ins = [acts[i[0]] for i in l["inbound_nodes"][0]] if l["inbound_nodes"] else [x]
            h = ins[0]
            if kind == "InputLayer":
                pass
            elif kind == "Conv2D":
                k = torch.from_numpy(self.w[f"{name}/kernel"]).permute(3, 2, 0, 1)
                s = c["strides"]
                if c["padding"] == "same":
                    ph, pw = same_pad(k.shape[2], s[0], h.shape[2]), same_pad(k.shape[3], s[1], h.shape[3])
                    h = F.pad(h, (pw[0], pw[1], ph[0], ph[1]))
                b = torch.from_numpy(self.w[f"{name}/bias"]) if c["use_bias"] else None
                h = F.conv2d(h, k, b, stride=s)
                if c["activation"] != "linear":
                    raise SystemExit(f"{name}: activation {c['activation']} not handled")
            elif kind == "BatchNormalization":
                g = self.w[f"{name}/gamma"] if c["scale"] else 1.0
                b = self.w[f"{name}/beta"] if c["center"] else 0.0
                sc = g / np.sqrt(self.w[f"{name}/moving_variance"] + c["epsilon"])
                sh = b - self.w[f"{name}/moving_mean"] * sc
                h = h * torch.from_numpy(np.asarray(sc, np.float32))[None, :, None, None] + \
                    torch.from_numpy(np.asarray(sh, np.float32))[None, :, None, None]
            elif kind == "Activation":
                if c["activation"] != "relu":
                    raise SystemExit(f"{name}: activation {c['activation']} not handled")
                h = F.relu(h)
            elif kind in ("MaxPooling2D", "AveragePooling2D"):
                k, s = c["pool_size"], c["strides"]
                if c["padding"] == "same":
                    ph, pw = same_pad(k[0], s[0], h.shape[2]), same_pad(k[1], s[1], h.shape[3])
                    if kind == "MaxPooling2D":
                        h = F.max_pool2d(F.pad(h, (pw[0], pw[1], ph[0], ph[1]), value=-np.inf), k, s)
                    else:  # TF excludes the padding from the mean
                        ones = F.pad(torch.ones_like(h[:, :1]), (pw[0], pw[1], ph[0], ph[1]))
                        h = F.avg_pool2d(F.pad(h, (pw[0], pw[1], ph[0], ph[1])), k, s) / F.avg_pool2d(ones, k, s)
                else:
                    h = (F.max_pool2d if kind == "MaxPooling2D" else F.avg_pool2d)(h, k, s)
            elif kind == "Concatenate":
                h = torch.cat(ins, 1)
            elif kind == "Flatten":
                h = h.permute(0, 2, 3, 1).reshape(h.shape[0], -1)
            elif kind == "Dense":
                h = h @ torch.from_numpy(self.w[f"{name}/kernel"]) + torch.from_numpy(self.w[f"{name}/bias"])
                h = {"relu": F.relu, "softmax": lambda t: F.softmax(t, -1)}[c["activation"]](h)
            elif kind == "Dropout":
                pass
            else:
                raise SystemExit(f"{name}: layer {kind} not handled")
            acts[name] = h
            if name == until:
                break
        return acts


MIXED = ["mixed0", "mixed1", "mixed2", "mixed3", "mixed4", "mixed5", "mixed6", "mixed7", "mixed8", "mixed9", "mixed10"]


def features(net, rgb):
    """Channel means of each mixed block for one HxWx3 uint8 image."""
    x = torch.from_numpy(rgb.astype(np.float32) / 255).permute(2, 0, 1)[None]
    with torch.no_grad():
        acts = net.run(x, MIXED[-1])
    return np.concatenate([acts[m].mean((2, 3))[0].numpy() for m in MIXED])


def video_frames(path, n=FRAMES):
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
                            "-show_entries", "stream=width,height,nb_read_packets", "-of", "csv=p=0", path],
                           capture_output=True, text=True, check=True).stdout.strip().split(",")
    w, h, total = int(probe[0]), int(probe[1]), int(probe[2])
    idx = [int((i + 0.5) * total / n) for i in range(n)]
    sel = "+".join(f"eq(n\\,{i})" for i in idx)
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-vf", f"select={sel}", "-vsync", "0",
                          "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True).stdout
    frames = np.frombuffer(raw, np.uint8).reshape(-1, h, w, 3)
    if len(frames) != n:
        raise SystemExit(f"{path}: decoded {len(frames)} of {n} frames")
    return frames


def image(path):
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=width,height", "-of", "csv=p=0", path],
                           capture_output=True, text=True, check=True).stdout.strip().split(",")
    w, h = int(probe[0]), int(probe[1])
    raw = subprocess.run(["ffmpeg", "-v", "error", "-i", path, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"],
                         capture_output=True, check=True).stdout
    return np.frombuffer(raw, np.uint8).reshape(h, w, 3)


def extract(net, items, cache, key):
    old = dict(np.load(cache, allow_pickle=True)) if os.path.exists(cache) else {}
    done = dict(old[key].item()) if key in old else {}
    t0, todo = time.time(), [i for i in items if i[0] not in done]
    for n, (id_, load) in enumerate(todo, 1):
        done[id_] = np.mean([features(net, f) for f in load()], 0)
        el = time.time() - t0
        print(f"\r{key}: {n}/{len(todo)} {n / el:.2f}/s ETA {(len(todo) - n) * el / n:.0f}s", end="", file=sys.stderr, flush=True)
        if n % 25 == 0 or n == len(todo):
            old = dict(np.load(cache, allow_pickle=True)) if os.path.exists(cache) else {}
            old[key] = done
            np.savez(cache + ".tmp.npz", **old)
            os.replace(cache + ".tmp.npz", cache)
    if todo:
        print(file=sys.stderr)
    return done


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    for a in ("tfjs", "konvid-videos", "konvid-ids", "konvid-labels", "konvid-features",
              "clive-images", "clive-data", "clive-features", "cache", "out"):
        ap.add_argument("--" + a, required=True)
    ap.add_argument("--repeats", type=int, default=ceiling.REPEATS)
    a = ap.parse_args()
    torch.set_num_threads(os.cpu_count())
    cfg, w = load_tfjs(a.tfjs)
    net = Net(cfg, w)

    cf = ceiling.load_features(a.clive_features)
    imgs = scipy.io.loadmat(os.path.join(a.clive_data, "AllImages_release.mat"))["AllImages_release"]
    cm = scipy.io.loadmat(os.path.join(a.clive_data, "AllMOS_release.mat"))["AllMOS_release"].ravel()
    cmos = {str(im[0][0]).rsplit(".", 1)[0]: float(m) for im, m in zip(imgs, cm)}
    cfile = {str(im[0][0]).rsplit(".", 1)[0]: str(im[0][0]) for im in imgs}
    cids = sorted(i for i in cf if i in cmos and os.path.exists(os.path.join(a.clive_images, cfile[i])))

    # sanity: the classifier head on three CLIVE images (nsfwjs classes: drawing, hentai, neutral, porn, sexy)
    for i in cids[:3]:
        x = torch.from_numpy(image(os.path.join(a.clive_images, cfile[i])).astype(np.float32) / 255)
        x = F.interpolate(x.permute(2, 0, 1)[None], size=(299, 299), mode="bilinear", align_corners=False)
        with torch.no_grad():
            p = net.run(x)[cfg["output_layers"][0][0]][0].numpy()
        print(f"{i}: class probabilities {np.round(p, 3)}")

    kids = [l.strip() for l in open(a.konvid_ids) if l.strip()]
    kfeat = extract(net, [(i, lambda i=i: video_frames(os.path.join(a.konvid_videos, i + ".mp4"))) for i in kids], a.cache, "konvid")
    cfeat = extract(net, [(i, lambda i=i: [image(os.path.join(a.clive_images, cfile[i]))]) for i in cids], a.cache, "clive")

    x = torch.zeros(1, 3, 299, 299)
    with torch.no_grad():
        acts = net.run(x)
    off, blocks = 0, {}
    for m in MIXED:
        c = acts[m].shape[1]
        blocks[m] = list(range(off, off + c))
        off += c
    early = sum((blocks[m] for m in MIXED[:6]), [])
    late = sum((blocks[m] for m in MIXED[6:]), [])

    kf = ceiling.load_features(a.konvid_features)
    kmos = ceiling.konvid_mos(a.konvid_labels)
    rows = []
    for setname, ids, mos, feats, jl in (("konvid1k", kids, kmos, kfeat, kf), ("clive", cids, cmos, cfeat, cf)):
        names = sorted(n for n in jl[ids[0]] if not n.startswith("bitrate_"))
        msets = ceiling.feature_sets(names)
        col = {n: j for j, n in enumerate(names)}
        M = np.array([[jl[i][n] for n in names] for i in ids])
        sig = M[:, [col[n] for n in msets["signals"]]]
        mid = M[:, [col[n] for n in msets["mid"]]]
        inc = np.array([feats[i] for i in ids])
        y = np.array([mos[i] for i in ids])
        X = {"mnv2 mid": mid, "signals": sig, "mnv2 mid+signals": np.hstack([mid, sig]),
             "inc all": inc, "inc mixed0-5": inc[:, early], "inc mixed6-10": inc[:, late],
             "inc all+signals": np.hstack([inc, sig]), "inc mixed0-5+signals": np.hstack([inc[:, early], sig])}
        for m in MIXED:
            X[f"inc {m}"] = inc[:, blocks[m]]
        cfgs = [{"name": f"ridge {k}", "fn": lambda tr, te, rng, A=v: ceiling.ridge_fit(A[tr], y[tr])(A[te])} for k, v in X.items()]
        for k in ("signals", "inc all", "inc all+signals", "inc mixed0-5+signals"):
            cfgs.append({"name": f"krr {k}", "fn": lambda tr, te, rng, A=X[k]: ceiling.krr_fit(A[tr], y[tr], rng)(A[te])})
        ceiling.REPEATS = a.repeats
        rows += ceiling.run_set(setname, None, y, ids, None, cfgs)

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "probe.json"), "w") as f:
        json.dump({"repeats": a.repeats, "folds": 5, "frames": FRAMES, "rows": rows}, f, indent=1)
    with open(os.path.join(a.out, "probe.md"), "w") as f:
        f.write(f"Pooled out-of-fold SRCC, mean +- std over {a.repeats} five-fold partitions (seeds 0-{a.repeats - 1}) "
                "of the KoNViD-1k train split and of CLIVE; probe.py (ceiling.py's regressors).\n\n")
        f.write("| set | n | configuration | SRCC |\n|---|--:|---|---|\n")
        for r in rows:
            f.write(f"| {r['set']} | {r['n']} | {r['config']} | {r['srcc_mean']:.3f} +- {r['srcc_std']:.3f} |\n")


if __name__ == "__main__":
    main()
