#!/usr/bin/env python3
"""Scores `salescoach diagnose` against the weaknesses `salescoach generate` planted.

Prints three figures side by side, over the reps with a planted weakness:
  ours     the share whose diagnosed lever is the planted one (the focus; also shown: the focus
           or, when no lever stands out, the suggestion);
  naive    the same for the largest relative gap between the raw rate and the peers' median
           (or lead volume): what a person reading a CRM dashboard does;
  ceiling  the same for the Bayes-optimal classifier that knows the generator's parameters
           and picks the most likely planted lever from the same funnel counts.
And, for reps with a planted case -> proposal cause whose diagnosed lever is case -> proposal,
the share whose first hypothesis is the planted cause.

    python3 benches/diagnose_accuracy.py                  # 7 organisations of 200 reps, a quarter joining late
    python3 benches/diagnose_accuracy.py --seeds 1        # one organisation
"""

import argparse
import csv
import io
import json
import math
import os
import subprocess
import sys
import tempfile

# Generated organisations run into months after today: read them with a clock far ahead.
os.environ.setdefault("SALESCOACH_NOW", "2100-01-01T00:00:00Z")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# The generator's parameters (src/sim/mod.rs).
BASE_RATES = [0.40, 0.50, 0.60, 0.45]
RATE_SD = 0.25
LEADS_SD = 0.15
WEAK = 0.5
STAGES = ["lead", "case", "proposal", "quote", "won"]
LEVERS = [f"{a}->{b}" for a, b in zip(STAGES, STAGES[1:])] + ["volume:lead"]

# Standard-normal quadrature nodes for the reps' random effects.
GRID = [-5 + i * 0.125 for i in range(81)]
WEIGHTS = [math.exp(-z * z / 2) for z in GRID]
WSUM = sum(WEIGHTS)


