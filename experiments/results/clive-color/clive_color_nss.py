#!/usr/bin/python3
"""Do colour and gradient natural-scene statistics help a linear fit on CLIVE?

HIGRADE-style features (Kundu et al. 2017): BRISQUE's MSCN GGD and four
paired-product AGGD fits at two scales on CIELAB L, A, B and on the
gradient magnitude of L (4 x 36), plus chroma and gradient moments, added
to `cpllm baseline`'s 45 features (38 NSS + 7 signals, bit rate left out);
ridge on z-scored, +-5-clipped features, lambda by leave-one-out on the
fit rows, SRCC on the holdout rows (`cpllm train holdout`'s clive lists).

  clive_color_nss.py --baseline runs/real/baseline/clive-val/features.jsonl \
      --clive ../shared/realdata/CLIVE --fit-ids runs/real/holdout/clive.fit.txt \
      --val-ids runs/real/holdout/clive.val.txt --cache runs/real/baseline/clive-color.jsonl
"""
import argparse, json, os, subprocess, numpy as np, scipy.io as sio
from scipy.ndimage import gaussian_filter, zoom
from scipy.special import gamma
from scipy.stats import spearmanr

G = np.arange(0.2, 10, 0.001)
R = gamma(1/G)*gamma(3/G)/gamma(2/G)**2
def ggd(x):
    x = x.ravel(); s2 = np.mean(x**2); r = s2/(np.mean(np.abs(x))**2+1e-12)
    return [G[np.argmin((R-r)**2)], s2]
def aggd(x):
    x = x.ravel(); l = x[x<0]; r = x[x>=0]
    sl = np.sqrt(np.mean(l**2)) if l.size else 1e-6; sr = np.sqrt(np.mean(r**2)) if r.size else 1e-6
    gh = sl/sr; rh = np.mean(np.abs(x))**2/np.mean(x**2)
    rn = rh*(gh**3+1)*(gh+1)/(gh**2+1)**2
    al = G[np.argmin((1/R-rn)**2)]
    m = (sr-sl)*gamma(2/al)/gamma(1/al)
    return [al, m, sl**2, sr**2]
def mscn(c):
    mu = gaussian_filter(c, 7/6); sd = np.sqrt(np.abs(gaussian_filter(c*c, 7/6)-mu*mu))
    return (c-mu)/(sd+1)
def nss(c):
    out=[]
    for s in range(2):
        m = mscn(c)
        out += ggd(m)
        for sh in [(0,1),(1,0),(1,1),(1,-1)]:
            out += aggd(m*np.roll(m, sh, axis=(0,1)))
        c = zoom(c, 0.5, order=1)
    return out
def lab(rgb):
    c = rgb/255.0
    c = np.where(c>0.04045, ((c+0.055)/1.055)**2.4, c/12.92)
    M = np.array([[0.4124,0.3576,0.1805],[0.2126,0.7152,0.0722],[0.0193,0.1192,0.9505]])
    xyz = c@M.T / np.array([0.9505,1.0,1.089])
    f = np.where(xyz>0.008856, np.cbrt(xyz), 7.787*xyz+16/116)
    L = 116*f[...,1]-16; A = 500*(f[...,0]-f[...,1]); B = 200*(f[...,1]-f[...,2])
    return L, A, B
def feats(a):
    path, w, h = a
    raw = subprocess.run(['ffmpeg','-v','error','-i',path,'-f','rawvideo','-pix_fmt','rgb24','-'],capture_output=True).stdout
    # CLIVE 500x500
    rgb = np.frombuffer(raw, np.uint8).reshape(h,w,3).astype(np.float64)
    L,A,B = lab(rgb)
    gy, gx = np.gradient(gaussian_filter(L, 0.5)); gm = np.hypot(gx, gy)
    out = {}
    for name, c in (('L',L),('A',A),('B',B),('G',gm)):
        for i,v in enumerate(nss(c)): out[f'{name}{i}'] = float(v)
    chroma = np.hypot(A,B)
    out.update(chroma_mean=float(chroma.mean()), chroma_std=float(chroma.std()), L_std=float(L.std()), L_mean=float(L.mean()),
               g_mean=float(gm.mean()), g_logvar=float(np.log(gm.var()+1e-6)))
    return out

