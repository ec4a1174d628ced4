#!/usr/bin/env python3
"""Benchmark: `salescoach funnel --by rep` against DuckDB computing the same cohort semantics.

Two shapes of data (kept in bench-data/ between runs):
  generated   `salescoach generate`: 400 reps, long deals (about 4 events per deal);
  many-deals  a real lead funnel: about 3 events per deal (a lead re-touched, then lost), 94%
              lost at the first step, 2,000 reps, rows in time order (how a history export
              lists them): the cost of many distinct deal ids.
Both tools run on the same CSV and Parquet files in the same run; the bench checks that they
agree on every rep's counts and prints times, peak memory and ratios. DuckDB comes from its
Python package (pip install duckdb), which also writes the many-deals files.

    python3 benches/funnel_vs_duckdb.py                        # both shapes, about 10M events each
    python3 benches/funnel_vs_duckdb.py --shape many-deals --deals 345000   # about 1M events
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


# About 3 events per deal: a lead (re-touched 0-2 times), then lost for 94% of deals; the others
# step up to case, proposal, quote or a win a week apart. Every deal closes, so that no open deal
# goes stale and the two tools' semantics stay the same.
MANY_DEALS_SQL = """
SET TimeZone = 'UTC';
CREATE TABLE deals AS
SELECT i,
  'D' || lpad(i::VARCHAR, 8, '0') AS deal_id,
  'R' || lpad((hash(i, 1) % 2000)::VARCHAR, 4, '0') AS rep_id,
  TIMESTAMP '2025-01-01 00:00:00' + to_seconds(CAST(hash(i, 2) % 31536000 AS BIGINT)) AS t0,
  CASE WHEN hash(i, 3) % 10 < 3 THEN 0 WHEN hash(i, 3) % 10 < 8 THEN 1 ELSE 2 END AS retouch,
  CASE WHEN hash(i, 4) % 1000 < 940 THEN 0
       WHEN hash(i, 5) % 100 < 40 THEN 1
       WHEN hash(i, 5) % 100 < 65 THEN 2
       WHEN hash(i, 5) % 100 < 80 THEN 3
       ELSE 4 END AS reached
FROM range({deals}) t(i);
CREATE TABLE events AS
SELECT * FROM (
  SELECT deal_id, rep_id, 'lead' AS stage, t0 + to_days(CAST(2 * j AS INTEGER)) AS ts
  FROM (SELECT deal_id, rep_id, t0, unnest(range(retouch + 1)) AS j FROM deals)
  UNION ALL
  SELECT deal_id, rep_id, ['case', 'proposal', 'quote', 'won'][s] AS stage,
         t0 + to_days(CAST(7 * s AS INTEGER)) + to_hours(CAST(hash(deal_id, s) % 48 AS BIGINT)) AS ts
  FROM (SELECT deal_id, rep_id, t0, unnest(range(1, reached + 1)) AS s FROM deals)
  UNION ALL
  SELECT deal_id, rep_id, 'lost' AS stage, t0 + to_days(CAST(7 * reached + 3 AS INTEGER)) AS ts
  FROM deals WHERE reached < 4
) ORDER BY ts, deal_id;
COPY (SELECT deal_id, rep_id, stage, strftime(ts, '%Y-%m-%dT%H:%M:%SZ') AS ts FROM events)
  TO '{dest}/events.csv' (HEADER, DELIMITER ',');
COPY (SELECT deal_id, rep_id, stage, ts::TIMESTAMPTZ AS ts FROM events)
  TO '{dest}/events.parquet' (FORMAT PARQUET);
"""


def generate_many_deals(dest, deals):
    if os.path.exists(os.path.join(dest, "events.parquet")):
        return
    import duckdb
    os.makedirs(dest, exist_ok=True)
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute(MANY_DEALS_SQL.format(deals=deals, dest=dest))
    print(f"generated {dest}/events.{{csv,parquet}} in {time.perf_counter() - start:.1f} s",
          file=sys.stderr)


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


def compare(label, dest, have_duckdb):
    n_events = sum(1 for _ in open(os.path.join(dest, "events.csv"))) - 1
    print(f"{label}: {n_events:,} events")
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shape", choices=["generated", "many-deals", "both"], default="both")
    ap.add_argument("--leads", type=int, default=200, help="generated: mean leads per rep per month (200 ≈ 10M events)")
    ap.add_argument("--deals", type=int, default=3_450_000, help="many-deals: deals (3,450,000 ≈ 10M events)")
    ap.add_argument("--data", default=os.path.join(ROOT, "bench-data"))
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    try:
        import duckdb  # noqa: F401
        have_duckdb = True
    except ImportError:
        have_duckdb = False
        print("DuckDB's Python package is not installed (pip install duckdb): DuckDB side skipped",
              file=sys.stderr)
    if args.shape in ("generated", "both"):
        dest = os.path.join(args.data, f"leads{args.leads}")
        for fmt in ["csv", "parquet"]:
            generate(dest, args.leads, fmt)
        compare("generated", dest, have_duckdb)
    if args.shape in ("many-deals", "both"):
        if not have_duckdb:
            sys.exit("the many-deals shape is written by DuckDB: pip install duckdb")
        dest = os.path.join(args.data, f"many-deals{args.deals}")
        generate_many_deals(dest, args.deals)
        compare("many-deals", dest, have_duckdb)
    print("ratio = salescoach time / DuckDB time on the same file in this run (counts agree)")


if __name__ == "__main__":
    main()
