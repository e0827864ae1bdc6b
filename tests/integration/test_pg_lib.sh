#!/usr/bin/env bash
# tests/integration/test_pg_lib.sh - self-check of tests/lib/pg.sh, the private
# PostgreSQL cluster every integration test and the quick start stand on.
#
# Starts clusters in temporary directories and checks: SELECT 1 over the socket
# and over TCP, fsync on, a second start is a no-op, stop is idempotent, a
# restart keeps the port, an immediate stop recovers, two clusters run side by
# side, and (as root) the fallback for a directory the server user cannot reach.
# Everything it starts it stops and deletes, also on failure.  Exit 0 or 1.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/lib/pg.sh
. "$here/../lib/pg.sh"

passed=0
failed=0
work=$(mktemp -d "${TMPDIR:-/tmp}/test_pg_lib.XXXXXX")
clusters=()
summary_done=false

cleanup() {
	local d status=$?
	# Also when a command outside check() ended the run, say so plainly.
	[ "$status" -eq 0 ] || [ "$summary_done" = true ] || {
		echo "test_pg_lib: aborted (exit $status) after $passed passed, $failed failed" >&2
		echo "test_pg_lib: $passed passed, $((failed + 1)) failed"
	}
	for d in "${clusters[@]}"; do
		pg_private_destroy "$d" || echo "cleanup: could not destroy $d" >&2
	done
	rm -rf -- "$work"
}
trap cleanup EXIT

# check NAME CMD...: one named result line per check, so a failure says which.
check() {
	local name=$1
	shift
	if "$@"; then
		echo "ok   $name"
		passed=$((passed + 1))
	else
		echo "FAIL $name" >&2
		failed=$((failed + 1))
	fi
}

# same ACTUAL EXPECTED: equal strings, shown when not.
same() {
	[ "$1" = "$2" ] && return 0
	echo "  got '$1', expected '$2'" >&2
	return 1
}

query() {
	PG_PRIVATE_DATADIR=$1 pg_private_psql -At -c "$2"
}

start() {
	clusters+=("$1")
	pg_private_start "$@"
}

running() {
	pg__running "$(pg_private_datadir "$1")"
}

not() {
	! "$@"
}

differ() {
	[ "$1" != "$2" ]
}

gone() {
	[ ! -e "$1" ] && [ ! -L "$2" ]
}

basic_cluster() {
	local a=$work/open/pg port
	# The server user must be able to reach this one: no fallback.
	mkdir -p "$work/open"
	chmod 0755 "$work" "$work/open"
	check "start" start "$a"
	check "SELECT 1 over the socket" same "$(query "$a" 'SELECT 1')" 1
	check "fsync is on" same "$(query "$a" 'SHOW fsync')" on
	check "database slad, user slad" same "$(query "$a" 'SELECT current_database() || current_user')" sladslad
	check "SELECT 1 over TCP" same "$("$(pg__bindir)/psql" -X -At -d "$(pg_private_conninfo "$a")" -c 'SELECT 1')" 1
	check "listens on 127.0.0.1 only" same "$(query "$a" 'SHOW listen_addresses')" 127.0.0.1
	check "no fallback for a reachable dir" test ! -L "$a"
	check "second start is a no-op" pg_private_start "$a"
	port=$(pg_private_port "$a") || port=none
	check "stop" pg_private_stop "$a"
	check "stopped" not running "$a"
	check "stop again is a no-op" pg_private_stop "$a"
	check "restart" pg_private_start "$a"
	check "restart keeps port $port" same "$(pg_private_port "$a")" "$port"
	check "stop immediate" pg_private_stop "$a" immediate
	check "start after immediate stop" pg_private_start "$a"
	check "SELECT 1 after recovery" same "$(query "$a" 'SELECT 1')" 1
}

second_cluster() {
	local a=$work/open/pg b=$work/open/pg2
	check "second cluster beside the first" start "$b"
	check "its own port" differ "$(pg_private_port "$a")" "$(pg_private_port "$b")"
	check "both answer" same "$(query "$a" 'SELECT 1')$(query "$b" 'SELECT 2')" 12
	check "unknown stop mode refused" not pg_private_stop "$b" sideways 2>/dev/null
	check "stop second" pg_private_stop "$b"
	check "first still up" same "$(query "$a" 'SELECT 1')" 1
}

fallback_cluster() {
	local c=$work/closed/inner/pg target
	if ! pg__is_root; then
		echo "skip fallback (only root runs the server as another user)"
		return 0
	fi
	# As in CI: a checkout under a root-only home.
	mkdir -p "$work/closed/inner"
	chmod 0700 "$work/closed"
	check "start in a root-only dir" start "$c"
	target=$(pg_private_datadir "$c")
	check "fallback is a symlink" test -L "$c"
	check "fallback location" same "$target" \
		"$(pg__fallback_base)/slad-$(pg__hash "$(pg__abspath "$c")")/pg"
	check "fallback owned by the server user" same "$(stat -c %U "$target")" "$(pg__server_user)"
	check "SELECT 1 in the fallback" same "$(query "$c" 'SELECT 1')" 1
	check "fsync on in the fallback" same "$(query "$c" 'SHOW fsync')" on
	check "stop the fallback" pg_private_stop "$c"
	check "restart through the symlink" pg_private_start "$c"
	check "destroy the fallback" pg_private_destroy "$c"
	check "fallback gone" gone "$target" "$c"
}

basic_cluster
second_cluster
fallback_cluster

echo "test_pg_lib: $passed passed, $failed failed"
summary_done=true
[ "$failed" -eq 0 ]
