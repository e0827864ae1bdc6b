#!/usr/bin/env bash
# test_quickstart.sh BUILD_DIR - the README's first command works: the quick
# start brings up PostgreSQL, certificates and slad; slactl reaches slad as
# each role; Ctrl-C (SIGINT) stops slad and PostgreSQL; a second run reuses
# var/ and the ticket made in the first is still there.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build_dir=$(cd "${1:?usage: test_quickstart.sh BUILD_DIR}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/slad-qs.XXXXXX")
chmod 0755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
qs_pid=
passed=0
failed=0

cleanup() {
	[ -n "$qs_pid" ] && kill -INT "$qs_pid" 2>/dev/null && wait "$qs_pid" 2>/dev/null
	# shellcheck source=tests/lib/pg.sh
	. "$top/tests/lib/pg.sh"
	pg_private_destroy "$work/var/pg" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

check() { # check NAME COMMAND...
	local name=$1
	shift
	if "$@"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		echo "FAIL: $name" >&2
	fi
}

start_quickstart() {
	# A background job inherits SIGINT ignored, and bash cannot trap a
	# signal ignored at entry: restore it, as a terminal's Ctrl-C finds it.
	SLAD_BUILD_DIR=$build_dir SLAD_VAR_DIR=$work/var \
		python3 -c 'import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); os.execvp(sys.argv[1], sys.argv[1:])' \
		bash "$top/deploy/quickstart.sh" --no-build --port "$port" >"$work/qs.log" 2>&1 &
	qs_pid=$!
	for _ in $(seq 1 300); do
		grep -q 'event=ready' "$work/qs.log" && return 0
		kill -0 "$qs_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$work/qs.log" >&2
	return 1
}

slactl() {
	SLACTL_PROFILES=$work/var/slactl-profiles "$build_dir/proto/slactl" "$@"
}

stop_quickstart() {
	kill -INT "$qs_pid"
	local rc=0
	wait "$qs_pid" || rc=$?
	qs_pid=
	[ "$rc" -eq 0 ] || { echo "quickstart exited $rc" >&2; tail -n 5 "$work/qs.log" >&2; }
	return "$rc"
}

check "first start" start_quickstart
for role in hotline engineer monitor admin; do
	check "hello as $role" bash -c "SLACTL_PROFILES=$work/var/slactl-profiles $build_dir/proto/slactl --profile $role --json hello | grep -q '\"role\":\"$role\"'"
done
check "report as hotline" slactl --profile hotline report --customer-id 1 \
	--symptoms 'quick start check' --contact-name QS --contact-phone 1 --request-id qs-1
check "stops on Ctrl-C" stop_quickstart
check "slad said goodbye" grep -q 'event=exit' "$work/qs.log"
check "PostgreSQL stopped" bash -c ". $top/tests/lib/pg.sh; ! pg__running \"\$(pg_private_datadir $work/var/pg)\""

: >"$work/qs.log" # the second run's lines only
check "second start reuses var/" start_quickstart
check "ticket survived" bash -c "SLACTL_PROFILES=$work/var/slactl-profiles $build_dir/proto/slactl --profile engineer --json show 1 | grep -q 'quick start check'"
check "stops again" stop_quickstart

echo "test_quickstart: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
