# shellcheck shell=bash
# tests/bench/pgbench/report_rows.sh - the rows slad writes for one REPORT, as
# SQL for pgbench (issue 8, baselines (a) and (b)) and for the bulk load of open
# tickets.  Source it; it sets no shell options of its own.
#
#   report_rows_sql CONNINFO N [requests|no-requests] [REPORTED_AT_EXPR]
#
# prints ONE statement that writes N reports, each exactly what slad's
# slad_report_batch() leaves behind for a level-1 fault REPORT with a
# customer_id (deploy/sql/001_core.sql, 002_ticket_functions.sql):
#   requests      1 row  (the idempotency row with the final answer)
#   tickets       1 row
#   ticket_events 1 row  (kind 'reported')
#   clocks        3 rows (response, onsite not needed, restore)
# Values mirror what slad stores for loadgen's REPORT body: the same strings,
# and the answer document and event data of the newest report slad wrote
# (run.sh sends one first), so their size follows slad's; without one, the
# fallbacks below.  slad writes the requests row twice (a claim, then the
# answer) and deletes clock rows before inserting them; the baseline writes
# each row once: it is the best case.
#
# The column lists come from the live schema (information_schema) at run
# time; the expressions for each column are in the tables below, the one
# place to edit when the schema changes.  A NOT NULL column without a default
# that has no expression here stops the generator with a message, so a schema
# change cannot silently make the baseline write less than slad does.
#
# Inside the statement `t` is the set of new tickets (t.id, t.reported_at),
# g(i) the ordinal 1..N, `k` the clock being written (clock, state, window,
# time to the next step, next step, step schedule: copied from slad's newest
# report, else the default policy's level 1), and REPORTED_AT_EXPR (default
# now()) the report time, which may use g.i (the bulk load spreads it).
# pgbench takes `:word` for a variable, even inside a string literal: no
# expression here may have a colon directly before a letter.

# report_rows__exprs TABLE: "column<TAB>expression" lines.
report_rows__exprs() {
	case $1 in
	tickets)
		cat <<-'EOF2'
			type	'fault'
			level	1
			state	'reported'
			customer_id	:cust_id
			policy_id	:policy_id
			team	:team
			reported_at	:reported_at
			requested_at	:reported_at
			symptoms	'loadgen: link down on the core switch, port 3 dark, users cut off'
			contact_name	'Load Generator'
			contact_phone	'+86-21-5555-0199'
			classified_by	'explicit'
			created_by	:principal_id
		EOF2
		;;
	ticket_events)
		cat <<-'EOF2'
			ticket_id	t.id
			kind	'reported'
			at	t.reported_at
			level	1
			actor	:principal_id
			data	:event_data
		EOF2
		;;
	clocks)
		cat <<-'EOF2'
			ticket_id	t.id
			clock	k.clock
			cycle	1
			state	k.state
			started_at	CASE WHEN k.win IS NOT NULL THEN t.reported_at END
			due_at	t.reported_at + k.win
			next_step	k.step
			next_due_at	t.reported_at + k.warn
			steps	k.steps
		EOF2
		;;
	requests)
		cat <<-'EOF2'
			principal_id	:principal_id
			request_id	'pgb-' || t.id
			body_hash	'12befd2a584de38a2fe43d815d4ee123f42884f094b172bc572209d75ef6913a'
			answer	jsonb_build_object('ticket_id', t.id, 'reported_at', translate(to_char(t.reported_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24.MI.SS"Z"'), '.', ':')) || :answer_rest
		EOF2
		;;
	esac
}

# Fallbacks for a database slad has not written a report to: the rest of
# slad's answer to a level-1 REPORT and its event data, as of issue 4.
report_rows__answer_rest='{"team": "north", "type": "fault", "level": 1, "state": "reported", "customer_id": 1, "classified_by": "explicit", "provisional_customer": false, "due": {"onsite": null, "restore": "2026-11-27T19:15:07Z", "response": "2026-11-27T11:45:07Z"}}'
report_rows__event_data='{"rules_id": 1, "policy_id": 1, "classified_by": "explicit"}'
# (clock, state, window, time to the next step, next step, step schedule) of the default
# policy's level 1: response 30 min, restore 8 h, on-site not needed.
report_rows__clock_rows="('onsite', 'not_needed', NULL::interval, NULL::interval, NULL::integer, '[]'::jsonb), ('response', 'running', '30 min'::interval, '15 min'::interval, 0, '[]'::jsonb), ('restore', 'running', '8 h'::interval, '4 h'::interval, 0, '[]'::jsonb)"

# report_rows__literal TEXT: TEXT as an SQL string literal.
report_rows__literal() {
	printf "'%s'" "${1//\'/\'\'}"
}

# report_rows__psql CONNINFO SQL: one value per line, unaligned.
report_rows__psql() {
	psql -X -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

# report_rows__defaults TABLE: the columns slad leaves to their defaults in a
# new report (so the template row has a value there the generator does not set).
report_rows__defaults() {
	case $1 in
	tickets) echo "id paused cycle occurrences version updated_at" ;;
	ticket_events) echo "id" ;;
	requests) echo "created_at" ;;
	esac
}

