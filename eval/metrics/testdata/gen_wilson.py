#!/usr/bin/python3
"""Oracle for metrics.Wilson: the 95% Wilson score interval of k successes
out of n, from its textbook formula with z = scipy.stats.norm.ppf(0.975).

Run with Debian's scipy 1.10:  /usr/bin/python3 gen_wilson.py [out.json]
Default output: wilson_fixtures.json next to this script (deterministic).
"""
import json
import math
import os
import sys

from scipy import stats


def wilson(k, n):
    z = stats.norm.ppf(0.975)
    p = k / n
    den = 1 + z * z / n
    mid = (p + z * z / (2 * n)) / den
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
    return {"k": k, "n": n, "value": p,
            "ci_low": max(0.0, mid - half), "ci_high": min(1.0, mid + half)}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "wilson_fixtures.json")
    cases = [(0, 10), (10, 10), (81, 263), (5, 7), (1, 1), (0, 1), (50, 100),
             (999, 1000), (3, 40), (17, 20), (123, 456), (2, 3)]
    doc = {"generator": "eval/metrics/testdata/gen_wilson.py",
           "cases": [wilson(k, n) for k, n in cases]}
    with open(out, "w") as fh:
        json.dump(doc, fh, indent=1)
        fh.write("\n")


if __name__ == "__main__":
    main()
