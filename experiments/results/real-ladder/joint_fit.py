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
Or, with --token, the statistics the model's token reads, from `cpllm data
stats` of a shard directory holding the clips and their rungs: --kind patch
(the 8 stored patches, stats nss-logsignals), frame (the whole frames,
frame-nss-logsignals; shards made with shards.frame_stats) or both.
Needs numpy and scipy (Debian: python3-scipy).
"""
import argparse, collections, csv, json
import numpy as np
from scipy.optimize import minimize
from scipy.stats import spearmanr

ap = argparse.ArgumentParser()
ap.add_argument('--clips', help='features.jsonl of the KoNViD clips (fit and holdout)')
ap.add_argument('--mos', required=True, help='KONVID_1K_metadata.csv (flickr_id, mos)')
ap.add_argument('--fit-ids', required=True)
ap.add_argument('--val-ids', required=True)
ap.add_argument('--fit-ladder', help='features.jsonl of the fit clips\' rungs')
ap.add_argument('--val-ladder', help='features.jsonl of the holdout clips\' rungs')
ap.add_argument('--token', help='`cpllm data stats` output of the clips and their rungs (instead of the three above)')
ap.add_argument('--kind', default='patch', choices=['patch', 'frame', 'both'], help='with --token: which statistics')
a = ap.parse_args()

def load(p):
    return {j['id']: j['features'] for j in map(json.loads, open(p))}

mos = {r['flickr_id']: float(r['mos']) for r in csv.DictReader(open(a.mos))}
fit, val = open(a.fit_ids).read().split(), open(a.val_ids).read().split()

def token(path, kind):
    """Clips by source id, rungs by SOURCE-CRF, split into fit and holdout rungs."""
    clips, fl, vl = {}, {}, {}
    for j in map(json.loads, open(path)):
        parts = [('p:', j['patch']), ('f:', j['frame'])] if kind == 'both' else [('', j[kind])]
        f = {p + n: v for p, d in parts for n, v in d.items()}
        if j.get('crf') is None:
            clips[j['source_id']] = f
        else:
            (vl if j['source_id'] in val else fl)[f"{j['source_id']}-{j['crf']}"] = f
    return clips, fl, vl

if a.token:
    clips, fl, vl = token(a.token, a.kind)
else:
    clips, fl, vl = load(a.clips), load(a.fit_ladder), load(a.val_ladder)
names = [n for n in clips[fit[0]] if not n.startswith('bitrate')]

def X(d, ids):
    return np.array([[np.log(d[i][n] + 0.01) if n.endswith('noise_sigma') else d[i][n] for n in names] for i in ids])

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
