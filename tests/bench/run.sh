#!/usr/bin/env bash
# tests/bench/run.sh - the benchmark of issue 8: slad's ingest beside pgbench
# baselines on the same private PostgreSQL, in the same run; sessions, memory
# and start-up at scale.  See tests/bench/README.md for what each figure means.
#
# usage: tests/bench/run.sh [--quick] [--perf FILE] [--keep] [--only LIST]
#
#   --quick      the same scenarios at a tenth of the scale (under 3 minutes)
#   --perf FILE  record `perf record -a -g` into FILE during the closed-loop
#                ingest (for `perf report -i FILE`)
#   --only LIST  run only these phases (comma-separated: baselines, ingest,
#                idle, escalations, open; ingest includes the half-rate run,
#                open the escalation lag): the figures of the others are NA.
#                For profiling one phase; the README's figures come from
#                full runs
#   --keep       keep the temporary directory (slad's and PostgreSQL's logs,
#                the generated pgbench scripts, every loadgen output, slad.conf)
#                instead of deleting it
#
# Builds slad and the load generator (RelWithDebInfo, failpoints off) in
# build-bench/ (or $SLAD_BENCH_BUILD), then in a temporary directory: a
# development CA and client certificates, a private PostgreSQL (fsync on,
# synchronous_commit on: the durability slad promises), and slad with
# log_level = warn and the default batch settings.  Prints a table, then one name=value line per figure of the
# issue, in its order; a figure that cannot be measured yet is NA, with the
# reason in the table.  Everything it started is stopped and deleted on exit,
# Ctrl-C included.  Exit status 1 if the load generator saw an error or the
# check in PostgreSQL found a mismatch.
set -euo pipefail

top=$(cd "$(dirname "$0")/../.." && pwd)
bench=$top/tests/bench
build=${SLAD_BENCH_BUILD:-$top/build-bench}

quick=false
perf_out=
keep=false
only=
while [ "$#" -gt 0 ]; do
	case $1 in
	--quick) quick=true ;;
	--perf)
		[ "$#" -ge 2 ] || { echo "run.sh: --perf needs a file" >&2; exit 2; }
		perf_out=$(realpath -m -- "$2")
		shift
		;;
	--keep) keep=true ;;
	--only)
		[ "$#" -ge 2 ] || { echo "run.sh: --only needs a list" >&2; exit 2; }
		only=",$2,"
		shift
		;;
	-h | --help)
		sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"
		exit 0
		;;
	*)
		echo "run.sh: unknown argument $1 (see --help)" >&2
		exit 2
		;;
	esac
	shift
done

# ---- scale ----
if [ "$quick" = true ]; then
	baseline_s=8      # each pgbench baseline
	ingest_s=15       # each loadgen ingest run, warm-up included
	warmup_s=3
	sweep_s=4         # each run of the window sweep
	prime_reports=20000
	idle_sessions=1000
	open_tickets=100000
	esc_burst=1000    # deadlines overdue at start-up / due in one second
	esc_lag=200       # deadlines spread over 20 s at the open-ticket scale
else
	baseline_s=30
	ingest_s=60
	warmup_s=5
	sweep_s=10
	prime_reports=50000
	idle_sessions=10000
	open_tickets=1000000
	esc_burst=10000
	esc_lag=1000
fi
# Closed loop: 16 sessions; the window (requests in flight per session) that
# gives the most reports/s is found by a short sweep first, since slad's
# throughput depends on how full its batches are (batch_max 256 over 4
# connections: 128 per session fills them; SLAD_BENCH_WINDOWS overrides).
ingest_sessions=16
read -r -a sweep_windows <<<"${SLAD_BENCH_WINDOWS:-2 8 32 128}"
# Baseline (b) uses as many PostgreSQL clients as slad has connections.
batch_clients=4
batch_size=100

# shellcheck source=tests/lib/pg.sh
. "$top/tests/lib/pg.sh"
# shellcheck source=tests/bench/pgbench/report_rows.sh
. "$bench/pgbench/report_rows.sh"

say() {
	printf 'bench: %s\n' "$*" >&2
}

die() {
	say "$*"
	exit 1
}

