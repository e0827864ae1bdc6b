#!/usr/bin/env bash
# tests/bench/equivalence.sh - the set-based hot paths (deploy/sql/
# 007_set_based.sql) against the row-by-row ones they replace: the same
# scenario (tests/bench/equivalence/scenario.sql: plain reports, every error,
# provisional callers, alerts, replays inside and across batches, escalations
# with climbs, filters, late and on-time steps, steps fired before, `lim`)
# runs on databases of one private PostgreSQL: one with every migration but
# 007, one with all of them in order, and one that got 007 after all the
# others (a database that applied the later migrations before 007 existed);
# results and rows must be identical.
#
# usage: tests/bench/equivalence.sh [SQL_DIR]   (default: deploy/sql)
# EQUIV_KEEP=DIR keeps both outputs in DIR.
# Exit status 0: identical; 1: a difference (printed as a diff).
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
sql_dir=${1:-$top/deploy/sql}
set_based=007_set_based.sql
[ -f "$sql_dir/$set_based" ] || { echo "equivalence.sh: no $sql_dir/$set_based" >&2; exit 2; }

# shellcheck source=tests/lib/pg.sh
. "$top/tests/lib/pg.sh"

work=$(mktemp -d "${TMPDIR:-/tmp}/slad-equiv.XXXXXX")
chmod 0755 "$work"
# shellcheck disable=SC2317 # invoked by the trap
cleanup() {
	pg_private_destroy "$work/pg" >/dev/null 2>&1 || true
	rm -rf -- "$work"
}
trap cleanup EXIT

pg_private_start "$work/pg" >/dev/null
conninfo=$(pg_private_conninfo "$work/pg")
psql -X -q -v ON_ERROR_STOP=1 -d "$conninfo" -c "CREATE DATABASE rowwise" \
	-c "CREATE DATABASE setbased" -c "CREATE DATABASE late"

# run DB SKIP LAST: apply the migrations in order (each in one transaction,
# as slad does), leaving out SKIP and applying LAST after all the others,
# then the scenario.
run() {
	local db=$1 skip=$2 last=$3 f
	local dsn="${conninfo/dbname=slad/dbname=$db}"
	for f in "$sql_dir"/[0-9][0-9][0-9]_*.sql; do
		case $(basename "$f") in "$skip" | "$last") continue ;; esac
		psql -X -q -1 -v ON_ERROR_STOP=1 -d "$dsn" -f "$f" >/dev/null
	done
	if [ -n "$last" ]; then
		psql -X -q -1 -v ON_ERROR_STOP=1 -d "$dsn" -f "$sql_dir/$last" >/dev/null
	fi
	# Notification payloads list principals in no promised order: sort them;
	# drop the sender's pid.
	psql -X -q -v ON_ERROR_STOP=1 -d "$dsn" -f "$top/tests/bench/equivalence/scenario.sql" 2>&1 |
		sed -E 's/^(Asynchronous notification "slad_push" with payload ")([0-9,]*)(").*/\1\2\3/' |
		awk -F'"' '/^Asynchronous notification/ {
			n = split($4, a, ",")
			for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] + 0 > a[j] + 0; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
			s = a[1]; for (i = 2; i <= n; i++) s = s "," a[i]
			print "notify " s; next
		} { print }'
}

run rowwise "$set_based" "" >"$work/rowwise.out"
run setbased "" "" >"$work/setbased.out"
run late "" "$set_based" >"$work/late.out"
if [ -n "${EQUIV_KEEP:-}" ]; then
	mkdir -p "$EQUIV_KEEP"
	cp "$work/rowwise.out" "$work/setbased.out" "$work/late.out" "$EQUIV_KEEP/"
fi
rc=0
for db in setbased late; do
	if diff -u "$work/rowwise.out" "$work/$db.out"; then
		echo "equivalence: $db identical to rowwise ($(wc -l <"$work/$db.out") lines of results and rows)"
	else
		echo "equivalence: $db DIFFERENT (above: - row-by-row, + $db)" >&2
		rc=1
	fi
done
exit "$rc"