# report_rows__columns CONNINFO TABLE [TEMPLATE_WHERE]: "column<TAB>expression"
# for every column of TABLE that the generator writes, in table order.  Fails
# on a required column without an expression, and on a column that slad set
# in the template rows (TEMPLATE_WHERE selects them) which the generator
# neither writes nor lists in report_rows__defaults.
report_rows__columns() {
	local conninfo=$1 table=$2 where=${3:-} col nullable default expr set=" "
	local -A exprs=()
	while IFS=$'\t' read -r col expr; do
		[ -n "$col" ] && exprs[$col]=$expr
	done < <(report_rows__exprs "$table")
	if [ -n "$where" ]; then
		set=" $(report_rows__psql "$conninfo" "SELECT string_agg(DISTINCT key, ' ') FROM $table x, jsonb_each(to_jsonb(x)) WHERE $where AND jsonb_typeof(value) <> 'null'") " || return 1
	fi
	while IFS='|' read -r col nullable default; do
		if [ -n "${exprs[$col]+x}" ]; then
			printf '%s\t%s\n' "$col" "${exprs[$col]}"
			unset "exprs[$col]"
		elif [ "$nullable" = NO ] && [ -z "$default" ]; then
			printf 'report_rows.sh: %s.%s is NOT NULL without a default and the generator has no value for it; add it to report_rows__exprs\n' "$table" "$col" >&2
			return 1
		elif [[ $set == *" $col "* ]] && [[ " $(report_rows__defaults "$table") " != *" $col "* ]]; then
			printf 'report_rows.sh: slad writes %s.%s and the generator does not; add it to report_rows__exprs (or to report_rows__defaults)\n' "$table" "$col" >&2
			return 1
		fi
	done < <(report_rows__psql "$conninfo" "SELECT column_name, is_nullable, coalesce(column_default, '') FROM information_schema.columns WHERE table_schema = 'public' AND table_name = '$table' ORDER BY ordinal_position")
	for col in "${!exprs[@]}"; do
		printf 'report_rows.sh: %s.%s is no longer in the schema; update report_rows__exprs\n' "$table" "$col" >&2
		return 1
	done
}

# report_rows__insert CONNINFO TABLE FROM [TEMPLATE_WHERE]: "INSERT INTO TABLE
# (cols) SELECT exprs FROM".
report_rows__insert() {
	local cols=() vals=() col expr lines
	lines=$(report_rows__columns "$1" "$2" "${4:-}") || return 1
	while IFS=$'\t' read -r col expr; do
		cols+=("$col")
		vals+=("$expr")
	done <<<"$lines"
	local IFS=,
	printf 'INSERT INTO %s (%s) SELECT %s FROM %s' "$2" "${cols[*]}" "${vals[*]}" "$3"
}

