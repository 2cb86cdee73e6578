#!/usr/bin/env bash
# docs/bench-smallfiles.sh: peak RSS of a day of many small files, the case
# of the performance issue's "under 150 MB for a 10 GB archive of either
# format" that big files do not show. From the repository root:
#
#   bash docs/bench-smallfiles.sh [N]    # N runs per format, default 3
#
# Environment:
#   DQAUDIT     a dqaudit binary to measure instead of building this
#               checkout's (to compare commits on the same inputs). Copy
#               it with cp first, as this script does with its own build:
#               run straight from `go build`'s output, whose page cache is
#               in huge pages here (FileHugePages in /proc/meminfo), the
#               binary's own resident pages were 10 MB more (`dqaudit
#               version`: 46 MB, against 35 MB for a copy of it).
#   BENCH_DIR   work directory (default /tmp/dqaudit-smallfiles). Inputs are
#               made there once and reused; delete it to remake them.
#   FILES, LINES  files per format and lines or records per file
#               (default 10000 and 20)
# Needs go, jq and GNU time (/usr/bin/time).
#
# What it does: `dqaudit generate` writes a day of 600,000 events (more
# for more than 200,000 lines in all) and
# docs/bench/smallfiles cuts it into FILES plain Kafka logs of LINES lines
# and FILES Avro files of LINES records (the four generated schemas and
# codecs in turn). Each format gets a config of its own: one input, the
# known-users reference set, the rules: and drift: sections of
# config.example.yaml, and a history seeded by a scan of the day before
# (a 10,000-event day), so drift compares with a baseline. Then N runs per
# format of `dqaudit scan --workers 2` (GOGC and the memory limit as
# dqaudit sets them) under /usr/bin/time -v, and one more with
# GODEBUG=gctrace=1 for the heap: the largest heap at the start of a
# collection (what RSS follows) and the largest heap left live after one
# (what the run must hold). Prints medians of peak RSS and wall time.
set -euo pipefail
export LC_ALL=C

N=${1:-3}
if ! [[ $N =~ ^[1-9][0-9]*$ ]]; then
	echo "usage: bash docs/bench-smallfiles.sh [N]   (N runs per format, default 3)" >&2
	exit 2
fi
for tool in go jq /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench-smallfiles.sh: $tool not found" >&2; exit 2; }
done
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=${BENCH_DIR:-/tmp/dqaudit-smallfiles}
FILES=${FILES:-10000}
LINES=${LINES:-20}
D=$W/data
PREV=2024-03-18
DAY=2024-03-19
mkdir -p "$W/bin" "$W/cfg" "$D"
say() { printf '%s\n' "$*" >&2; }

(cd "$ROOT" && go build -o "$W/bin/smallfiles" ./docs/bench/smallfiles)
if [[ -n ${DQAUDIT:-} ]]; then
	DQ=$DQAUDIT
else
	(cd "$ROOT" && CGO_ENABLED=0 go build -o "$W/bin/dqaudit.built" ./cmd/dqaudit)
	cp "$W/bin/dqaudit.built" "$W/bin/dqaudit" # see DQAUDIT above
	DQ=$W/bin/dqaudit
fi

EVENTS=$((3 * FILES * LINES > 600000 ? 3 * FILES * LINES : 600000)) # the log gets 40% of them
STAMP="v1 files=$FILES lines=$LINES events=$EVENTS"
if [[ $(cat "$D/.stamp" 2>/dev/null) != "$STAMP" ]]; then
	say "== inputs into $D"
	rm -rf "$D" && mkdir -p "$D"
	"$DQ" generate --date "$DAY" --out "$D/gen" --events "$EVENTS" --users "$D/users.csv" >&2
	"$W/bin/smallfiles" -in "$D/gen" -out "$D/$DAY" -files "$FILES" -lines "$LINES"
	"$DQ" generate --date "$PREV" --out "$D/prev" --events 10000 >&2
	mkdir -p "$D/$PREV/kafka" "$D/$PREV/avro"
	gzip -dc "$D/prev/kafka.log.gz" >"$D/$PREV/kafka/kafka.log"
	cp "$D/prev/"*.avro "$D/$PREV/avro/"
	rm -rf "$D/gen" "$D/prev"
	echo "$STAMP" >"$D/.stamp"