ap = argparse.ArgumentParser()
for k in ("--baseline", "--clive", "--fit-ids", "--val-ids", "--cache"):
    ap.add_argument(k, required=True)
a = ap.parse_args()
if not os.path.exists(a.cache):
    recs = [json.loads(l) for l in open(a.baseline)]
    with open(a.cache + ".tmp", "w") as f:
        for r in recs:
            f.write(json.dumps({"id": r["id"], "f": feats((r["path"], r["width"], r["height"]))}) + "\n")
    os.replace(a.cache + ".tmp", a.cache)
root = os.path.join(a.clive, "Data") + "/"

names=[str(x[0][0]) for x in sio.loadmat(root+'AllImages_release.mat')['AllImages_release']]
mos=sio.loadmat(root+'AllMOS_release.mat')['AllMOS_release'][0]
M={n.rsplit('.',1)[0]:m for n,m in zip(names,mos)}
base={}
for l in open(a.baseline):
    j=json.loads(l); base[j['id']]=j['features']
extra={}
for l in open(a.cache):
    j=json.loads(l); extra[j['id']]=j['f']
fit=open(a.fit_ids).read().split()
val=open(a.val_ids).read().split()
bk=sorted(k for k in base[fit[0]] if k not in ('bitrate_bpp','bitrate_kbps'))
ek=sorted(extra[fit[0]])
def X(ids,keys,src): return np.array([[src[i][k] for k in keys] for i in ids])
def ridge(Xf,yf,Xv,lams=(0.1,0.3,1,3,10,30,100,300)):
    mu,sd=Xf.mean(0),Xf.std(0)+1e-9; Zf=(Xf-mu)/sd; Zv=(Xv-mu)/sd
    Zf=np.clip(Zf,-5,5); Zv=np.clip(Zv,-5,5)
    A=np.c_[Zf,np.ones(len(Zf))]; best=None
    for lam in lams:
        # LOO via hat matrix
        P=np.eye(A.shape[1])*lam; P[-1,-1]=0
        H=A@np.linalg.solve(A.T@A+P,A.T); r=yf-H@yf; loo=np.mean((r/(1-np.diag(H)))**2)
        if best is None or loo<best[0]: best=(loo,lam)
    lam=best[1]; P=np.eye(A.shape[1])*lam; P[-1,-1]=0
    w=np.linalg.solve(A.T@A+P,A.T@yf); return np.c_[Zv,np.ones(len(Zv))]@w, lam
def feats_of(ids, kb, ke):
    parts = ([X(ids, kb, base)] if kb else []) + ([X(ids, ke, extra)] if ke else [])
    return np.concatenate(parts, axis=1)
sets = {'base': (bk, []), 'extra': ([], ek), 'base+extra': (bk, ek),
        'base+Lab': (bk, [k for k in ek if k[0] in 'AB' or k.startswith('chroma')]),
        'base+G': (bk, [k for k in ek if k[0] == 'G' or k.startswith('g_')])}
yf = np.array([M[i] for i in fit]); yv = np.array([M[i] for i in val])
every = fit + val
folds = np.random.default_rng(1).permutation(len(every)) % 5   # seeded 5-fold over all rows
print('| features | n | holdout SRCC (fit -> val, lambda) | 5-fold CV SRCC (out-of-fold, all rows) |')
print('|---|--:|---|---|')
for name, (kb, ke) in sets.items():
    p, lam = ridge(feats_of(fit, kb, ke), yf, feats_of(val, kb, ke))
    Xa, ya = feats_of(every, kb, ke), np.array([M[i] for i in every])
    oof = np.zeros(len(every))
    for k in range(5):
        oof[folds == k], _ = ridge(Xa[folds != k], ya[folds != k], Xa[folds == k])
    print(f'| {name} | {Xa.shape[1]} | {spearmanr(p, yv)[0]:.3f} ({lam:g}) | {spearmanr(oof, ya)[0]:.3f} |')
