#!/usr/bin/env bash
# run_with_pg.sh SLAD_BINARY TEST_BINARY [ARGS...] - run one integration test
# against a private PostgreSQL cluster and fresh development certificates,
# both thrown away afterwards.  The test starts and stops slad itself
# (tests/integration/harness.c), so it can kill and restart it.
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
slad_bin=${1:?usage: run_with_pg.sh SLAD_BINARY TEST_BINARY [ARGS...]}
shift
# shellcheck source=tests/lib/pg.sh
. "$top/tests/lib/pg.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/slad-it.XXXXXX")
chmod 0755 "$work" # the unprivileged PostgreSQL user must reach its data dir
cleanup() {
	local rc=$?
	pg_private_destroy "$work/pg" >/dev/null 2>&1 || true
	if [ "$rc" -ne 0 ] && [ -f "$work/slad.log" ]; then
		echo "---- last lines of slad's log ($work/slad.log)" >&2
		tail -n 40 "$work/slad.log" >&2 || true
	fi
	rm -rf "$work"
	exit "$rc"
}
trap cleanup EXIT

bash "$top/deploy/certs.sh" "$work/certs" --test-extras >/dev/null
pg_private_start "$work/pg" >/dev/null

export SLAD_TEST_TOP=$top
export SLAD_TEST_WORK=$work
export SLAD_TEST_CERTS=$work/certs
export SLAD_TEST_PGDATA=$work/pg
export SLAD_TEST_BIN=$slad_bin
SLAD_TEST_CONNINFO=$(pg_private_conninfo "$work/pg")
export SLAD_TEST_CONNINFO
"$@"