fi

# config NAME FORMAT EXT: one input of $D/{date}/NAME/*.EXT, the reference
# set, and the example's rules and drift sections verbatim but for the
# history's place.
config() {
	local name=$1 format=$2 ext=$3
	{
		printf 'version: 1\ninputs:\n  - name: %s\n    format: %s\n    paths: ["%s/{date}/%s/*.%s"]\n' "$name" "$format" "$D" "$name" "$ext"
		printf 'references:\n  known_users:\n    path: %s\n    column: user_id\n' "$D/users.csv"
		awk '/^(rules|drift):/ {p = 1; print; next} /^[a-z_]+:/ {p = 0} p' "$ROOT/config.example.yaml" |
			sed "s#^  history: .*#  history: $W/history/$name#"
		printf 'report:\n  out: %s/out/%s/{date}\n  formats: [html, markdown, json]\n' "$W" "$name"
	} >"$W/cfg/$name.yaml"
}
config kafka kafka-log log
config avro avro avro

# scan NAME DATE [ENV...]: one run under /usr/bin/time -v; sets T (wall
# seconds) and RSS (peak KB). Exit 1 (the gate failed) is a normal run.
scan() {
	local name=$1 date=$2 rc=0
	shift 2
	env "$@" /usr/bin/time -v -o "$W/time.txt" "$DQ" scan --config "$W/cfg/$name.yaml" --date "$date" --workers 2 --quiet \
		>/dev/null 2>"$W/stderr.txt" || rc=$?
	if ((rc > 1)); then
		say "bench-smallfiles.sh: $name $date: exit $rc"
		cat "$W/stderr.txt" >&2
		exit 1
	fi
	RSS=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$W/time.txt")
	T=$(awk -F': ' '/Elapsed \(wall clock\)/ { n = split($2, a, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + a[i]; print s }' "$W/time.txt")
}
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

say "== $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo '+changes'), $DQ"
say "   load average before: $(uptime | sed 's/.*load average: //')"
for name in kafka avro; do
	rm -rf "$W/history/$name"
	scan "$name" "$PREV" # the baseline
	want=$((FILES * LINES))
	scan "$name" "$DAY" # untimed: page cache
	got=$(jq '([.events[]] | add // 0) + .malformed.total' "$W/out/$name/$DAY/report.json")
	if [[ $got != "$want" ]]; then
		say "bench-smallfiles.sh: $name: $got events and malformed lines, want $want"
		exit 1
	fi
	if [[ $(jq '.baseline.dates' -c "$W/out/$name/$DAY/report.json") != "[\"$PREV\"]" ]]; then
		say "bench-smallfiles.sh: $name: drift found no baseline"
		exit 1
	fi
	rss=() ts=()
	for ((i = 1; i <= N; i++)); do
		scan "$name" "$DAY"
		rss+=("$RSS") ts+=("$T")
	done
	scan "$name" "$DAY" GODEBUG=gctrace=1
	# gctrace: "... A->B->C MB ..." (heap at start, at end, live).
	heap=$(grep -o '[0-9]*->[0-9]*->[0-9]* MB' "$W/stderr.txt" |
		awk -F'[->[:space:]]+' '{ if ($1 > a) a = $1; if ($3 > l) l = $3; n++ } END { printf "%d GCs, heap at most %d MB at a GC start, %d MB live after one", n, a, l }')
	printf '%s: %d files of %d: peak RSS median %.0f MB (runs: %s KB), wall median %s s; %s\n' \
		"$name" "$FILES" "$LINES" "$(printf '%s\n' "${rss[@]}" | median | awk '{ print $1 / 1024 }')" "${rss[*]}" \
		"$(printf '%s\n' "${ts[@]}" | median)" "$heap"
done
say "   load average after: $(uptime | sed 's/.*load average: //')"
