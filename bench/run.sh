#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The `make bench` runner: runs every benchmark program in build/bench (the *_bench ones; the others
# there are helpers, like udp_flood) and then bench/compare.sh, one after the other so they do not
# disturb each other's figures, and shows what each prints (its figures, targets and OK/MISSED). A
# missed target is a result, not a failure: the exit status is 0 when every benchmark ran, 1 when
# one failed to run (or none was built). Usage: bench/run.sh [PATTERN]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
pattern=${1:-}
status=0 ran=0

run() {	# NAME CMD [ARGS...]
	local name=$1 rc=0
	shift
	case "$name" in *"$pattern"*) ;; *) return 0 ;; esac
	ran=$((ran + 1))
	echo "== bench/$name"
	"$@" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "   bench/$name failed to run (exit status $rc)"
		status=1
	fi
	echo
}

for bin in "$build"/bench/*_bench; do
	if [ -f "$bin" ] && [ -x "$bin" ]; then
		run "${bin##*/}" "$bin"
	fi
done
if [ -x "$build/bench/udp_flood" ]; then
	run compare.sh "$top/bench/compare.sh"
fi

if [ "$ran" -eq 0 ]; then
	echo "no benchmark in $build/bench${pattern:+ matching $pattern}: run make first" >&2
	exit 1
fi
exit "$status"
