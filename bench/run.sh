#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# The `make bench` runner: runs every benchmark program in build/bench, one after the other so they
# do not disturb each other's figures, and shows what each prints (its figures, targets and
# OK/MISSED). A missed target is a result, not a failure: the exit status is 0 when every program
# ran, 1 when one failed to run (or none was built). Usage: bench/run.sh [PATTERN]
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
pattern=${1:-}
status=0 ran=0

for bin in "$build"/bench/*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	case "${bin##*/}" in *"$pattern"*) ;; *) continue ;; esac
	ran=$((ran + 1))
	echo "== bench/${bin##*/}"
	rc=0
	"$bin" || rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "   bench/${bin##*/} failed to run (exit status $rc)"
		status=1
	fi
	echo
done

if [ "$ran" -eq 0 ]; then
	echo "no benchmark in $build/bench${pattern:+ matching $pattern}: run make first" >&2
	exit 1
fi
exit "$status"