def run(args, **kw):
    p = subprocess.run(args, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{p.stderr}")
    return p.stdout


def logit(p):
    return math.log(p / (1 - p))


def inv_logit(x):
    return 1 / (1 + math.exp(-x))


def log_marginal_binomial(k, n, base, weak):
    """log ∫ Binom(k | n, p(z)) φ(z) dz without the binomial coefficient (same for all levers)."""
    if n == 0:
        return 0.0
    terms = []
    for z, w in zip(GRID, WEIGHTS):
        p = inv_logit(logit(base) + RATE_SD * z) * (WEAK if weak else 1.0)
        terms.append(math.log(w / WSUM) + k * math.log(p) + (n - k) * math.log(1 - p))
    m = max(terms)
    return m + math.log(sum(math.exp(t - m) for t in terms))


def log_marginal_poisson(counts, mean_leads, weak):
    if not counts:
        return 0.0
    total, months = sum(counts), len(counts)
    terms = []
    for z, w in zip(GRID, WEIGHTS):
        lam = mean_leads * math.exp(LEADS_SD * z) * (WEAK if weak else 1.0)
        terms.append(math.log(w / WSUM) + total * math.log(lam) - months * lam)
    m = max(terms)
    return m + math.log(sum(math.exp(t - m) for t in terms))


def ceiling(k, n, lead_counts, mean_leads):
    """The most likely planted lever given the counts, under the generator's model."""
    best, best_ll = None, -math.inf
    for planted in LEVERS:
        ll = 0.0
        for t in range(4):
            ll += log_marginal_binomial(k[t], n[t], BASE_RATES[t], planted == LEVERS[t])
        ll += log_marginal_poisson(lead_counts, mean_leads, planted == "volume:lead")
        if ll > best_ll:
            best, best_ll = planted, ll
    return best


def true_posterior(support, loglik):
    """Posterior (values, probabilities) over a discrete prior [(value, weight)]."""
    logs = [math.log(w) + loglik(v) for v, w in support]
    top = max(logs)
    probs = [math.exp(x - top) for x in logs]
    total = sum(probs)
    return [v for v, _ in support], [q / total for q in probs]


def true_prior(t, weak_share, mean_leads):
    """The generator's prior of a rep's rate at transition t (t = 4: leads a month)."""
    support = []
    for z, w in zip(GRID, WEIGHTS):
        if t < 4:
            value = inv_logit(logit(BASE_RATES[t]) + RATE_SD * z)
        else:
            value = mean_leads * math.exp(LEADS_SD * z)
        support.append((value, w / WSUM * (1 - weak_share)))
        support.append((value * WEAK, w / WSUM * weak_share))
    return support


def focus_rule_with_true_prior(reps, mean_leads, threshold=0.8):
    """The issue's focus rule (impact among levers at least `threshold` sure to be below the
    peers' median) with the generator's own prior in place of the fitted one: what the rule
    itself can reach when nothing has to be estimated. reps: {id: (k, n, lead counts, months)}."""
    weak_share = 0.6 / len(LEVERS)
    priors = [true_prior(t, weak_share, mean_leads) for t in range(5)]
    post = {}
    for rep, (k, n, lead_counts, _) in reps.items():
        levers = []
        for t in range(4):
            def binom(p, k=k[t], n=n[t]):
                return k * math.log(p) + (n - k) * math.log(1 - p)
            levers.append(true_posterior(priors[t], binom) if n[t] else None)
        total, months = sum(lead_counts), len(lead_counts)
        levers.append(true_posterior(priors[4], lambda lam: total * math.log(lam) - months * lam)
                      if months else None)
        post[rep] = levers
    mean = {rep: [sum(v * q for v, q in zip(*p)) if p else None for p in ps] for rep, ps in post.items()}
    bench = [median([m[t] for m in mean.values() if m[t] is not None]) for t in range(5)]
    focus = {}
    for rep, (k, n, lead_counts, mature_months) in reps.items():
        m = [x if x is not None else bench[t] for t, x in enumerate(mean[rep])]
        best, best_impact = None, 0.0
        for t in range(5):
            if post[rep][t] is None:
                continue
            values, probs = post[rep][t]
            sure = sum(q for v, q in zip(values, probs) if v < bench[t])
            down = math.prod(m[t + 1:4]) if t < 4 else math.prod(m[:4])
            volume = n[t] / max(mature_months, 1) if t < 4 else 1.0
            impact = volume * max(bench[t] - m[t], 0.0) * down
            if sure >= threshold and impact > best_impact:
                best, best_impact = LEVERS[t], impact
        focus[rep] = best
    return focus


def median(xs):
    xs = sorted(xs)
    if not xs:
        return None
    mid = len(xs) // 2
    return xs[mid] if len(xs) % 2 else (xs[mid - 1] + xs[mid]) / 2


def score(binary, seed, args, tmp):
    out = os.path.join(tmp, f"s{seed}")
    truth_path = os.path.join(out, "truth.csv")
    run([binary, "generate", "--out", out, "--seed", str(seed), "--directors", str(args.directors),
         "--managers", str(args.managers), "--reps", str(args.reps), "--months", str(args.months),
         "--leads", str(args.leads), "--late-share", str(args.late_share), "--weak-share", "0.6",
         "--truth", truth_path, "-q"])
    funnel = run([binary, "funnel", "--events", f"{out}/events.csv", "--activities",
                  f"{out}/activities.csv", "--roster", f"{out}/roster.csv", "--by", "rep", "-f", "csv", "-q"])
    funnel_path = os.path.join(out, "funnel.csv")
    with open(funnel_path, "w") as f:
        f.write(funnel)
    period = ["--period", args.period] if args.period else []
    period += ["--config", args.config] if args.config else []
    diag = json.loads(run([binary, "diagnose", "--funnel", funnel_path, "--lookback", str(args.lookback),
                           "-f", "json", "-q"] + period))
    truth = {r["rep_id"]: r for r in csv.DictReader(open(truth_path))}
    window = {diag[0]["window_from"], diag[0]["window_to"]} if diag else set()
    lo, hi = diag[0]["window_from"], diag[0]["window_to"]
    rows = [r for r in csv.DictReader(io.StringIO(funnel)) if lo <= r["period"] <= hi]
    # Per rep: counts per transition, and leads per active month. A cohort still open at the
    # month end counts as much as its outcome is known (its effective counts: rate x observed
    # share x entered), which is how the ceiling treats open deals as censored.
    k, n, leads, mature = {}, {}, {}, {}
    for r in rows:
        rep = r["group_id"]
        k.setdefault(rep, [0] * 4)
        n.setdefault(rep, [0] * 4)
        if int(r["entered"]) > 0:
            mature.setdefault(rep, set()).add(r["period"])
        if r["from_stage"] == "lead" and r["to_stage"] == "case" and int(r["entered"]) > 0:
            leads.setdefault(rep, []).append(int(r["entered"]))
        if r["to_stage"] == "won" and r["from_stage"] == "lead":
            continue
        t = STAGES.index(r["from_stage"])
        if r["rate"] and r.get("observed_share"):
            eff = float(r["observed_share"]) * int(r["entered"])
            k[rep][t] += float(r["rate"]) * eff
            n[rep][t] += eff
    raw = {rep: [k[rep][t] / n[rep][t] if n[rep][t] else None for t in range(4)] for rep in k}
    medians = [median([raw[rep][t] for rep in raw if raw[rep][t] is not None]) for t in range(4)]
    lead_rate = {rep: sum(v) / len(v) for rep, v in leads.items()}
    lead_median = median(list(lead_rate.values()))
    counts = {"planted": 0, "ours": 0, "ours_named": 0, "naive": 0, "ceiling": 0,
              "cause": 0, "cause_first": 0, "no_focus": 0, "no_focus_ceiling": 0, "rule": 0}
    rule = focus_rule_with_true_prior(
        {rep: (k[rep], n[rep], leads.get(rep, []), len(mature.get(rep, ()))) for rep in k},
        args.leads)
    for d in diag:
        rep = d["rep_id"]
        planted = truth[rep]["planted_lever"]
        pick = d["focus"] or d["suggestion"]
        if pick and d["confidence"] is not None:
            # Reliability of the top pick's stated confidence, over every rep with a pick.
            counts.setdefault("picks", []).append((d["confidence"], pick == planted))
        if d["focus"]:
            # Calibration: every named focus, on planted reps or not, against its confidence.
            counts["focus_named"] = counts.get("focus_named", 0) + 1
            counts["focus_right"] = counts.get("focus_right", 0) + (d["focus"] == planted)
            counts["focus_conf"] = counts.get("focus_conf", 0.0) + (d["confidence"] or 0.0)
        if not planted or rep not in k:
            continue
        counts["planted"] += 1
        named = d["focus"] or d["suggestion"]
        counts["ours"] += d["focus"] == planted
        counts["ours_named"] += named == planted
        gaps = {LEVERS[t]: (medians[t] - raw[rep][t]) / medians[t]
                for t in range(4) if raw[rep][t] is not None and medians[t]}
        if rep in lead_rate and lead_median:
            gaps["volume:lead"] = (lead_median - lead_rate[rep]) / lead_median
        counts["naive"] += max(gaps, key=gaps.get) == planted if gaps else 0
        best = ceiling(k[rep], n[rep], leads.get(rep, []), args.leads) == planted
        counts["ceiling"] += best
        counts["no_focus"] += not d["focus"]
        counts["no_focus_ceiling"] += best and not d["focus"]
        counts["rule"] += rule[rep] == planted
        cause = truth[rep]["planted_cause"]
        if cause and named == "case->proposal":
            counts["cause"] += 1
            supported = [h["id"] for h in d["hypotheses"] if h["status"] == "supported"]
            counts["cause_first"] += bool(supported) and supported[0] == cause
    return counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6, 7])
    ap.add_argument("--directors", type=int, default=2)
    ap.add_argument("--managers", type=int, default=5)
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--months", type=int, default=9)
    ap.add_argument("--leads", type=float, default=60)
    ap.add_argument("--late-share", type=float, default=0.25)
    ap.add_argument("--lookback", type=int, default=3)
    ap.add_argument("--period", help="the month to diagnose [default: the month end, the last month]")
    ap.add_argument("--config", help="a playbook (e.g. with another diagnosis.confidence)")
    ap.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "salescoach"))
    args = ap.parse_args()
    if args.bin.endswith(os.path.join("release", "salescoach")) and not os.environ.get("NO_BUILD"):
        subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    total = {}
    with tempfile.TemporaryDirectory() as tmp:
        for seed in args.seeds:
            for key, v in score(args.bin, seed, args, tmp).items():
                total[key] = total.get(key, [] if isinstance(v, list) else 0) + v
    p = total["planted"]
    ours, named, naive, ceil = (total[x] / p for x in ["ours", "ours_named", "naive", "ceiling"])
    print(f"reps with a planted weakness: {p} ({args.directors * args.managers * args.reps} reps per "
          f"organisation, {len(args.seeds)} organisation(s), {args.late_share:.0%} joining late, "
          f"lookback {args.lookback})")
    print(f"{'ours (focus)':<28}{ours:>7.1%}")
    print(f"{'ours (focus or suggestion)':<28}{named:>7.1%}")
    print(f"{'naive (largest raw gap)':<28}{naive:>7.1%}")
    print(f"{'ceiling (Bayes-optimal)':<28}{ceil:>7.1%}")
    print(f"ours / ceiling: {ours / ceil:.2f} (focus), {named / ceil:.2f} (focus or suggestion)")
    # Where no lever reaches the confidence threshold there is no focus, so those reps cannot
    # count for ours, while the ceiling always names a lever.
    print(f"{'the focus rule, true prior':<28}{total['rule'] / p:>7.1%}  "
          f"({total['rule'] / ceil / p:.2f} of the ceiling: the rule's own limit)")
    print(f"no focus (no lever confident enough): {total['no_focus']} reps; "
          f"{total['no_focus_ceiling']} of the ceiling's {total['ceiling']} hits are among them")
    if total.get("focus_named"):
        named_n = total["focus_named"]
        print(f"calibration: {named_n} focuses named, right {total['focus_right'] / named_n:.1%}, "
              f"mean stated confidence {total['focus_conf'] / named_n:.1%}")
    picks = total.get("picks", [])
    if picks:
        print("reliability of the top pick (focus or suggestion): stated confidence against right")
        print(f"{'band':<10}{'picks':>7}{'stated':>9}{'right':>8}{'±2 se':>8}")
        ece = 0.0
        for b in range(10):
            lo, hi = b / 10, (b + 1) / 10
            band = [(c, r) for c, r in picks if lo <= c < hi or (b == 9 and c == 1.0)]
            if not band:
                continue
            stated = sum(c for c, _ in band) / len(band)
            right = sum(r for _, r in band) / len(band)
            se = math.sqrt(max(stated * (1 - stated), 1e-9) / len(band))
            ece += len(band) / len(picks) * abs(stated - right)
            print(f"{lo:.1f}-{hi:.1f}  {len(band):>7}{stated:>9.1%}{right:>8.1%}{2 * se:>8.1%}")
        print(f"expected calibration error: {ece:.3f} over {len(picks)} picks")
    if total["cause"]:
        print(f"planted case->proposal cause ranked first: {total['cause_first']}/{total['cause']} "
              f"= {total['cause_first'] / total['cause']:.1%}")


if __name__ == "__main__":
    main()
