#!/usr/bin/env bash
# docs/bench.sh: dqaudit's performance harness, run against the goals of the
# performance issue. From the repository root:
#
#   bash docs/bench.sh [N]        # N timed runs per command, default 5
#
# Environment:
#   BIG=1       also scan 10 GB archives of each format once (copies of
#               the inputs, one archive at a time, so 10 GB of free disk;
#               about 8 minutes more): peak RSS against 150 MB
#   BENCH_DIR   work directory (default /tmp/dqaudit-bench). Inputs are
#               generated there once (about 2 GB, about a minute) and reused
#               by later runs; delete the directory to regenerate them.
# Needs go, pigz, jq and GNU time (/usr/bin/time; apt-get install time);
# igzip (apt-get install isal) for the cases of dqaudit's default decoder;
# strace to time the start to the first input.
#
# What it does:
#   1. builds dqaudit (CGO_ENABLED=0, as shipped) and the helpers in
#      docs/bench/: goavroloop (the goavro baseline), gunzipgo (the Go
#      gzip decoder alone) and watchavro (writes the Avro inputs);
#   2. generates the inputs: `dqaudit generate --events 5000000` gives a
#      Kafka log of 2,000,000 event lines plus 1,010 malformed ones (gzipped;
#      also unpacked to plain text, and that text five times over in one
#      file) and the MovieWatchEvent records that
#      watchavro re-encodes into exactly 2,000,000 records per codec (null,
#      deflate, snappy); a 1,000-event archive for the startup case; the
#      5,000-id and 5,000,000-id known-users reference sets;
#   3. writes one config per case: one input, the reference set, and the
#      rules: section of config.example.yaml verbatim (the full audit: the
#      five example rules and the profile; rules on absent event types
#      check nothing);
#   4. runs each case's baseline and dqaudit once untimed (page cache,
#      sanity checks), then N timed pairs, alternating which goes first
#      (ABBA), each under /usr/bin/time -v for the peak RSS;
#   5. prints a Markdown table of medians. "ratio" is the median of the N
#      per-pair ratios dqaudit/baseline (each pair ran back to back, so it
#      suffers the same load), not a ratio of single times;
#   6. runs rules' BenchmarkLoadSet (5M ids: load time, heap kept).
#
# The machine may be shared: the load average before and after is printed;
# read the ratios, which hold up under load better than the times.
#
# The Go benchmarks of the scan hot path (in process, no reports), and a
# CPU profile of one case without its setup:
#   go test -run '^$' -bench BenchmarkScan ./audit
#   go test -run '^$' -bench BenchmarkScanSmall ./cmd/dqaudit
#   go test -run '^$' -bench 'BenchmarkScan/kafka-log$' -benchtime 40x -cpuprofile cpu.prof -o audit.test ./audit
#   go tool pprof -tagfocus 'scan=^kafka-log$' -relative_percentages -top audit.test cpu.prof
set -euo pipefail
export LC_ALL=C

N=${1:-5}
if ! [[ $N =~ ^[1-9][0-9]*$ ]]; then
	echo "usage: bash docs/bench.sh [N]   (N runs per command, default 5)" >&2
	exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=${BENCH_DIR:-/tmp/dqaudit-bench}
D=$W/data
DATE=2024-03-19
for tool in go pigz jq /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench.sh: $tool not found" >&2; exit 2; }
done
mkdir -p "$W/bin" "$W/cfg" "$W/out" "$D"

say() { printf '%s\n' "$*" >&2; }
load() { uptime | sed 's/.*load average: //'; }
# cpustat: total and steal jiffies of all CPUs, for the share of time the
# hypervisor gave to other guests during the run.
cpustat() { awk '/^cpu / { t = 0; for (i = 2; i <= NF; i++) t += $i; print t, $9 }' /proc/stat; }

started=$EPOCHREALTIME
load_before=$(load)
read -r cpu0 steal0 < <(cpustat)
say "== build ($(go version | cut -d' ' -f3))"
(cd "$ROOT" && CGO_ENABLED=0 go build -o "$W/bin/dqaudit" ./cmd/dqaudit &&
	go build -o "$W/bin/goavroloop" ./docs/bench/goavroloop &&
	go build -o "$W/bin/watchavro" ./docs/bench/watchavro &&
	go build -o "$W/bin/gunzipgo" ./docs/bench/gunzipgo)