# ---- cleanup: whatever was started, on any exit ----
work=
slad_pid=
child_pid=
cleanup() {
	local rc=$?
	# Nothing may cut the clean-up short: no second signal, and no failing
	# command under set -e (a killed child's `wait` returns 143).
	set +e
	trap '' INT TERM
	trap - EXIT
	if [ -n "$child_pid" ]; then
		kill "$child_pid" 2>/dev/null
		wait "$child_pid" 2>/dev/null
	fi
	stop_slad
	if [ -n "$work" ]; then
		if [ "$keep" = true ] && [ -e "$work/pg" ]; then
			cp "$(pg_private_datadir "$work/pg")/server.log" "$work/postgresql.log" 2>/dev/null || true
		fi
		pg_private_destroy "$work/pg" >/dev/null 2>&1 || true
		if [ "$rc" -ne 0 ] && [ -f "$work/slad.log" ]; then
			say "last lines of slad's log:"
			tail -n 20 "$work/slad.log" >&2 || true
		fi
		if [ "$keep" = true ]; then
			say "kept $work"
		else
			rm -rf -- "$work"
		fi
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# in_bg CMD...: run CMD in the background and wait for it, so that a signal
# reaches our trap at once instead of after CMD ends.  Returns CMD's status.
in_bg() {
	"$@" &
	child_pid=$!
	local rc=0
	wait "$child_pid" || rc=$?
	child_pid=
	return "$rc"
}

now_ns() {
	date +%s%N
}

# val NAME FILE: the last NAME=value of FILE.
val() {
	sed -n "s/^$1=//p" "$2" | tail -n 1
}

# ---- build ----
build_all() {
	say "building in $build (RelWithDebInfo, failpoints off)"
	mkdir -p "$build"
	cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLAD_FAILPOINTS=OFF \
		-DSLAD_SANITIZE=OFF -DSLAD_COVERAGE=OFF >"$build/bench-cmake.log" 2>&1 ||
		{ cat "$build/bench-cmake.log" >&2; die "cmake failed"; }
	# tests/CMakeLists.txt adds tests/bench: the load generator is a target.
	cmake --build "$build" --target slad slad_loadgen -j "$(nproc)" >"$build/bench-make.log" 2>&1 ||
		{ tail -n 40 "$build/bench-make.log" >&2; die "build failed"; }
	slad_bin=$build/daemon/slad
	loadgen=$build/tests/bench/slad_loadgen
}

# ---- slad ----
write_conf() {
	cat >"$work/slad.conf" <<-EOF
		# written by tests/bench/run.sh
		listen = 127.0.0.1:$slad_port
		tls_cert = $work/certs/server.crt
		tls_key = $work/certs/server.key
		tls_ca = $work/certs/ca.crt
		database = $conninfo
		log_level = warn
		max_connections = 20000
		max_connections_per_addr = 20000
		seed_demo = true
		seed_principal = hotline role=hotline
		seed_principal = engineer role=engineer team=north region=east tier=engineer
		seed_principal = monitor role=monitor
		seed_principal = admin role=admin
	EOF
}

lg() {
	"$loadgen" --port "$slad_port" --cert "$work/certs/hotline.crt" \
		--key "$work/certs/hotline.key" --ca "$work/certs/ca.crt" "$@"
}

# lg_eng: the load generator as an engineer (on duty for the escalations).
lg_eng() {
	"$loadgen" --port "$slad_port" --cert "$work/certs/engineer.crt" \
		--key "$work/certs/engineer.key" --ca "$work/certs/ca.crt" "$@"
}

# start_slad: start it and wait until it answers HELLO; sets startup_s.
start_slad() {
	local t0 ready
	t0=$(now_ns)
	# Sessions need descriptors: as many as the hard limit allows.
	(ulimit -n "$(ulimit -Hn)" && exec "$slad_bin" -c "$work/slad.conf") >>"$work/slad.log" 2>&1 &
	slad_pid=$!
	lg --wait-ready 60000 >"$work/ready.out" || die "slad did not become ready (see above)"
	ready=$(val ready_unix_ns "$work/ready.out")
	startup_s=$(awk -v a="$t0" -v b="$ready" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	kill -0 "$slad_pid" 2>/dev/null || die "slad exited during start-up"
}

stop_slad() {
	[ -n "$slad_pid" ] || return 0
	kill -TERM "$slad_pid" 2>/dev/null || true
	local tries=100
	while [ "$tries" -gt 0 ] && kill -0 "$slad_pid" 2>/dev/null; do
		sleep 0.1
		tries=$((tries - 1))
	done
	kill -KILL "$slad_pid" 2>/dev/null || true
	wait "$slad_pid" 2>/dev/null || true
	slad_pid=
}

proc_kib() {
	sed -n "s/^$2:[[:space:]]*\([0-9]*\) kB/\1/p" "/proc/$1/status"
}

sql() {
	psql -X -At -q -v ON_ERROR_STOP=1 -d "$conninfo" -c "$1"
}

# settle: each measured phase starts from a vacuumed, analysed database and a
# checkpoint, so none pays for the dead rows and dirty pages of the one
# before (autovacuum would otherwise land in the middle of the next phase).
settle() {
	sql "VACUUM ANALYZE tickets, ticket_events, clocks, requests" >/dev/null
	sql "CHECKPOINT" >/dev/null
}

# CPU accounting per phase.  The machine may be shared: what other processes
# burn during a phase is printed beside its figures.  Ours: the private
# PostgreSQL (postmaster, its live children and the ones it reaped), slad, and
# this shell's reaped children (loadgen, pgbench, psql).
ticks() {
	awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat" 2>/dev/null || echo 0
}
cpu_ours() {
	local pm t=0 p
	pm=$(head -n 1 "$(pg_private_datadir "$work/pg")/postmaster.pid")
	t=$(ticks "$pm")
	for p in $(pgrep -P "$pm"); do t=$((t + $(ticks "$p"))); done
	[ -n "$slad_pid" ] && t=$((t + $(ticks "$slad_pid")))
	echo $((t + $(ticks $$)))
}
cpu_busy() {
	awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat
}
cpu_mark() {
	mark_busy=$(cpu_busy)
	mark_ours=$(cpu_ours)
	mark_t=$(now_ns)
}
# cpu_note: cores used by other processes since cpu_mark (also printed).
cpu_note() {
	local busy ours t hz
	busy=$(cpu_busy)
	ours=$(cpu_ours)
	t=$(now_ns)
	hz=$(getconf CLK_TCK)
	awk -v b=$((busy - mark_busy)) -v o=$((ours - mark_ours)) -v s=$((t - mark_t)) -v hz="$hz" \
		'BEGIN { s /= 1e9; x = (b - o) / hz / s; if (x < 0) x = 0
		         printf "%.2f\n", x
		         printf "bench: cpu: %.2f cores busy, benchmark %.2f, other processes %.2f\n", b / hz / s, o / hz / s, x > "/dev/stderr" }'
}

# ---- the scenarios ----
# prime: one report through slad first (the generator copies its answer,
# event data and clocks), then the tables primed.
prime() {
	lg -c 1 --count 1 --db "$conninfo" >"$work/template.out" 2>&1 ||
		{ cat "$work/template.out" >&2; die "the template report failed"; }
	# Prime the tables.  A backend plans its foreign-key checks once and
	# keeps the plan until the table's statistics change: planned on an empty
	# tickets table, the check of every event and clock row is a sequential
	# scan of tickets, and a run that starts on empty tables measures that
	# (baseline (a) fell from ~5,000 to ~1,000 reports/s here).
	say "priming: $prime_reports reports in one statement"
	report_rows_sql "$conninfo" "$prime_reports" >"$work/prime.sql"
	psql -X -q -v ON_ERROR_STOP=1 -d "$conninfo" -f "$work/prime.sql" >/dev/null ||
		die "priming failed"
}

baselines() {
	local pgbench out
	pgbench=$(pg__bindir)/pgbench
	report_rows_sql "$conninfo" 1 >"$work/report_1.sql"
	report_rows_sql "$conninfo" "$batch_size" >"$work/report_$batch_size.sql"
	settle
	cpu_mark
	say "baseline (a): one report per transaction, 8 clients, ${baseline_s} s"
	out=$work/baseline_a.out
	in_bg "$pgbench" -n -M prepared -f "$work/report_1.sql" -c 8 -j 2 -T "$baseline_s" \
		"$conninfo" >"$out" 2>&1 || { cat "$out" >&2; die "pgbench (a) failed"; }
	base_single=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out")
	[ -n "$base_single" ] || { cat "$out" >&2; die "no tps from pgbench (a)"; }
	others_a=$(cpu_note)

	settle
	cpu_mark
	say "baseline (b): $batch_size reports per transaction, $batch_clients clients, ${baseline_s} s"
	out=$work/baseline_b.out
	in_bg "$pgbench" -n -M prepared -f "$work/report_$batch_size.sql" -c "$batch_clients" -j 2 \
		-T "$baseline_s" "$conninfo" >"$out" 2>&1 || { cat "$out" >&2; die "pgbench (b) failed"; }
	base_batch=$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$out")
	[ -n "$base_batch" ] || { cat "$out" >&2; die "no tps from pgbench (b)"; }
	others_b=$(cpu_note)
	base_batch=$(awk -v t="$base_batch" -v n="$batch_size" 'BEGIN { printf "%.1f", t * n }')
	base_single=$(awk -v t="$base_single" 'BEGIN { printf "%.1f", t }')
}

ingest_closed() {
	local out=$work/ingest_closed.out rc=0 perf_pid="" w best=0 x
	ingest_window=${sweep_windows[${#sweep_windows[@]} - 1]}
	for w in "${sweep_windows[@]}"; do
		settle
		in_bg lg -c "$ingest_sessions" --window "$w" --duration "$sweep_s" --warmup 1 \
			>"$work/sweep_$w.out" 2>&1 || failures+=("window sweep $w: loadgen failed")
		x=$(val throughput_per_s "$work/sweep_$w.out")
		say "window sweep: $ingest_sessions sessions x window $w: ${x:-?} reports/s"
		if awk -v x="${x:-0}" -v b="$best" 'BEGIN { exit !(x > b) }'; then
			best=$x
			ingest_window=$w
		fi
	done
	settle
	cpu_mark
	say "ingest, closed loop: $ingest_sessions sessions x window $ingest_window, ${ingest_s} s"
	if [ -n "$perf_out" ]; then
		perf record -a -g -o "$perf_out" -- sleep "$ingest_s" >/dev/null 2>&1 &
		perf_pid=$!
	fi
	in_bg lg -c "$ingest_sessions" --window "$ingest_window" --duration "$ingest_s" \
		--warmup "$warmup_s" --db "$conninfo" --rss-pid "$slad_pid" >"$out" 2>&1 || rc=$?
	others_closed=$(cpu_note)
	if [ -n "$perf_pid" ]; then
		wait "$perf_pid" 2>/dev/null || true
	fi
	grep '^loadgen:' "$out" >&2 || true
	[ "$rc" -eq 0 ] || failures+=("closed-loop ingest: loadgen exit $rc")
	ingest=$(val throughput_per_s "$out")
	ingest_p99_full=$(val latency_p99_ms "$out")
	ingest_mismatch=$(val verify_mismatches "$out")
	[ -n "$ingest" ] || die "no throughput from the closed-loop run"
}

ingest_half() {
	local out=$work/ingest_half.out rc=0
	half_rate=$(awk -v x="$ingest" 'BEGIN { printf "%.0f", x / 2 }')
	settle
	cpu_mark
	say "ingest, open loop at half the maximum: $half_rate/s over $ingest_sessions sessions, ${ingest_s} s"
	in_bg lg -c "$ingest_sessions" --rate "$half_rate" --duration "$ingest_s" \
		--warmup "$warmup_s" --db "$conninfo" >"$out" 2>&1 || rc=$?
	others_half=$(cpu_note)
	grep '^loadgen:' "$out" >&2 || true
	[ "$rc" -eq 0 ] || failures+=("half-rate ingest: loadgen exit $rc")
	half_p50=$(val latency_p50_ms "$out")
	half_p99=$(val latency_p99_ms "$out")
	half_p999=$(val latency_p999_ms "$out")
	half_mismatch=$(val verify_mismatches "$out")
}

idle_sessions_run() {
	local out=$work/idle.out rc=0
	# A fresh slad: memory freed by the ingest runs would hide the sessions'.
	stop_slad
	start_slad
	say "idle sessions: $idle_sessions mutual-TLS sessions"
	cpu_mark
	in_bg lg --idle "$idle_sessions" --rss-pid "$slad_pid" >"$out" 2>&1 || rc=$?
	others_idle=$(cpu_note)
	grep '^loadgen:' "$out" >&2 || true
	[ "$rc" -eq 0 ] || failures+=("idle sessions: loadgen exit $rc")
	idle_up=$(val sessions "$out")
	rss_per_session=$(val rss_kib_per_session "$out")
}

open_tickets_run() {
	local have missing chunk t0 t1
	have=$(sql "SELECT count(*) FROM tickets WHERE state NOT IN ('closed', 'cancelled')")
	missing=$((open_tickets - have))
	say "open tickets: $have open; loading $missing more"
	t0=$(now_ns)
	# Chunks of 100,000 keep each transaction's memory small.  Report times
	# spread over the last 10 minutes, so every clock's next step lies ahead.
	while [ "$missing" -gt 0 ]; do
		chunk=$((missing > 100000 ? 100000 : missing))
		report_rows_sql "$conninfo" "$chunk" no-requests "now() - (g.i % 600) * interval '1 s'" >"$work/bulk.sql"
		psql -X -q -v ON_ERROR_STOP=1 -d "$conninfo" -f "$work/bulk.sql" >/dev/null ||
			die "bulk load failed"
		missing=$((missing - chunk))
	done
	sql "VACUUM ANALYZE tickets, ticket_events, clocks" >/dev/null
	t1=$(now_ns)
	open_now=$(sql "SELECT count(*) FROM tickets WHERE state NOT IN ('closed', 'cancelled')")
	say "open tickets: $open_now after $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", (b - a) / 1e9 }') s of loading"
	settle
	stop_slad
	cpu_mark
	start_slad
	startup_open=$startup_s
	sleep 1 # anything slad loads after answering HELLO counts too
	rss_open_kib=$(proc_kib "$slad_pid" VmRSS)
	hwm_open_kib=$(proc_kib "$slad_pid" VmHWM)
	rss_open_mib=$(awk -v k="$rss_open_kib" 'BEGIN { printf "%.1f", k / 1024 }')
	others_open=$(cpu_note)
}

# ---- escalations ----
# seed_breaches N DUE PREFIX: N tickets of the demo customer (team north),
# each with a running response clock whose next step is its breach at DUE
# (an SQL expression in k = 0..N-1 giving epoch seconds) -- the shape slad
# writes.  The push for a breach carries the clock's due_at, which is the
# step's own instant, so the subscriber can time it.
seed_breaches() {
	sql "WITH t AS (
	       INSERT INTO tickets (type, level, state, customer_id, team, reported_at,
	                            classified_by, created_by, policy_id, symptoms)
	       SELECT 'fault', 1, 'reported', 1, 'north', now(), 'bench',
	              (SELECT id FROM principals WHERE name = 'hotline'),
	              (SELECT max(id) FROM policies), '$3 ' || g
	         FROM generate_series(1, $1) AS g RETURNING id),
	     n AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS k FROM t),
	     d AS (SELECT id, ($2)::bigint AS due FROM n)
	     INSERT INTO clocks (ticket_id, clock, cycle, state, started_at, due_at, next_step,
	                         next_due_at, steps)
	     SELECT id, 'response', 1, 'running', to_timestamp(due - 1800), to_timestamp(due), 3,
	            to_timestamp(due),
	            jsonb_build_array(jsonb_build_object('i', 3, 'kind', 'breach', 'tier', 'engineer',
	                                                 'permille', 1000, 'at', due))
	       FROM d" >/dev/null
}

# watch_escalations N PREFIX OUT: collect the pushes as the engineer.
watch_escalations() {
	local rc=0
	lg_eng --escalations "$1" --summary-prefix "$2" --timeout-ms 180000 >"$3" 2>&1 || rc=$?
	grep '^loadgen:' "$3" >&2 || true
	[ "$rc" -eq 0 ] || failures+=("escalations $2: loadgen exit $rc")
}

# on_duty: the engineer on duty for team north (once), so that breaches of
# the demo customer's tickets reach the subscriber.
on_duty() {
	sql "INSERT INTO duty_rota (team, principal_id, from_at, to_at)
	     SELECT 'north', id, now() - interval '1 day', now() + interval '30 days'
	       FROM principals p WHERE name = 'engineer'
	        AND NOT EXISTS (SELECT 1 FROM duty_rota r WHERE r.principal_id = p.id)" >/dev/null
}

escalations_run() {
	local t0 due out
	on_duty
	# (1) overdue at start-up: from slad's start to the last push received.
	say "escalations: $esc_burst deadlines overdue at start-up"
	stop_slad
	seed_breaches "$esc_burst" "extract(epoch FROM now())::bigint - 60" bench-catchup
	settle
	cpu_mark
	t0=$(now_ns)
	start_slad
	out=$work/esc_catchup.out
	watch_escalations "$esc_burst" bench-catchup "$out"
	catchup_s=$(awk -v a="$t0" -v b="$(val last_recv_unix_ns "$out")" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
	others_catchup=$(cpu_note)
	# (2) all due in the same second: from that second to the last push.
	say "escalations: $esc_burst deadlines due in the same second"
	stop_slad
	due=$(($(date +%s) + 15))
	seed_breaches "$esc_burst" "$due" bench-burst
	settle
	cpu_mark
	start_slad
	out=$work/esc_burst.out
	watch_escalations "$esc_burst" bench-burst "$out"
	burst_s=$(awk -v a="$due" -v b="$(val last_recv_unix_ns "$out")" 'BEGIN { printf "%.3f", (b / 1e9) - a }')
	others_burst=$(cpu_note)
}

# escalation_lag_run: at the open-ticket scale, deadlines spread over 20 s;
# lag = arrival - the step's instant, per push.
escalation_lag_run() {
	local base out
	say "escalations: lag of $esc_lag deadlines with $open_now open tickets"
	on_duty
	stop_slad
	base=$(($(date +%s) + 12))
	seed_breaches "$esc_lag" "$base + (k * 20) / $esc_lag" bench-lag
	settle
	cpu_mark
	start_slad
	out=$work/esc_lag.out
	watch_escalations "$esc_lag" bench-lag "$out"
	lag_p50=$(val esc_lag_p50_ms "$out")
	lag_p99=$(val esc_lag_p99_ms "$out")
	others_lag=$(cpu_note)
}

ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "NA" }'
}

