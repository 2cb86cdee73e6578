#!/usr/bin/env bash
# docs/bench-instructions.sh: instructions a scan of a Kafka log executes,
# counted by valgrind's callgrind. Wall times on a shared machine vary by
# a third from hour to hour; instruction counts do not, so they show
# whether a change to the hot path helped. From the repository root:
#
#   bash docs/bench-instructions.sh [LINES]     # default 200000 lines
#
# Needs go and valgrind (apt-get install valgrind). It builds dqaudit,
# generates a day with `dqaudit generate`, takes LINES lines of its log
# as plain text, scans them on one thread (GOMAXPROCS=1; asynchronous
# preemption off, which callgrind needs) with the example's rules, and
# prints the total, the count per line and the functions that execute
# the most instructions themselves (the top 15; TOP=N for N). The
# total includes start-up and report writing (about 70M instructions).
# KEEP=1 keeps the work directory, whose cg.out callgrind_annotate reads
# (--inclusive=yes, --tree=caller), and prints its path.
set -euo pipefail
export LC_ALL=C
LINES=${1:-200000}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=$(mktemp -d)
if [[ -n ${KEEP:-} ]]; then
	echo "work directory: $W" >&2
else
	trap 'rm -rf "$W"' EXIT
fi
for tool in go valgrind callgrind_annotate; do
	command -v "$tool" >/dev/null || { echo "bench-instructions.sh: $tool not found" >&2; exit 2; }
done
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$W/dqaudit" ./cmd/dqaudit)
events=$((LINES * 5 / 2 + 1000)) # a generated day has about 2 log lines per 5 events
"$W/dqaudit" generate --date 2024-03-19 --out "$W/day" --events "$events" --users "$W/users.csv" >/dev/null
gzip -dc "$W/day/kafka.log.gz" | head -n "$LINES" >"$W/kafka.log" || true # gzip stops on SIGPIPE
{
	printf 'version: 1\ninputs:\n  - {name: log, format: kafka-log, paths: ["%s"]}\n' "$W/kafka.log"
	printf 'references:\n  known_users: {path: %s, column: user_id}\n' "$W/users.csv"
	awk '/^rules:/ {p = 1} /^[a-z_]+:/ && !/^rules:/ {p = 0} p' "$ROOT/config.example.yaml"
	printf 'report:\n  out: %s/out\n' "$W"
} >"$W/config.yaml"
GOMAXPROCS=1 GODEBUG=asyncpreemptoff=1 valgrind --tool=callgrind --callgrind-out-file="$W/cg.out" \
	"$W/dqaudit" scan --config "$W/config.yaml" --date 2024-03-19 --quiet >/dev/null 2>"$W/valgrind.log" || true
total=$(awk '/Collected :/ { print $NF }' "$W/valgrind.log")
if [[ -z $total ]]; then
	cat "$W/valgrind.log" >&2
	exit 1
fi
echo "$(git -C "$ROOT" rev-parse --short HEAD) · $LINES lines · $total instructions · $((total / LINES)) per line (start-up and reports included)"
callgrind_annotate "$W/cg.out" 2>/dev/null | awk '/^-+$/ { n++ } n >= 4 && NF' | sed -n "2,$((${TOP:-15} + 1))p" | cut -c1-150
