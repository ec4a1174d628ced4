#!/usr/bin/env python3
"""Benchmark: `salescoach funnel --by rep` against DuckDB computing the same cohort semantics.

Generates data with `salescoach generate` (kept in bench-data/ between runs), runs both tools on
the same CSV and Parquet files in the same run, checks that they agree on every rep's counts,
and prints times, peak memory and ratios. DuckDB comes from its Python package; without it the
DuckDB side is skipped with a message.

    python3 benches/funnel_vs_duckdb.py                 # 10,000,000 events
    python3 benches/funnel_vs_duckdb.py --leads 19      # about 1,000,000 events
"""

import argparse
import csv
import io
import os
import re
import subprocess
import sys
import time

# Generated organisations run into months after today: read them with a clock far ahead.
os.environ.setdefault("SALESCOACH_NOW", "2100-01-01T00:00:00Z")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "salescoach")

# The same semantics as `salescoach funnel` (cohort, 90-day window, skip filling, owner at
# entry): every event fills its own and the earlier stages; a stage's entry is the earliest such
# event, its owner that event's rep (ties to the lower stage); converted = next stage entered
# within the window; lost = not converted and a terminal outcome at or after the entry.
DUCKDB_SQL = """
WITH stages(stage, idx) AS (VALUES ('lead',0),('case',1),('proposal',2),('quote',3),('won',4)),
ev AS (SELECT deal_id, rep_id, stage, ts FROM {source}),
st AS (SELECT e.deal_id, e.rep_id, e.ts, s.idx AS sidx FROM ev e JOIN stages s ON e.stage = s.stage),
fill AS (SELECT st.deal_id, t.idx AS stage_idx, st.ts, st.sidx, st.rep_id
         FROM st JOIN stages t ON t.idx <= st.sidx),
entry AS (SELECT deal_id, stage_idx, min(ts) AS ts, arg_min(rep_id, (ts, sidx)) AS rep_id
          FROM fill GROUP BY deal_id, stage_idx),
term AS (SELECT deal_id, max(ts) AS tts FROM ev WHERE stage = 'lost' GROUP BY deal_id)
SELECT a.rep_id, strftime(a.ts, '%Y-%m') AS period, a.stage_idx,
       count(*) AS entered,
       count(*) FILTER (WHERE b.ts IS NOT NULL AND b.ts - a.ts <= INTERVAL 90 DAY) AS converted,
       count(*) FILTER (WHERE NOT (b.ts IS NOT NULL AND b.ts - a.ts <= INTERVAL 90 DAY)
                        AND t.tts >= a.ts) AS lost
FROM entry a
LEFT JOIN entry b ON a.deal_id = b.deal_id AND b.stage_idx = a.stage_idx + 1
LEFT JOIN term t ON a.deal_id = t.deal_id
WHERE a.stage_idx < 4
GROUP BY ALL
"""

STAGES = ["lead", "case", "proposal", "quote", "won"]


def timed(cmd, **kw):
    """Runs a command under /usr/bin/time; returns (seconds, peak MB, stdout)."""
    start = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True, **kw)
    elapsed = time.perf_counter() - start
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    peak_kb = int(p.stderr.strip().splitlines()[-1])
    return elapsed, peak_kb / 1024, p.stdout


def generate(dest, leads, fmt):
    if os.path.exists(os.path.join(dest, f"events.{fmt}")):
        return
    args = [BIN, "generate", "--out", dest, "-f", fmt, "--directors", "10", "--managers", "10",
            "--reps", "20", "--months", "12", "--leads", str(leads), "--late-share", "0.1",
            "--no-activities", "--seed", "1"]
    secs, mb, _ = timed(args)
    print(f"generated {dest}/events.{fmt} in {secs:.1f} s, peak {mb:.0f} MB", file=sys.stderr)


def ours(events):
    secs, mb, out = timed([BIN, "funnel", "--events", events, "--by", "rep", "-f", "csv", "-q"])
    counts = {}
    for r in csv.DictReader(io.StringIO(out)):
        if r["to_stage"] == "won" and r["from_stage"] == "lead":
            continue
        key = (r["group_id"], r["period"], STAGES.index(r["from_stage"]))
        if int(r["entered"]) > 0:
            counts[key] = (int(r["entered"]), int(r["converted"]), int(r["lost"]))
    return secs, mb, counts


DUCK_RUNNER = """
import duckdb, sys, time, json
con = duckdb.connect()
con.execute("SET threads TO 2")
con.execute("SET enable_progress_bar = false")
start = time.perf_counter()
rows = con.execute(sys.argv[1]).fetchall()
print(json.dumps({"secs": time.perf_counter() - start, "rows": rows}, default=str))
"""


def duck(source):
    import json
    sql = DUCKDB_SQL.format(source=source)
    secs, mb, out = timed([sys.executable, "-c", DUCK_RUNNER, sql])
    data = json.loads(out.strip().splitlines()[-1])
    counts = {(r[0], r[1], int(r[2])): (int(r[3]), int(r[4]), int(r[5])) for r in data["rows"]}
    # The query's own time, without Python's start-up: the fairer figure for DuckDB.
    return data["secs"], mb, counts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leads", type=int, default=200, help="mean leads per rep per month (200 ≈ 10M events)")
    ap.add_argument("--data", default=os.path.join(ROOT, "bench-data"))
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    dest = os.path.join(args.data, f"leads{args.leads}")
    for fmt in ["csv", "parquet"]:
        generate(dest, args.leads, fmt)
    try:
        import duckdb  # noqa: F401
        have_duckdb = True
    except ImportError:
        have_duckdb = False
        print("DuckDB's Python package is not installed (pip install duckdb): DuckDB side skipped",
              file=sys.stderr)
    n_events = sum(1 for _ in open(os.path.join(dest, "events.csv"))) - 1
    print(f"events: {n_events:,}")
    print(f"{'input':<8} {'salescoach':>12} {'peak MB':>8} {'duckdb':>10} {'peak MB':>8} {'ratio':>7}")
    for fmt, source in [("csv", "read_csv('{p}')"), ("parquet", "read_parquet('{p}')")]:
        path = os.path.join(dest, f"events.{fmt}")
        s_secs, s_mb, s_counts = ours(path)
        if not have_duckdb:
            print(f"{fmt:<8} {s_secs:>11.2f}s {s_mb:>8.0f}")
            continue
        d_secs, d_mb, d_counts = duck(source.format(p=path))
        if s_counts != d_counts:
            diff = [k for k in set(s_counts) | set(d_counts) if s_counts.get(k) != d_counts.get(k)]
            sys.exit(f"{fmt}: counts differ for {len(diff)} keys, e.g. {sorted(diff)[:3]}: "
                     f"ours {[s_counts.get(k) for k in sorted(diff)[:3]]} duckdb {[d_counts.get(k) for k in sorted(diff)[:3]]}")
        print(f"{fmt:<8} {s_secs:>11.2f}s {s_mb:>8.0f} {d_secs:>9.2f}s {d_mb:>8.0f} {s_secs / d_secs:>7.2f}")
    print("ratio = salescoach time / DuckDB time on the same file in this run (counts agree)")


if __name__ == "__main__":
    main()