# verdict VALUE TARGET >=|<=: met / MISSED / NA
verdict() {
	awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN {
		if (v == "" || v == "NA") { print "NA"; exit }
		ok = (op == ">=") ? (v + 0 >= t + 0) : (v + 0 <= t + 0)
		print ok ? "met" : "MISSED"
	}'
}

# ---- main ----
failures=()
t_begin=$(now_ns)
build_all

work=$(mktemp -d "${TMPDIR:-/tmp}/slad-bench.XXXXXX")
chmod 0755 "$work" # the unprivileged PostgreSQL user must reach its data dir
say "working in $work"
bash "$top/deploy/certs.sh" "$work/certs" >/dev/null
pg_private_start "$work/pg" >/dev/null
conninfo=$(pg_private_conninfo "$work/pg")
[ "$(sql "SHOW fsync")" = on ] || die "fsync is off in the private cluster"
slad_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
write_conf
start_slad # the first start applies the migrations and seeds customer 1
[ "$(sql "SHOW synchronous_commit")" = on ] || die "synchronous_commit is off"

# Every figure, empty (NA in the table) until its phase runs.
for v in base_single base_batch others_a others_b ingest ingest_p99_full ingest_mismatch \
	others_closed ingest_window half_rate half_p50 half_p99 half_p999 half_mismatch others_half \
	idle_up rss_per_session others_idle open_now startup_open rss_open_kib hwm_open_kib \
	rss_open_mib others_open catchup_s others_catchup burst_s others_burst lag_p50 lag_p99 \
	others_lag; do
	printf -v "$v" '%s' ''
