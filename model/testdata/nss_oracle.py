"""Independent reference for model/vit NSSStats and its second scale.

Reads a JSON object {"x": [N][H][W][C] floats, "eps": e, "w": window} on
stdin and prints {"full": [...], "half": [...]}: the statistics of the MSCN
map of x and of its 2x2-averaged image, written from the definitions:

  MSCN(I)(p) = d(p) / sqrt(v(p) + eps), d(q) = I(q) - mu(q), mu(q) the
  mean of I over the w x w window at q clipped at the border (the pixels
  inside), v(p) the mean of d(q)^2 over the window at p.
  Per channel: mean(m^2), mean(|m|), mean(m^4), and for the products
  p = m(y, x) m(y + dy, x + dx) over positions where both exist, with
  (dy, dx) in (0,1), (1,0), (1,1), (1,-1): mean(p), mean(max(p,0)^2),
  mean(min(p,0)^2).
"""
import json
import sys

import numpy as np


def window_mean(a, r):
    h, w = a.shape
    out = np.zeros_like(a)
    for y in range(h):
        for x in range(w):
            out[y, x] = a[max(0, y - r):y + r + 1, max(0, x - r):x + r + 1].mean()
    return out


def mscn(img, w, eps):
    r = w // 2
    mu = window_mean(img, r)
    d = img - mu
    var = window_mean(d * d, r)
    return d / np.sqrt(var + eps)


def stats(m):
    feats = [np.mean(m * m), np.mean(np.abs(m)), np.mean(m ** 4)]
    h, w = m.shape
    for dy, dx in ((0, 1), (1, 0), (1, 1), (1, -1)):
        prods = []
        for y in range(h):
            for x in range(w):
                yy, xx = y + dy, x + dx
                if 0 <= yy < h and 0 <= xx < w:
                    prods.append(m[y, x] * m[yy, xx])
        p = np.array(prods)
        feats += [p.mean(), np.mean(np.maximum(p, 0) ** 2), np.mean(np.minimum(p, 0) ** 2)]
    return feats


def main():
    req = json.load(sys.stdin)
    x = np.array(req["x"], dtype=np.float64)
    eps, w = req["eps"], req["w"]
    out = {"full": [], "half": []}
    for img in x:
        h, wd, c = img.shape
        half = img.reshape(h // 2, 2, wd // 2, 2, c).mean(axis=(1, 3))
        for key, im in (("full", img), ("half", half)):
            row = []
            for ch in range(c):
                row += stats(mscn(im[:, :, ch], w, eps))
            out[key].append(row)
    json.dump(out, sys.stdout)


main()
