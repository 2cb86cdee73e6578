#!/usr/bin/env bash
# docs/bench-ab.sh: is a change to the hot path faster? Builds the audit
# package's test binary at two commits and runs one Go benchmark with each
# in turn (ABBA order), so that both suffer the same load on a shared
# machine, then prints the median of the per-round ratios new/old. From
# the repository root:
#
#   bash docs/bench-ab.sh OLD [NEW] [ROUNDS] [BENCH] [BENCHTIME]
#
# OLD and NEW are commits (NEW defaults to the working tree, uncommitted
# changes included); ROUNDS defaults to 16, BENCH to
# 'BenchmarkScan/kafka-log$', BENCHTIME to 20x. A ratio below 1 means NEW
# is faster. Look at the spread as well as the median: a few rounds hit by
# another process's burst are expected, and the pairs absorb them.
#
# Why not count instructions (docs/bench-instructions.sh) alone: a change
# can execute fewer instructions and still take longer. An AVX2 line check
# (segmentio/asm, which returns without VZEROUPPER) ran 7% fewer
# instructions and made the scan 1.4-1.5 times slower here.
set -euo pipefail
export LC_ALL=C
if [[ $# -lt 1 ]]; then
	echo "usage: bash docs/bench-ab.sh OLD [NEW] [ROUNDS] [BENCH] [BENCHTIME]" >&2
	exit 2
fi
OLD=$1 NEW=${2:-} ROUNDS=${3:-16} BENCH=${4:-'BenchmarkScan/kafka-log$'} BENCHTIME=${5:-20x}
if ! [[ $ROUNDS =~ ^[1-9][0-9]*$ ]]; then
	echo "bench-ab.sh: ROUNDS must be a positive number, not $ROUNDS" >&2
	exit 2
fi
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
W=$(mktemp -d)
cleanup() {
	git -C "$ROOT" worktree remove --force "$W/old" 2>/dev/null || true
	git -C "$ROOT" worktree remove --force "$W/new" 2>/dev/null || true
	rm -rf "$W"
}
trap cleanup EXIT

# build REV NAME: the audit test binary at REV ("" for the working tree).
build() {
	local src=$ROOT
	if [[ -n $1 ]]; then
		src=$W/$2
		git -C "$ROOT" worktree add --detach --quiet "$src" "$1"
	fi
	(cd "$src" && go test -c -o "$W/$2.test" ./audit)
	echo "$2: ${1:-working tree} ($(git -C "$src" rev-parse --short HEAD)$([[ -z $1 ]] && ! git -C "$ROOT" diff --quiet HEAD && echo ', with changes'))" >&2
}
build "$OLD" old
build "$NEW" new

# The benchmark reads ../config.example.yaml: run from a checkout's audit/.
run() {
	(cd "$ROOT/audit" && "$W/$1.test" -test.run '^$' -test.bench "$BENCH" -test.benchtime "$BENCHTIME") |
		awk '/ns\/op/ { print $3; n++ } END { if (n != 1) exit 1 }'
}
for ((i = 1; i <= ROUNDS; i++)); do
	# One command substitution per statement, so that a failed run stops
	# the script instead of leaving an empty time.
	if ((i % 2)); then
		o=$(run old)
		n=$(run new)
	else
		n=$(run new)
		o=$(run old)
	fi
	echo "$o $n"
done | awk '{ print $2 / $1 }' | sort -g | awk '
	{ s[NR] = $1 }
	END {
		n = NR
		printf "%d rounds of %s: median new/old %.3f (middle half %.3f-%.3f; all %.3f-%.3f)\n",
			n, bench, s[int((n + 1) / 2)], s[int(n / 4) + 1], s[int((3 * n + 3) / 4)], s[1], s[n]
	}' bench="$BENCH"