done
# want PHASE: whether --only (if given) names PHASE.
want() {
	[ -z "$only" ] || [[ $only == *",$1,"* ]]
}
if want baselines || want ingest; then
	prime
fi
want baselines && baselines
if want ingest; then
	ingest_closed
	ingest_half
fi
want idle && idle_sessions_run
want escalations && escalations_run
if want open; then
	open_tickets_run
	escalation_lag_run
fi
stop_slad

vs_single=$(ratio "$ingest" "$base_single")
vs_batch=$(ratio "$ingest" "$base_batch")
elapsed=$(awk -v a="$t_begin" -v b="$(now_ns)" 'BEGIN { printf "%.0f", (b - a) / 1e9 }')
scale=full
[ "$quick" = true ] && scale="quick (a tenth)"

{
	echo
	echo "slad benchmark, $scale scale, $(date -u +%Y-%m-%dT%H:%M:%SZ), ${elapsed} s"
	echo "machine: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), $(uname -r); PostgreSQL $(sql "SHOW server_version")"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
	echo "slad: $ingest_sessions sessions, window $ingest_window, batch settings default; pgbench (a) -c 8 -j 2, (b) $batch_size reports per transaction -c $batch_clients -j 2"
	echo
	printf '%-42s %-27s %10s %8s %-7s %s\n' scenario figure value target verdict "others*"
	row() { printf '%-42s %-27s %10s %8s %-7s %s\n' "$@"; }
	row "baseline (a) 1 report/txn, 8 clients" "reports/s" "$base_single" "" "" "$others_a"
	row "baseline (b) $batch_size reports/txn, $batch_clients clients" "reports/s (rows/s)" "$base_batch" "" "" "$others_b"
	row "ingest, closed loop (window $ingest_window)" "reports/s" "$ingest" "" "" "$others_closed"
	row "ingest, closed loop" "reports/s / baseline (a)" "$vs_single" ">= 5" "$(verdict "$vs_single" 5 '>=')" ""
	row "ingest, closed loop" "reports/s / baseline (b)" "$vs_batch" ">= 0.4" "$(verdict "$vs_batch" 0.4 '>=')" ""
	row "ingest, closed loop" "p99 ack latency ms" "$ingest_p99_full" "" "" ""
	row "ingest at half the maximum ($half_rate/s)" "p50 ack latency ms" "$half_p50" "" "" "$others_half"
	row "ingest at half the maximum ($half_rate/s)" "p99 ack latency ms" "$half_p99" "<= 20" "$(verdict "$half_p99" 20 '<=')" ""
	row "ingest at half the maximum ($half_rate/s)" "p99.9 ack latency ms" "$half_p999" "" "" ""
	row "$idle_up idle mutual-TLS sessions" "slad KiB RSS per session" "$rss_per_session" "<= 64" "$(verdict "$rss_per_session" 64 '<=')" "$others_idle"
	row "$open_now open tickets" "slad MiB RSS after start" "$rss_open_mib" "<= 256" "$(verdict "$rss_open_mib" 256 '<=')" "$others_open"
	row "$open_now open tickets" "slad MiB peak RSS (VmHWM)" "$(awk -v k="$hwm_open_kib" 'BEGIN { printf "%.1f", k / 1024 }')" "" "" ""
	row "$open_now open tickets" "start-up to ready s" "$startup_open" "<= 5" "$(verdict "$startup_open" 5 '<=')" ""
	row "$esc_burst deadlines overdue at start-up" "catch-up s" "$catchup_s" "<= 5" "$(verdict "$catchup_s" 5 '<=')" "$others_catchup"
	row "escalation lag at $open_now open" "p50 ms" "$lag_p50" "" "" "$others_lag"
	row "escalation lag at $open_now open" "p99 ms" "$lag_p99" "<= 50" "$(verdict "$lag_p99" 50 '<=')" ""
	row "$esc_burst deadlines due in one second" "all delivered s" "$burst_s" "<= 2" "$(verdict "$burst_s" 2 '<=')" "$others_burst"
	echo "* others: CPU cores used by other processes on the machine during that phase"
	echo "check in PostgreSQL (every acknowledged request id names exactly one ticket): mismatches closed loop ${ingest_mismatch:-?}, half rate ${half_mismatch:-?}"
	for f in "${failures[@]}"; do
		echo "FAILED: $f"
	done
	echo
	echo "ingest_per_s=$ingest"
	echo "baseline_single_insert_per_s=$base_single"
	echo "baseline_batch_rows_per_s=$base_batch"
	echo "ingest_vs_single_insert=$vs_single"
	echo "ingest_vs_batch_insert=$vs_batch"
	echo "ingest_p99_ms_at_half=$half_p99"
	echo "rss_kib_per_session=$rss_per_session"
	echo "rss_mib_1m_open=$rss_open_mib"
	echo "startup_s_1m_open=$startup_open"
	echo "catchup_10k_s=$catchup_s"
	echo "escalation_lag_p50_ms=$lag_p50"
	echo "escalation_lag_p99_ms=$lag_p99"
	echo "escalation_burst_10k_s=$burst_s"
}

if [ "${#failures[@]}" -gt 0 ] || [ "${ingest_mismatch:-0}" != 0 ] || [ "${half_mismatch:-0}" != 0 ]; then
	exit 1
fi