# Run copies, not go build's output: the page cache holds that in huge
# pages here, which adds about 8 MB to the peak RSS of every run (44 MB
# against 36 MB for `dqaudit version`), as an installed binary does not.
for b in "$W"/bin/*; do
	cp "$b" "$b.copy" && mv "$b.copy" "$b"
done
DQ=$W/bin/dqaudit

# Inputs, made once per BENCH_DIR. The stamp names what was made, so a
# change here regenerates them.
STAMP="v1 events=5000000 watch=2000000 date=$DATE"
if [[ $(cat "$D/.stamp" 2>/dev/null) != "$STAMP" ]]; then
	say "== generate inputs into $D (about a minute)"
	rm -rf "$D" && mkdir -p "$D"
	"$DQ" generate --date "$DATE" --out "$D/day" --events 5000000 --users "$D/users.csv" >&2
	cp "$D/day/kafka.log.gz" "$D/kafka.log.gz"
	cp "$D/day/kafka.log.gz" "$D/kafka-2.log.gz" # the second file of the two-file case
	pigz -dc "$D/kafka.log.gz" >"$D/kafka.log"
	"$W/bin/watchavro" -in "$D/day/watch.avro" -out "$D" -n 2000000 -codecs null,deflate,snappy
	rm -f "$D/day/"*.avro # only the log and watch records were needed
	"$DQ" generate --date "$DATE" --out "$D/tiny" --events 1000 >&2
	"$DQ" generate --date "$DATE" --out "$D/tiny-5m" --events 1000 --known-users 5000000 --users "$D/users-5m.csv" >&2
	echo "$STAMP" >"$D/.stamp"
fi
LOG_LINES=$(wc -l <"$D/kafka.log")
# The plain log five times over in one file (1.3 GB): see case 3.
if ! [[ -f $D/kafka-5x.log ]]; then
	for _ in 1 2 3 4 5; do cat "$D/kafka.log"; done >"$D/kafka-5x.log.tmp"
	mv "$D/kafka-5x.log.tmp" "$D/kafka-5x.log"
fi

# config NAME FORMAT USERS PATH... writes $W/cfg/NAME.yaml: one input of
# the given format and paths, the known_users reference, and the example's
# rules verbatim.
config() {
	local name=$1 format=$2 users=$3
	shift 3
	local paths
	paths=$(printf '"%s", ' "$@")
	{
		printf 'version: 1\ninputs:\n  - name: %s\n    format: %s\n    paths: [%s]\n' "$name" "$format" "${paths%, }"
		printf 'references:\n  known_users:\n    path: %s\n    column: user_id\n' "$users"
		awk '/^rules:/ {p = 1} /^[a-z_]+:/ && !/^rules:/ {p = 0} p' "$ROOT/config.example.yaml"
		printf 'report:\n  out: %s/out/%s/{date}\n' "$W" "$name"
	} >"$W/cfg/$name.yaml"
}
config kafka-gz kafka-log "$D/users.csv" "$D/kafka.log.gz"
config kafka-gz-2 kafka-log "$D/users.csv" "$D/kafka.log.gz" "$D/kafka-2.log.gz"
config kafka-plain kafka-log "$D/users.csv" "$D/kafka.log"
config kafka-plain-5x kafka-log "$D/users.csv" "$D/kafka-5x.log"
for c in null deflate snappy; do config "avro-$c" avro "$D/users.csv" "$D/watch-$c.avro"; done
# The small config: the example's two inputs over a 1,000-event day.
tinyconfig() {
	local name=$1 dir=$2 users=$3
	config "$name" avro "$users" "$dir/*.avro"
	sed -i "s#^inputs:#inputs:\n  - name: log\n    format: kafka-log\n    paths: [\"$dir/*.log.gz\"]#" "$W/cfg/$name.yaml"
}
tinyconfig startup "$D/tiny" "$D/users.csv"
tinyconfig ref-5m "$D/tiny-5m" "$D/users-5m.csv"
"$DQ" check --config "$W/cfg/startup.yaml" >/dev/null

# scan NAME [FLAG...]: the dqaudit command of config NAME.
scan() { echo "$DQ scan --config $W/cfg/$1.yaml --date $DATE --quiet ${*:2}"; }

# timed CMD: runs CMD (a command line; no shell unless it calls one) under
# /usr/bin/time -v with stdout discarded. Sets T (wall seconds, taken
# around the call at microsecond resolution), CPU (user + system seconds)
# and RSS (peak KB). Exit 1 is
# allowed for dqaudit: the gate failing is part of a normal run.
timed() {
	local -a argv
	eval "argv=($1)"
	local rc=0 t0 t1
	t0=$EPOCHREALTIME
	/usr/bin/time -v -o "$W/time.txt" "${argv[@]}" >/dev/null 2>"$W/stderr.txt" || rc=$?
	t1=$EPOCHREALTIME
	if ((rc != 0)) && ! [[ $rc == 1 && ${argv[0]} == "$DQ" ]]; then
		say "bench.sh: exit $rc: $1"
		cat "$W/stderr.txt" "$W/time.txt" >&2
		exit 1
	fi
	T=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')
	RSS=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$W/time.txt")
	CPU=$(awk -F': ' '/(User|System) time \(seconds\)/ { s += $2 } END { printf "%.2f", s }' "$W/time.txt")
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
maxof() { sort -g | tail -1; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f MB", k / 1024 }'; }
secs() { awk -v s="$1" 'BEGIN { if (s < 1) printf "%.1f ms", s * 1000; else printf "%.3f s", s }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.2fM/s", n / s / 1e6 }'; }
mlines() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.3f", n / s / 1e6 }'; } # millions a second, for met

printf 'case\trun\twho\tseconds\tcpu_seconds\trss_kb\n' >"$W/runs.tsv"
ROWS=()

# bench CASE BASELINE-LABEL BASELINE-CMD DQAUDIT-CMD: N alternating pairs.
# Leaves medians in BMED, DMED (wall) and BCPU, DCPU (CPU), the median
# pair ratio in RATIO, peak RSS in BRSS, DRSS.
bench() {
	local case=$1 blabel=$2 bcmd=$3 dcmd=$4 i
	say "== $case: $blabel vs dqaudit, $N pairs"
	timed "$bcmd"
	timed "$dcmd"
	local -a bt=() dt=() bc=() dc=() br=() dr=() ratios=()
	for ((i = 1; i <= N; i++)); do
		if ((i % 2)); then
			timed "$bcmd"; bt+=("$T"); bc+=("$CPU"); br+=("$RSS")
			timed "$dcmd"; dt+=("$T"); dc+=("$CPU"); dr+=("$RSS")
		else
			timed "$dcmd"; dt+=("$T"); dc+=("$CPU"); dr+=("$RSS")
			timed "$bcmd"; bt+=("$T"); bc+=("$CPU"); br+=("$RSS")
		fi
		ratios+=("$(awk -v d="${dt[-1]}" -v b="${bt[-1]}" 'BEGIN { printf "%.3f", d / b }')")
		printf '%s\t%d\tbaseline\t%s\t%s\t%s\n%s\t%d\tdqaudit\t%s\t%s\t%s\n' "$case" "$i" "${bt[-1]}" "${bc[-1]}" "${br[-1]}" \
			"$case" "$i" "${dt[-1]}" "${dc[-1]}" "${dr[-1]}" >>"$W/runs.tsv"
	done
	BMED=$(printf '%s\n' "${bt[@]}" | median)
	DMED=$(printf '%s\n' "${dt[@]}" | median)
	BCPU=$(printf '%s\n' "${bc[@]}" | median)
	DCPU=$(printf '%s\n' "${dc[@]}" | median)
	RATIO=$(printf '%s\n' "${ratios[@]}" | median | awk '{ printf "%.3f", $1 }')
	RANGE=$(printf '%s\n' "${ratios[@]}" | sort -g | awk 'NR == 1 { lo = $1 } END { printf "%.2f–%.2f", lo, $1 }')
	BRSS=$(printf '%s\n' "${br[@]}" | maxof)
	DRSS=$(printf '%s\n' "${dr[@]}" | maxof)
	say "   baseline $(secs "$BMED")  dqaudit $(secs "$DMED")  ratio $RATIO  (pairs: ${ratios[*]})"
}

# report NAME: what the last dqaudit run of config NAME counted.
events() { jq '[.events[]] | add // 0' "$W/out/$1/$DATE/report.json"; }
lines() { jq '([.events[]] | add // 0) + .malformed.total' "$W/out/$1/$DATE/report.json"; }
check_count() {
	if [[ $2 != "$3" ]]; then
		say "bench.sh: $1: dqaudit counted $2, want $3"
		exit 1
	fi
}
met() { awk -v x="$1" -v op="$2" -v g="$3" 'BEGIN { ok = (op == "<=") ? x <= g : x >= g; print ok ? "yes" : "**no**" }'; }
# row CASE BASELINE-LABEL RATE GOAL MET: a table row, the times, ratio
# and memory taken from the last bench.
row() {
	ROWS+=("| $1 | $2 | $(secs "$BMED") | $(secs "$DMED") | ${RATIO}× (${RANGE}) | $3 | $BCPU s → $DCPU s | $(mb "$DRSS") (base $(mb "$BRSS")) | $4 | $5 |")
}

# 1. One gzipped log: dqaudit vs decompressing it with pigz, with each
#    decoder dqaudit has: igzip through --gunzip auto (when installed),
#    and the built-in Go decoder, which is also set against decompressing
#    with that decoder alone (gunzipgo): the scan's cost beyond it.
if command -v igzip >/dev/null; then
	bench kafka-gz "pigz -dc" "pigz -dc $D/kafka.log.gz" "$(scan kafka-gz --gunzip auto)"
	n=$(lines kafka-gz); check_count kafka-gz "$n" "$LOG_LINES"
	row "Kafka log, 1 .gz file, $n lines, igzip (\`--gunzip auto\`)" "\`pigz -dc\`" \
		"$(rate "$n" "$DMED") lines" "ratio ≤ 1.2×" "$(met "$RATIO" "<=" 1.2)"
	GZ1=$DMED
else
	say "bench.sh: igzip not found (apt-get install isal): the igzip cases are skipped"
	ROWS+=("| Kafka log, 1 .gz file, igzip | — | — | — | — | — | — | — | not run: igzip not installed | — |")
fi
bench kafka-gz-go "pigz -dc" "pigz -dc $D/kafka.log.gz" "$(scan kafka-gz --gunzip go)"
n=$(lines kafka-gz); check_count kafka-gz "$n" "$LOG_LINES"
row "Kafka log, 1 .gz file, $n lines, built-in decoder (\`--gunzip go\`)" "\`pigz -dc\`" \
	"$(rate "$n" "$DMED") lines" "ratio ≤ 1.2×" "$(met "$RATIO" "<=" 1.2)"
GZGO=$DMED
bench kafka-gz-go-floor "gunzipgo" "$W/bin/gunzipgo $D/kafka.log.gz" "$(scan kafka-gz --gunzip go)"
row "Same, against the built-in decoder alone" "\`gunzipgo\` (klauspost, 1 goroutine)" \
	"scan costs $(awk -v r="$RATIO" 'BEGIN { printf "%+.0f%%", (r - 1) * 100 }') over decompressing" "— (info)" "—"

# 2. Two gzipped logs: dqaudit vs two pigz processes side by side, the
#    best the machine's cores can do for the decompression alone.
for dec in auto go; do
	if [[ $dec == auto ]] && ! command -v igzip >/dev/null; then
		continue
	fi
	bench "kafka-gz-2-$dec" "2× pigz -dc in parallel" \
		"bash -c 'pigz -dc $D/kafka.log.gz >/dev/null & pigz -dc $D/kafka-2.log.gz >/dev/null; wait'" "$(scan kafka-gz-2 --gunzip $dec)"
	n=$(lines kafka-gz-2); check_count kafka-gz-2 "$n" $((2 * LOG_LINES))
	one=$GZGO
	[[ $dec == auto ]] && one=$GZ1
	SCALE=$(awk -v a="$one" -v b="$DMED" 'BEGIN { printf "%.2f", 2 * a / b }')
	row "Kafka log, 2 .gz files, $n lines, \`--gunzip $dec\`" "2 × \`pigz -dc\` at once" \
		"$(rate "$n" "$DMED") lines ($SCALE× the 1-file rate)" "ratio ≤ 1.2× (scales with cores)" "$(met "$RATIO" "<=" 1.2)"
done

# 3. The plain log: lines per second of the full audit. wc -l is there
#    for scale: the cost of merely reading the lines. A run of the 2M-line
#    log takes 0.2-0.3 s, of which a fixed 0.05-0.1 s is not the scan:
#    the process start (`dqaudit version`: 18 ms on an Intel machine here,
#    53-80 ms on an AMD one, 42 ms of which the object-storage drivers'
#    package initialisation), the reports and the exit. So the rate goal
#    is measured on one file of five times the lines, where that fixed
#    part is a fifth the share; the 2M-line rate is shown beside it.
bench kafka-plain "wc -l" "wc -l $D/kafka.log" "$(scan kafka-plain)"
n=$(lines kafka-plain); check_count kafka-plain "$n" "$LOG_LINES"
LPS=$(mlines "$n" "$DMED")
row "Kafka log, plain text, $n lines" "\`wc -l\`" \
	"$(rate "$n" "$DMED") lines, process start and reports included" "— (info: see the next row)" \
	"$(awk -v r="$LPS" 'BEGIN { print (r >= 8) ? "(≥ 8M)" : "(< 8M)" }')"
bench kafka-plain-5x "wc -l" "wc -l $D/kafka-5x.log" "$(scan kafka-plain-5x)"
n=$(lines kafka-plain-5x); check_count kafka-plain-5x "$n" $((5 * LOG_LINES))
LPS=$(mlines "$n" "$DMED")
row "Kafka log, plain text, one file of 5 × the above, $n lines" "\`wc -l\`" \
	"**$(rate "$n" "$DMED") lines**" "≥ 8M lines/s ($(nproc) cores)" "$(met "$LPS" ">=" 8)"

# 4. Avro, 2M MovieWatchEvents per codec: dqaudit vs goavro's OCF reader
#    on one goroutine. The goal is a speedup, so ratio ≤ 1/speedup.
for c in null deflate snappy; do
	goal=1.3
	[[ $c == null ]] && goal=1.4
	bench "avro-$c" goavroloop "$W/bin/goavroloop $D/watch-$c.avro" "$(scan "avro-$c")"
	got=$("$W/bin/goavroloop" "$D/watch-$c.avro")
	n=$(events "avro-$c"); check_count "avro-$c" "$n" "$got"
	limit=$(awk -v g="$goal" 'BEGIN { printf "%.3f", 1 / g }')
	speedup=$(awk -v r="$RATIO" 'BEGIN { printf "%.2f", 1 / r }')
	row "Avro $c, $n MovieWatchEvent" "goavro OCFReader loop, 1 goroutine" \
		"$(rate "$n" "$DMED") events; **${speedup}× faster**" "≥ ${goal}× faster (ratio ≤ $limit)" "$(met "$RATIO" "<=" "$limit")"
done

# 5. Startup: a whole scan of a 1,000-event day (4 Avro files, one .gz
#    log, the example config), against the bare process start of
#    `dqaudit version`. Its time bounds the time to the first event, so
#    the goal (first event < 100 ms) is shown met when the whole scan
#    takes less; a longer scan does not show it missed: "not shown".
#    With strace, the time from exec to opening the first file of the
#    day is measured too (N runs, median): the first event is read right
#    after it. strace stops the process only at the traced calls
#    (--seccomp-bpf), so it adds little.
bench startup "dqaudit version" "$DQ version" "$(scan startup)"
n=$(events startup)
STARTRATE="—"
STARTMET=$(awk -v d="$DMED" 'BEGIN { print (d < 0.1) ? "yes (whole scan < 100 ms)" : "not shown (whole scan ≥ 100 ms)" }')
if command -v strace >/dev/null; then
	firsts=()
	for ((i = 0; i < N; i++)); do
		eval "argv=($(scan startup))"
		rc=0
		strace -f --seccomp-bpf -ttt -e trace=execve,openat -o "$W/strace.txt" "${argv[@]}" >/dev/null 2>"$W/stderr.txt" || rc=$?
		# The first line is the execve; then the first open of a file
		# (not the directory) of the day.
		first=$(awk -v dir="$D/tiny/" 'NR == 1 { t0 = $2 } index($0, "\"" dir) && !/O_DIRECTORY/ && / = [0-9]+$/ { printf "%.6f", $2 - t0; exit }' "$W/strace.txt")
		if ((rc > 1)) || [[ -z $first ]]; then
			say "bench.sh: strace of the startup scan: exit $rc, first input open: '$first'"
			cat "$W/stderr.txt" >&2
			exit 1
		fi
		firsts+=("$first")
	done
	FIRST=$(printf '%s\n' "${firsts[@]}" | median)
	STARTRATE="first file of the day opened $(secs "$FIRST") after exec (strace, median)"
	STARTMET=$(awk -v f="$FIRST" 'BEGIN { print (f < 0.1) ? "yes" : "**no**" }')
	say "   first input opened after: ${firsts[*]} s"
fi
row "Startup: scan of a $n-event day (5 files)" "\`dqaudit version\`" \
	"$STARTRATE" "first event < 100 ms" "$STARTMET"

# 6. The same small scan with a 5,000,000-id reference set instead of
#    5,000 ids: the difference of the medians is the load.
bench ref-5m "same scan, 5k-id set" "$(scan startup)" "$(scan ref-5m)"
LOADT=$(awk -v a="$DMED" -v b="$BMED" 'BEGIN { printf "%.6f", a - b }')
row "5M-id reference set, end to end" "small scan, 5k-id set" \
	"load ≈ $(secs "$LOADT")" "load < 3 s, peak RSS < 400 MB (its ≈ 100 MB is the heap kept: see BenchmarkLoadSet)" "$(met "$LOADT" "<=" 3)"

# 7. With BIG=1: memory on 10 GB archives, one run per format: a day of
#    copies of the inputs above (38 plain logs, 116 null-codec Avro
#    files, 162 .gz logs: each just over 10^10 bytes). Copies, not links:
#    a scan reads a link and its target once. Just written, they are
#    mostly in the page cache (24 GB here), so the disk does not set the
#    pace; what is measured is that memory does not grow with the archive.
if [[ -n ${BIG:-} ]]; then
	# big NAME LABEL FORMAT SOURCE COPIES EXT: links COPIES of SOURCE,
	# scans them once and checks that every line or record was counted.
	big() {
		local name=$1 label=$2 format=$3 src=$4 copies=$5 ext=$6 i n want what
		rm -rf "$W/big/$name" && mkdir -p "$W/big/$name"
		for ((i = 1; i <= copies; i++)); do cp "$src" "$W/big/$name/$(printf '%03d' "$i").$ext"; done
		sync # written back before the timed run, not during it
		config "big-$name" "$format" "$D/users.csv" "$W/big/$name/*.$ext"
		say "== 10 GB: $name, $copies files, one run"
		timed "$(scan "big-$name")"
		if [[ $format == avro ]]; then
			n=$(events "big-$name") want=$((copies * 2000000)) what=events
		else
			n=$(lines "big-$name") want=$((copies * LOG_LINES)) what=lines
		fi
		check_count "big-$name" "$n" "$want"
		ROWS+=("| 10 GB: $(awk -v n="$copies" -v b="$(stat -c %s "$src")" 'BEGIN { printf "%.2f GB", n * b / 1e9 }') of $label ($copies files), $n $what | — | — | $(secs "$T") | — | $(rate "$n" "$T") $what | $CPU s | $(mb "$RSS") | peak RSS < 150 MB | $(met $((RSS / 1024)) "<=" 150) |")
		rm -rf "$W/big/$name"
	}
	big plain "plain logs" kafka-log "$D/kafka.log" 38 log
	big avro "Avro, null codec" avro "$D/watch-null.avro" 116 avro
	big gz ".gz logs" kafka-log "$D/kafka.log.gz" 162 log.gz
fi

say "== rules: BenchmarkLoadSet (5M ids)"
LOADSET=$(cd "$ROOT" && go test -run '^$' -bench '^BenchmarkLoadSet$' -benchtime 3x ./rules | grep '^BenchmarkLoadSet')
say "$LOADSET"

load_after=$(load)
read -r cpu1 steal1 < <(cpustat)
steal=$(awk -v t=$((cpu1 - cpu0)) -v s=$((steal1 - steal0)) 'BEGIN { printf "%.1f%%", t ? 100 * s / t : 0 }')
elapsed=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
{
	echo "## dqaudit benchmarks"
	echo
	echo "$(date -u '+%Y-%m-%d %H:%M UTC') · $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD 2>/dev/null || echo '+changes')" \
		"· $(lscpu | awk -F': *' '/^Model name/ { print $2; exit }') · $(nproc) CPUs · $(awk '/MemTotal/ { printf "%.0f GB", $2 / 1048576 }' /proc/meminfo)" \
		"· $(go version | cut -d' ' -f3) · N=$N pairs per case · load average (1, 5, 15 min) before: $load_before; after: $load_after (the harness itself keeps up to 2 CPUs busy) · CPU steal during the run: $steal · ${elapsed}s in all"
	echo
	echo "Medians of N runs; ratio = median of the per-pair ratios dqaudit/baseline wall time (lower is better for dqaudit), with the lowest and highest pair in brackets. CPU: median user + system seconds. Peak RSS: the largest of the N runs. Raw times: $W/runs.tsv."
	echo
	echo "| case | baseline | baseline median | dqaudit median | ratio | rate (dqaudit) | CPU baseline → dqaudit | peak RSS dqaudit | goal | met? |"
	echo "|---|---|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${ROWS[@]}"
	echo
	echo "rules BenchmarkLoadSet, 5M ids from CSV (go test -bench, 3 loads): \`$(echo "$LOADSET" | tr -s ' \t' ' ')\`"
} | tee "$W/results.md"
