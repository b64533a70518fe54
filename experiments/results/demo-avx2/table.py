import re, statistics, sys, math
from scipy import stats
rows=[]
for n in range(1,6):
    run = 'runs/demo-avx2/run' if n==1 else f'runs/demo-avx2-seeds/seed{n}/run'
    ev = 'runs/demo-avx2/eval/report.md' if n==1 else f'runs/demo-avx2-seeds/seed{n}/eval/report.md'
    log = 'runs/demo-avx2.log' if n==1 else f'runs/demo-avx2-seeds/seed{n}/train.log'
    try:
        md=open(ev).read()
    except FileNotFoundError:
        continue
    vals=[(float(m.group(2)),int(m.group(1))) for m in re.finditer(r'step (\d+): val srcc ([0-9.]+)', open(log).read())]
    best=max(vals)  # ties: later step wins in max over (srcc, step)
    srcc=re.search(r'\| srcc \| ([0-9.]+) \[([0-9.]+), ([0-9.]+)\]', md)
    pl=re.search(r'\| plcc_4pl \| ([0-9.]+) \[([0-9.]+), ([0-9.]+)\]', md)
    pr=re.search(r'\| run \| [0-9.]+ \(\d+/\d+\) \[[^]]*\] \| ([0-9.]+) \(\d+/\d+\) \[[^]]*\] \| [0-9.]+ \(\d+/\d+\) \[[^]]*\] \| ([0-9.]+) ', md)
    rows.append((n,best,srcc.groups(),pl.groups(),pr.groups() if pr else ('?','?')))
print('| seed | best validation SRCC (step) | test SRCC [95% CI] | test PLCC(4PL) [95% CI] | ladder pairs ordered by score | cross-video pairs ordered by score |')
print('|---|---|---|---|---|---|')
for n,b,s,p,pr in rows:
    print(f'| {n} | {b[0]:.3f} ({b[1]}) | {float(s[0]):.3f} [{float(s[1]):.3f}, {float(s[2]):.3f}] | {float(p[0]):.3f} [{float(p[1]):.3f}, {float(p[2]):.3f}] | {float(pr[0]):.3f} | {float(pr[1]):.3f} |')
t=[float(r[2][0]) for r in rows]; v=[r[1][0] for r in rows]
if len(t)>1:
    m=statistics.mean(t); sd=statistics.stdev(t); h=stats.t.ppf(0.975,len(t)-1)*sd/math.sqrt(len(t))
    print(f'\nseeds {len(t)}: test SRCC {m:.3f} ± {sd:.3f} [{m-h:.3f}, {m+h:.3f}] range {min(t):.3f}-{max(t):.3f}; best val {statistics.mean(v):.3f} ± {statistics.stdev(v):.3f}')
