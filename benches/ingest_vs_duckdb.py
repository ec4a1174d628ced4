#!/usr/bin/env python3
"""Benchmark: `salescoach ingest` of an events CSV to Parquet against DuckDB's
COPY (SELECT * FROM read_csv(...)) TO '...parquet' on the same file in the same run.

Uses the data of benches/funnel_vs_duckdb.py (bench-data/leads<N>/events.csv), generating it
when missing. Without DuckDB's Python package the DuckDB side is skipped with a message.

    python3 benches/ingest_vs_duckdb.py              # about 10,000,000 rows
    python3 benches/ingest_vs_duckdb.py --leads 19   # about 1,000,000 rows

It also times `validate` and `funnel` on one row under a header of 100,000 columns (--wide), where
binding the header by name once took 20.7 s: the bound is 1 s.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time

# Generated organisations run into months after today: read them with a clock far ahead.
os.environ.setdefault("SALESCOACH_NOW", "2100-01-01T00:00:00Z")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "salescoach")

DUCK = """
import duckdb, sys, time
con = duckdb.connect()
con.execute("SET threads TO 2")
con.execute("SET enable_progress_bar = false")
start = time.perf_counter()
con.execute(f"COPY (SELECT * FROM read_csv('{sys.argv[1]}')) TO '{sys.argv[2]}' (FORMAT parquet)")
print(time.perf_counter() - start)
"""


def timed(cmd):
    start = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-f", "%M"] + cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"failed: {' '.join(cmd)}\n{p.stderr}")
    return time.perf_counter() - start, int(p.stderr.strip().splitlines()[-1]) / 1024, p.stdout


def wide_header(columns):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "wide.events.csv")
        with open(path, "w") as f:
            f.write("deal_id,rep_id,stage,ts,amount" + "".join(f",extra_{i}" for i in range(columns)))
            f.write("\nD1,R1,lead,2026-01-05T10:00:00Z," + "," * columns + "\n")
        for cmd in (["validate", path], ["funnel", "--events", path, "-f", "csv"]):
            took, mb, _ = timed([BIN] + cmd)
            print(f"{cmd[0]} of a {columns:,}-column header: {took:.2f} s (bound 1 s), peak {mb:.0f} MB")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--leads", type=int, default=200)
    ap.add_argument("--wide", type=int, default=100_000, help="columns of the wide-header case")
    args = ap.parse_args()
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=ROOT, check=True)
    wide_header(args.wide)
    data = os.path.join(ROOT, "bench-data", f"leads{args.leads}")
    events = os.path.join(data, "events.csv")
    if not os.path.exists(events):
        subprocess.run([BIN, "generate", "--out", data, "--directors", "10", "--managers", "10", "--reps", "20",
                        "--months", "12", "--leads", str(args.leads), "--late-share", "0.1", "--no-activities",
                        "--seed", "1", "-q"], check=True)
    rows = sum(1 for _ in open(events)) - 1
    with tempfile.TemporaryDirectory() as tmp:
        ours, ours_mb, _ = timed([BIN, "ingest", events, "--table", "events", "-o", f"{tmp}/ours.parquet", "-q"])
        print(f"rows: {rows:,} ({os.path.getsize(events) / 1e6:.0f} MB)")
        print(f"salescoach ingest: {ours:.2f} s, peak {ours_mb:.0f} MB")
        try:
            import duckdb  # noqa: F401
        except ImportError:
            print("DuckDB's Python package is not installed (pip install duckdb): DuckDB side skipped")
            return
        _, duck_mb, out = timed([sys.executable, "-c", DUCK, events, f"{tmp}/duck.parquet"])
        duck = float(out.strip().splitlines()[-1])
        print(f"duckdb COPY: {duck:.2f} s, peak {duck_mb:.0f} MB")
        print(f"ratio (salescoach / duckdb): {ours / duck:.2f}")


if __name__ == "__main__":
    main()
