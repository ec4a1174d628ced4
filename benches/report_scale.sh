#!/usr/bin/env bash
# The monthly report at scale: 10,000 reps x 12 months (about 10M events and 23M activities),
# generated with `salescoach generate`. Times `funnel` alone and the whole `report` on the same
# files in the same run, and prints the ratio and the peak memory of each.
#
#   bash benches/report_scale.sh            # data kept in bench-data/scale between runs
set -euo pipefail
# Generated organisations run into months after today: read them with a clock far ahead.
export SALESCOACH_NOW="${SALESCOACH_NOW:-2100-01-01T00:00:00Z}"
cd "$(dirname "$0")/.."
cargo build --release --quiet
bin=target/release/salescoach
data=bench-data/scale
if [ ! -f "$data/events.csv" ]; then
  /usr/bin/time -f "generate: %e s, peak %M KB" \
    "$bin" generate --out "$data" --directors 10 --managers 20 --reps 50 --months 12 --leads 38 --late-share 0.1 -q
fi
wc -l "$data/events.csv" "$data/activities.csv" | head -2
out=$(mktemp -d)
/usr/bin/time -f "funnel: %e s, peak %M KB" -o "$out/funnel.time" \
  "$bin" funnel --events "$data/events.csv" --activities "$data/activities.csv" --roster "$data/roster.csv" -f csv -q -o "$out/funnel.csv"
/usr/bin/time -f "report: %e s, peak %M KB" -o "$out/report.time" \
  "$bin" report --events "$data/events.csv" --activities "$data/activities.csv" --roster "$data/roster.csv" --period 2026-09 --out "$out/report" -q >/dev/null
cat "$out/funnel.time" "$out/report.time"
f=$(awk '{print $2}' "$out/funnel.time"); r=$(awk '{print $2}' "$out/report.time")
echo "report / funnel: $(awk -v r="$r" -v f="$f" 'BEGIN { printf "%.2f", r / f }')"
rm -rf "$out"
