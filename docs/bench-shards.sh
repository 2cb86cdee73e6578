#!/usr/bin/env bash
# docs/bench-shards.sh: one dqaudit process against two shard processes and
# a merge, on the same machine and files. Run docs/bench.sh first (it makes
# the inputs and configs in $BENCH_DIR), then:
#
#   bash docs/bench-shards.sh [N]     # N rounds, default 3; prints medians
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-3}
B=${BENCH_DIR:-/tmp/dqaudit-bench}
cfg=$B/cfg/kafka-gz-2.yaml
[ -f "$cfg" ] || { echo "no $cfg: run docs/bench.sh first" >&2; exit 2; }
bin=$B/bin/dqaudit-shards
CGO_ENABLED=0 go build -o "$bin" ./cmd/dqaudit
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
date=2024-03-19
now() { date +%s.%N; }
one=() two=()
for r in $(seq "$N"); do
  t0=$(now)
  "$bin" scan --config "$cfg" --date $date --out "$work/one" --format json --quiet || [ $? -le 1 ]
  t1=$(now)
  "$bin" scan --config "$cfg" --date $date --workers 1 --shard 0/2 --partial "$work/p0.json" --quiet &
  p0=$!
  "$bin" scan --config "$cfg" --date $date --workers 1 --shard 1/2 --partial "$work/p1.json" --quiet
  wait $p0
  "$bin" merge --config "$cfg" --date $date --out "$work/two" --format json --quiet "$work"/p*.json || [ $? -le 1 ]
  t2=$(now)
  one+=("$(echo "$t1 - $t0" | bc)") two+=("$(echo "$t2 - $t1" | bc)")
  cmp <(jq -S 'del(.run)' "$work/one/report.json") <(jq -S 'del(.run)' "$work/two/report.json") >/dev/null \
    || { echo "merged report differs from the single scan's" >&2; exit 1; }
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
m1=$(median "${one[@]}") m2=$(median "${two[@]}")
echo "| setup | median wall time ($N rounds) |"
echo "|---|---|"
printf "| 1 process, --workers 2, 2 files of 2M lines (.gz) | %.2f s |\n" "$m1"
printf "| 2 shard processes (--workers 1 each) + merge | %.2f s |\n" "$m2"
echo "ratio (2 shards / 1 process): $(echo "scale=2; $m2 / $m1" | bc)   load: $(cut -d' ' -f1-3 /proc/loadavg)"