report_rows_sql() {
	local conninfo=${1:?usage: report_rows_sql CONNINFO N [requests|no-requests] [REPORTED_AT_EXPR]}
	local n=${2:?usage: report_rows_sql CONNINFO N [requests|no-requests] [REPORTED_AT_EXPR]}
	local with_requests=${3:-requests} reported_at=${4:-now()}
	local ids principal_id cust_id team policy_id tickets events clocks requests sql
	local tpl tpl_ticket answer_rest='' event_data='' clock_rows=''
	# The same principal, customer and policy as loadgen's reports.
	ids=$(report_rows__psql "$conninfo" "SELECT (SELECT id FROM principals WHERE name = 'hotline'), c.id, quote_literal(c.team), (SELECT max(id) FROM policies) FROM customers c WHERE c.id = 1") || return 1
	IFS='|' read -r principal_id cust_id team policy_id <<<"$ids"
	if [ -z "$principal_id" ] || [ -z "$cust_id" ] || [ -z "$policy_id" ]; then
		echo "report_rows.sh: needs principal hotline, customer 1 and a policy (start slad with seed_demo first)" >&2
		return 1
	fi
	# The newest report slad itself wrote: its answer, event data and clocks.
	tpl=$(report_rows__psql "$conninfo" "SELECT answer->>'ticket_id', (answer - 'ticket_id' - 'reported_at')::text FROM requests WHERE request_id NOT LIKE 'pgb-%' AND answer ? 'ticket_id' AND principal_id = $principal_id ORDER BY created_at DESC LIMIT 1") || return 1
	IFS='|' read -r tpl_ticket answer_rest <<<"$tpl"
	if [ -n "$tpl_ticket" ]; then
		event_data=$(report_rows__psql "$conninfo" "SELECT data::text FROM ticket_events WHERE ticket_id = $tpl_ticket AND kind = 'reported'") || return 1
		clock_rows=$(report_rows__psql "$conninfo" "SELECT string_agg(format('(%L, %L, %L::interval, %L::interval, %L::integer, %L::jsonb)', clock, state, due_at - started_at, next_due_at - started_at, next_step, steps), ', ' ORDER BY clock) FROM clocks WHERE ticket_id = $tpl_ticket") || return 1
	fi
	answer_rest=${answer_rest:-$report_rows__answer_rest}
	event_data=${event_data:-$report_rows__event_data}
	clock_rows=${clock_rows:-$report_rows__clock_rows}
	local w_ticket='' w_event='' w_clocks='' w_request=''
	if [ -n "$tpl_ticket" ]; then
		w_ticket="x.id = $tpl_ticket"
		w_event="x.ticket_id = $tpl_ticket AND x.kind = 'reported'"
		w_clocks="x.ticket_id = $tpl_ticket"
		w_request="x.answer->>'ticket_id' = '$tpl_ticket'"
	fi
	tickets=$(report_rows__insert "$conninfo" tickets "generate_series(1, $n) AS g(i)" "$w_ticket") || return 1
	events=$(report_rows__insert "$conninfo" ticket_events t "$w_event") || return 1
	clocks=$(report_rows__insert "$conninfo" clocks "t CROSS JOIN (VALUES $clock_rows) AS k(clock, state, win, warn, step, steps)" "$w_clocks") || return 1
	requests=$(report_rows__insert "$conninfo" requests t "$w_request") || return 1
	sql="WITH t AS ($tickets RETURNING id, reported_at), e AS ($events), c AS ($clocks)"
	if [ "$with_requests" = requests ]; then
		sql="$sql $requests"
	else
		sql="$sql SELECT count(*) FROM t"
	fi
	# Placeholders last, so that expressions may contain them.
	sql=${sql//:principal_id/$principal_id}
	sql=${sql//:cust_id/$cust_id}
	sql=${sql//:team/$team}
	sql=${sql//:policy_id/$policy_id}
	sql=${sql//:reported_at/$reported_at}
	sql=${sql//:answer_rest/$(report_rows__literal "$answer_rest")::jsonb}
	sql=${sql//:event_data/$(report_rows__literal "$event_data")::jsonb}
	# What pgbench would take for a variable of its own.
	if grep -q ':[A-Za-z_]' <<<"${sql//::/}"; then
		echo "report_rows.sh: the statement has a ':name' that pgbench would substitute" >&2
		return 1
	fi
	printf '%s;\n' "$sql"
}
