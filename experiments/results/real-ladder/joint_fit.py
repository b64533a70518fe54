#!/usr/bin/env python3
"""Can the statistics token's features order compression, linearly?

Fits one linear score over the 45 features of the nss-logsignals token
(36 BRISQUE-style NSS, MSCN variance, Laplacian log-variance, 7 signals with
the noise on a log scale; bit rate left out, as the model never sees it) to
(a) the KoNViD fit clips' MOS (squared error) plus (b) alpha times a logistic
ranking loss over every pair of CRF rungs of the same fit clips (lower CRF
better), with an L2 penalty lam. Reports, for each (lam, alpha): SRCC on the
holdout clips' MOS, and the fraction of adjacent CRF pairs of the holdout
clips' ladders ordered (score(CRF_i) > score(CRF_i+1)), per step.

Inputs are `cpllm baseline` feature caches (features.jsonl): the KoNViD
clips', and two manifests' of ladder rungs (ids SOURCE-CRF); see README.md.
Needs numpy and scipy (Debian: python3-scipy).
"""
import argparse, collections, csv, json
import numpy as np
from scipy.optimize import minimize
from scipy.stats import spearmanr

ap = argparse.ArgumentParser()
ap.add_argument('--clips', required=True, help='features.jsonl of the KoNViD clips (fit and holdout)')
ap.add_argument('--mos', required=True, help='KONVID_1K_metadata.csv (flickr_id, mos)')
ap.add_argument('--fit-ids', required=True)
ap.add_argument('--val-ids', required=True)
ap.add_argument('--fit-ladder', required=True, help='features.jsonl of the fit clips\' rungs')
ap.add_argument('--val-ladder', required=True, help='features.jsonl of the holdout clips\' rungs')
a = ap.parse_args()

def load(p):
    return {j['id']: j['features'] for j in map(json.loads, open(p))}

clips, fl, vl = load(a.clips), load(a.fit_ladder), load(a.val_ladder)
mos = {r['flickr_id']: float(r['mos']) for r in csv.DictReader(open(a.mos))}
fit, val = open(a.fit_ids).read().split(), open(a.val_ids).read().split()
names = [n for n in clips[fit[0]] if not n.startswith('bitrate')]

def X(d, ids):
    return np.array([[np.log(d[i][n] + 0.01) if n == 'noise_sigma' else d[i][n] for n in names] for i in ids])

Xf, yf = X(clips, fit), np.array([mos[i] for i in fit])
Xv, yv = X(clips, val), np.array([mos[i] for i in val])
mu, sd = Xf.mean(0), Xf.std(0) + 1e-12
Z = lambda A: (A - mu) / sd

def pairs(d, adjacent):
    src = collections.defaultdict(dict)
    for k in d:
        s, c = k.rsplit('-', 1)
        src[s][int(c)] = k
    out = []
    for m in src.values():
        cs = sorted(m)
        pr = zip(cs, cs[1:]) if adjacent else [(x, y) for i, x in enumerate(cs) for y in cs[i + 1:]]
        out += [(m[x], m[y], (x, y)) for x, y in pr]
    return out

tp, vp = pairs(fl, False), pairs(vl, True)
Dt = Z(X(fl, [p[0] for p in tp])) - Z(X(fl, [p[1] for p in tp]))
Dv = Z(X(vl, [p[0] for p in vp])) - Z(X(vl, [p[1] for p in vp]))
Zf, Zv = Z(Xf), Z(Xv)
print(f'{len(names)} features; {len(fit)} fit clips, {len(val)} holdout clips; '
      f'{len(tp)} fit-ladder pairs (all rung pairs), {len(vp)} holdout-ladder adjacent pairs')
print('| lam | alpha | holdout SRCC | holdout ladder pairs ordered | by step | fit ladder pairs ordered |')
print('|---|---|---|---|---|---|')
for lam in (0.01, 0.05):
    for alpha in (0, 0.01, 0.1, 0.3, 1, 3):
        def f(p):
            w, b = p[:-1], p[-1]
            r = Zf @ w + b - yf
            return r @ r / len(r) + alpha * np.mean(np.logaddexp(0, -(Dt @ w) / 0.05)) + lam * w @ w
        w = minimize(f, np.r_[np.zeros(len(names)), yf.mean()], method='L-BFGS-B').x[:-1]
        st = collections.defaultdict(list)
        for p, d in zip(vp, Dv @ w):
            st[p[2]].append(d > 0)
        lad = np.mean([x for v in st.values() for x in v])
        steps = ' '.join(f'{k[0]}>{k[1]} {np.mean(v):.2f}' for k, v in sorted(st.items()))
        print(f'| {lam} | {alpha} | {spearmanr(Zv @ w, yv).correlation:.3f} | {lad:.3f} | {steps} | {np.mean(Dt @ w > 0):.3f} |')
