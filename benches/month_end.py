#!/usr/bin/env python3
"""The month end: how honest are step-up rates while the newest deals are still open?

Generates an organisation with `salescoach generate` twice from one seed: cut at the last second
of a month (what the monthly batch sees), and uncut (hindsight: every outcome decided). Then, for
the newest month's rep-level cohorts:
  bias      the entered-weighted mean of (rate at the month end - the same cell in hindsight),
            per transition (target: within +-0.03);
  coverage  the share of cells whose 95% interval covers the hindsight rate, and the share that
            covers the rep's true probability from --truth (target 90-98%);
and, with --diagnose, how often diagnose at that month end (lookback 3) names the planted lever,
against the same organisation seen in hindsight.

    python3 benches/month_end.py                       # 600 reps (5 x 5 x 24), cut at 2026-05
    python3 benches/month_end.py --directors 1 --managers 4 --reps 50 --seeds 1 2
"""

import argparse
import csv
import io
import os
import subprocess
import sys
import tempfile

# Generated organisations run into months after today: read them with a clock far ahead.
os.environ.setdefault("SALESCOACH_NOW", "2100-01-01T00:00:00Z")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STAGES = ["lead", "case", "proposal", "quote", "won"]
TRANSITIONS = list(zip(STAGES, STAGES[1:]))


def run(args):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{p.stderr}")
    return p.stdout


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/salescoach"))
    ap.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3])
    ap.add_argument("--directors", type=int, default=5)
    ap.add_argument("--managers", type=int, default=5)
    ap.add_argument("--reps", type=int, default=24)
    ap.add_argument("--month", default="2026-05", help="the month whose end is the cut")
    ap.add_argument("--months", type=int, default=5, help="months of data up to --month")
    ap.add_argument("--diagnose", action="store_true", help="also score diagnose at the month end")
    ap.add_argument("--max-bias", type=float, help="exit 1 when a transition's bias is larger")
    ap.add_argument("--coverage", type=float, nargs=2, help="exit 1 outside this coverage range")
    a = ap.parse_args()
    y, m = map(int, a.month.split("-"))
    start_index = y * 12 + m - 1 - (a.months - 1)
    start = f"{start_index // 12:04d}-{start_index % 12 + 1:02d}"
    nxt = y * 12 + m
    cut = f"{nxt // 12:04d}-{nxt % 12 + 1:02d}-01T00:00:00Z"
    diff = {t: [0.0, 0] for t in TRANSITIONS}
    observed = {t: 0.0 for t in TRANSITIONS}
    cover_hind = [0, 0]
    cover_true = [0, 0]
    found = {"month_end": 0, "hindsight": 0, "planted": 0}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in a.seeds:
            data = {}
            for name, as_of in [("cut", cut), ("hind", "2099-01-01")]:
                out = os.path.join(tmp, f"{name}{seed}")
                run([a.bin, "generate", "--out", out, "--seed", str(seed), "--start", start,
                     "--months", str(a.months), "--directors", str(a.directors),
                     "--managers", str(a.managers), "--reps", str(a.reps), "--late-share", "0.25",
                     "--as-of", as_of, "--truth", os.path.join(out, "truth.csv"), "-q"])
                data[name] = out
            truth = {r["rep_id"]: r for r in rows(open(os.path.join(data["hind"], "truth.csv")).read())}
            cells = {}
            for name, out in data.items():
                as_of = ["--as-of", cut] if name == "cut" else []
                text = run([a.bin, "funnel", "--events", os.path.join(out, "events.csv"),
                            "--by", "rep", "--period", a.month, "-f", "csv", "-q"] + as_of)
                for r in rows(text):
                    cells[(name, r["group_id"], r["from_stage"], r["to_stage"])] = r
            for (name, rep, f, t), r in cells.items():
                if name != "cut" or (f, t) not in diff or not r["rate"]:
                    continue
                h = cells.get(("hind", rep, f, t))
                if not h or not h["rate"]:
                    continue
                n = int(r["entered"])
                rate, hind = float(r["rate"]), float(h["rate"])
                diff[(f, t)][0] += n * (rate - hind)
                diff[(f, t)][1] += n
                observed[(f, t)] += n * (float(r["rate_observed"]) - hind)
                lo, hi = float(r["rate_low"]), float(r["rate_high"])
                cover_hind[0] += lo - 1e-9 <= hind <= hi + 1e-9
                cover_hind[1] += 1
                true = truth.get(rep, {}).get(f"rate_{f}_{t}")
                if true:
                    cover_true[0] += lo - 1e-9 <= float(true) <= hi + 1e-9
                    cover_true[1] += 1
            if a.diagnose:
                for name, out in data.items():
                    as_of = ["--as-of", cut] if name == "cut" else []
                    text = run([a.bin, "diagnose", "--events", os.path.join(out, "events.csv"),
                                "--activities", os.path.join(out, "activities.csv"),
                                "--roster", os.path.join(out, "roster.csv"),
                                "--period", a.month, "-f", "csv", "-q"] + as_of)
                    key = "month_end" if name == "cut" else "hindsight"
                    for r in rows(text):
                        planted = truth.get(r["rep_id"], {}).get("planted_lever")
                        if planted and r["focus"] == planted:
                            found[key] += 1
                found["planted"] += sum(1 for t in truth.values() if t.get("planted_lever"))
    print(f"month end {a.month}, {len(a.seeds)} organisations of "
          f"{a.directors * a.managers * a.reps} reps, newest month's rep cohorts")
    print("transition         entered-weighted bias (month end - hindsight): estimate, converted/entered")
    worst = 0.0
    for (f, t), (s, n) in diff.items():
        bias = s / n if n else float("nan")
        worst = max(worst, abs(bias)) if n else worst
        raw = observed[(f, t)] / n if n else float("nan")
        print(f"  {f:>8} -> {t:<8}  {bias:+.3f}   {raw:+.3f}  (entered {n})")
    ch = cover_hind[0] / max(cover_hind[1], 1)
    ct = cover_true[0] / max(cover_true[1], 1)
    print(f"95% intervals cover the hindsight rate in {ch:.1%} of {cover_hind[1]} cells, "
          f"the rep's true probability in {ct:.1%} of {cover_true[1]}")
    if a.diagnose:
        print(f"diagnose finds the planted lever for {found['month_end']} of {found['planted']} at "
              f"the month end, {found['hindsight']} in hindsight")
    failed = False
    if a.max_bias is not None and worst > a.max_bias:
        print(f"FAIL: a transition's bias {worst:.3f} exceeds {a.max_bias}")
        failed = True
    if a.coverage and not (a.coverage[0] <= ch <= a.coverage[1]):
        print(f"FAIL: coverage {ch:.3f} outside {a.coverage}")
        failed = True
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
