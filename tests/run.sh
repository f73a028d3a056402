#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Run every test: the C unit and BPF test programs in build/tests, then the end-to-end scripts in
# tests/e2e. Every program prints "PASS name", "FAIL name: why" or "SKIP name: why" lines; this script
# counts them and ends with "N passed, N failed, N skipped". A program that exits non-zero without
# printing a FAIL line counts as one failure, and so does one that prints no result line at all.
# Usage: tests/run.sh [PATTERN] (runs matching files only).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
pattern=${1:-}
log_dir=$build/test-logs
mkdir -p "$log_dir"

if [ "$(id -u)" -ne 0 ]; then
	echo "tests need root (BPF programs, network namespaces): run make test as root" >&2
	exit 2
fi

passed=0 failed=0 skipped=0
failed_names=()

run_one() {
	local name=$1
	shift
	local out=$log_dir/$(echo "$name" | tr '/' '_').log
	local start=$SECONDS rc

	echo "== $name"
	"$@" >"$out" 2>&1
	rc=$?
	grep -E '^(PASS|FAIL|SKIP) ' "$out" | sed 's/^/   /'
	local p f s
	p=$(grep -c '^PASS ' "$out")
	f=$(grep -c '^FAIL ' "$out")
	s=$(grep -c '^SKIP ' "$out")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		echo "   FAIL $name: exited with status $rc (log: $out)"
		tail -n 20 "$out" | sed 's/^/      | /'
		f=1
	elif [ "$((p + f + s))" -eq 0 ] && [ -z "${FM_ONLY:-}" ]; then
		# A program that ran nothing (or lost its output) proves nothing. (FM_ONLY, which
		# tests/lib.sh reads, legitimately leaves a script with no test to run.)
		echo "   FAIL $name: printed no test result (log: $out)"
		tail -n 20 "$out" | sed 's/^/      | /'
		f=1
	elif [ "$f" -gt 0 ]; then
		echo "   (log: $out)"
	fi
	[ "$f" -gt 0 ] && failed_names+=("$name")
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	echo "   ($((SECONDS - start)) s)"
}

for bin in "$build"/tests/unit/* "$build"/tests/bpf/*; do
	[ -x "$bin" ] || continue
	case "$bin" in *"$pattern"*) ;; *) continue ;; esac
	run_one "${bin#"$build"/tests/}" "$bin"
done

for script in "$top"/tests/e2e/*.sh; do
	[ -e "$script" ] || continue
	case "$script" in *"$pattern"*) ;; *) continue ;; esac
	run_one "e2e/$(basename "$script")" bash "$script"
done

echo
[ ${#failed_names[@]} -gt 0 ] && echo "failed in: ${failed_names[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
