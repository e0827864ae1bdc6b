#!/usr/bin/env bash
# tests/run.sh - the one test command (README).
#
# Installs missing Debian packages, builds the normal and the sanitizer
# (ASan+UBSan) builds, runs the whole ctest suite on each, reports libsla line
# coverage, runs every fuzz target for a bounded time, and prints how long each
# stage took.  Exits non-zero on any failure.
#
# Environment:
#   SLAD_FUZZ_SECONDS   seconds per fuzz target (default 45; 0 skips fuzzing)
#   SLAD_MIN_COVERAGE   libsla line coverage floor in percent (default 90)
#   SLAD_JOBS           parallel build/test jobs (default: nproc)
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

fuzz_seconds=${SLAD_FUZZ_SECONDS:-45}
min_coverage=${SLAD_MIN_COVERAGE:-90}
jobs=${SLAD_JOBS:-$(nproc)}

# shellcheck source=tests/lib/packages.sh
. "$top/tests/lib/packages.sh"

stage_names=()
stage_secs=()
stage_start=0
begin_stage() {
	stage_start=$(date +%s)
	printf '\n==== %s\n' "$1"
}
end_stage() {
	stage_names+=("$1")
	stage_secs+=($(($(date +%s) - stage_start)))
}
print_stages() {
	printf '\n==== stage times\n'
	local i
	for i in "${!stage_names[@]}"; do
		printf '  %-28s %5ss\n' "${stage_names[$i]}" "${stage_secs[$i]}"
	done
}
trap print_stages EXIT

begin_stage "packages"
slad_ensure_packages
end_stage "packages"

begin_stage "build (normal + coverage)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLAD_COVERAGE=ON >/dev/null
cmake --build build -j"$jobs"
end_stage "build normal"

begin_stage "ctest (normal)"
find build -name '*.gcda' -delete
ctest --test-dir build --output-on-failure -j"$jobs"
end_stage "ctest normal"

begin_stage "libsla line coverage"
# Only libsla's own sources count; the tests themselves are not measured.
summary=$(gcovr -r . --filter 'libsla/' --print-summary build 2>/dev/null | grep -E '^lines:')
echo "libsla coverage ${summary}"
pct=$(printf '%s\n' "$summary" | sed -E 's/^lines: *([0-9.]+)%.*/\1/')
if ! awk -v p="$pct" -v m="$min_coverage" 'BEGIN { exit !(p >= m) }'; then
	echo "FAIL: libsla line coverage ${pct}% is below ${min_coverage}%" >&2
	exit 1
fi
end_stage "coverage"

begin_stage "build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DSLAD_SANITIZE=ON >/dev/null
cmake --build build-asan -j"$jobs"
end_stage "build sanitize"

begin_stage "ctest (ASan + UBSan)"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE normal_only
end_stage "ctest sanitize"

if [ "$fuzz_seconds" -gt 0 ]; then
	begin_stage "fuzz (libFuzzer, ${fuzz_seconds}s each)"
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DSLAD_FUZZ=ON \
		-DSLAD_SANITIZE=ON >/dev/null
	targets=()
	for src in tests/fuzz/fuzz_*.c; do
		[ -e "$src" ] || continue
		targets+=("$(basename "$src" .c)")
	done
	if [ "${#targets[@]}" -gt 0 ]; then
		cmake --build build-fuzz -j"$jobs" --target "${targets[@]}"
		for target in "${targets[@]}"; do
			short=${target#fuzz_}
			# Fuzz a scratch copy so the committed seed corpus stays small.
			work=$(mktemp -d)
			cp -r "tests/fuzz/corpus/$short/." "$work/"
			echo "fuzzing $target for ${fuzz_seconds}s"
			status=0
			(cd "$work" && "$top/build-fuzz/tests/fuzz/$target" -max_total_time="$fuzz_seconds" \
				-print_final_stats=1 -max_len=70000 "$work") >"$work.log" 2>&1 || status=$?
			tail -n 12 "$work.log"
			rm -rf "$work" "$work.log"
			if [ "$status" -ne 0 ]; then
				echo "FAIL: $target found a crash" >&2
				exit 1
			fi
		done
	fi
	end_stage "fuzz"
fi

echo
echo "tests/run.sh: all stages passed"
