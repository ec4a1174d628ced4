#!/usr/bin/env python3
"""Scores `salescoach review` on simulated coaching whose outcome is known.

For each seed: an organisation is generated through May and cut at the end of March; `plan`
writes the March plans from that cut (proposed plans count as agreed, suggestions are not
plans); the same organisation is generated again with those plans coached from April, where a
share (--fix-share) of the coached reps lose the planted weakness on the coached lever. Then
`review` is scored over the plans it reviews, by what the truth says happened to the rep:
  cured      the planted weakness on the coached lever was removed (target: improved >= 50%);
  uncured    the rep had a planted weakness that the coaching did not remove (target <= 10%);
  healthy    the rep had no planted weakness (target <= 10%).
Twice: in May with every outcome known (hindsight), and at the April month end, one month after
the plans, with the month-end estimates for the deals still open.

    python3 benches/review_accuracy.py                     # 3 organisations of 128 reps
    python3 benches/review_accuracy.py --seeds 1 --check   # exit 1 when a target is missed
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
MARCH_END = "2026-03-31T23:59:59Z"
APRIL_END = "2026-04-30T23:59:59Z"


def run(args):
    p = subprocess.run(args, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{p.stderr}")
    return p.stdout


def rows(text):
    return list(csv.DictReader(io.StringIO(text)))


def read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def org_args(a, seed):
    return [
        "--seed", str(seed), "--directors", str(a.directors), "--managers", str(a.managers),
        "--reps", str(a.reps), "--months", "5", "--start", "2026-01", "--leads", str(a.leads),
        "--late-share", "0",
    ]


def score(reviews, truth):
    """Counts (improved, reviewed) per group, over plans that got a verdict."""
    out = {"cured": [0, 0], "uncured": [0, 0], "healthy": [0, 0]}
    inconclusive = 0
    worse = {"cured": 0, "uncured": 0, "healthy": 0}
    effects = {"cured": [], "uncured": [], "healthy": []}
    for r in reviews:
        if r.get("level") != "plan" or not r["verdict"]:
            continue
        t = truth[r["rep_id"]]
        if t["fixed"] == "true":
            group = "cured"
        elif t["planted_lever"]:
            group = "uncured"
        else:
            group = "healthy"
        out[group][0] += r["verdict"] == "improved"
        out[group][1] += 1
        inconclusive += r["verdict"] == "inconclusive"
        worse[group] += r["verdict"] == "worse"
        if r["effect"] and "->" in r["focus"]:
            effects[group].append(float(r["effect"]))
    return out, inconclusive, worse, effects


def share(pair):
    return pair[0] / pair[1] if pair[1] else float("nan")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "target/release/salescoach"))
    ap.add_argument("--seeds", type=int, nargs="*", default=[1, 2, 3])
    ap.add_argument("--directors", type=int, default=2)
    ap.add_argument("--managers", type=int, default=4)
    ap.add_argument("--reps", type=int, default=16)
    ap.add_argument("--leads", type=int, default=40)
    ap.add_argument("--fix-share", default="0.5")
    ap.add_argument("--check", action="store_true", help="exit 1 when a hindsight target is missed")
    a = ap.parse_args()
    totals = {k: {"cured": [0, 0], "uncured": [0, 0], "healthy": [0, 0]} for k in ("may", "april")}
    plans_total = reps_total = 0
    totals_worse = {k: {"cured": 0, "uncured": 0, "healthy": 0} for k in ("may", "april")}
    totals_effects = {k: {"cured": [], "uncured": [], "healthy": []} for k in ("may", "april")}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in a.seeds:
            d = os.path.join(tmp, str(seed))
            cut = os.path.join(d, "march")
            run([a.bin, "-q", "generate", "--out", cut, "--as-of", MARCH_END] + org_args(a, seed))
            ledger = os.path.join(d, "plans.csv")
            run([a.bin, "-q", "plan", "--events", f"{cut}/events.csv",
                 "--activities", f"{cut}/activities.csv", "--roster", f"{cut}/roster.csv",
                 "--period", "2026-03", "--as-of", MARCH_END, "--out", os.path.join(d, "sheets"),
                 "--level", "rep", "--ledger", ledger])
            plans = [p for p in read(ledger) if p["status"] != "suggested"]
            plans_total += len(plans)
            for when, as_of, period in (("may", None, "2026-05"), ("april", APRIL_END, "2026-04")):
                out = os.path.join(d, when)
                extra = ["--as-of", as_of] if as_of else []
                run([a.bin, "-q", "generate", "--out", out, "--ledger", ledger, "--fix-share",
                     a.fix_share, "--truth", f"{out}/truth.csv"] + org_args(a, seed) + extra)
                truth = {t["rep_id"]: t for t in read(f"{out}/truth.csv")}
                reps_total += len(truth) if when == "may" else 0
                review = [a.bin, "-q", "review", "--ledger", ledger, "--events",
                          f"{out}/events.csv", "--activities", f"{out}/activities.csv",
                          "--roster", f"{out}/roster.csv", "--period", period, "-f", "csv"]
                reviews = rows(run(review + extra))
                scored, inconclusive, worse, effects = score(reviews, truth)
                for k in worse:
                    totals_worse[when][k] += worse[k]
                    totals_effects[when][k] += effects[k]
                for k, v in scored.items():
                    totals[when][k][0] += v[0]
                    totals[when][k][1] += v[1]
                print(f"seed {seed} {when:5}: " + ", ".join(
                    f"{k} {v[0]}/{v[1]} ({share(v):.0%})" for k, v in scored.items())
                    + f"; inconclusive {inconclusive}", file=sys.stderr)
    print(f"{len(a.seeds)} organisations, {reps_total} reps, {plans_total} plans (suggestions "
          f"excluded)")
    print(f"{'review':28} {'cured improved':>16} {'uncured improved':>17} {'healthy improved':>17}")
    labels = {"may": "May (hindsight)", "april": "April month end (1 month on)"}
    for when in ("may", "april"):
        t = totals[when]
        print(f"{labels[when]:28} " + " ".join(
            f"{f'{v[0]}/{v[1]} {share(v):.0%}':>{w}}"
            for v, w in ((t['cured'], 16), (t['uncured'], 17), (t['healthy'], 17))))
    print("worse verdicts, and the mean effect on rate plans (points):")
    for when in ("may", "april"):
        parts = []
        for k in ("cured", "uncured", "healthy"):
            e = totals_effects[when][k]
            mean = f"{100 * sum(e) / len(e):+.1f}" if e else "—"
            parts.append(f"{k} worse {totals_worse[when][k]}, mean effect {mean} (n={len(e)})")
        print(f"  {labels[when]}: " + "; ".join(parts))
    if a.check:
        t = totals["may"]
        ok = share(t["cured"]) >= 0.5 and share(t["uncured"]) <= 0.10 and share(t["healthy"]) <= 0.10
        sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
