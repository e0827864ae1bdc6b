-- 007_set_based.sql - the two hot write paths, set-based (issue 8, the
-- benchmark issue).
--
-- Why: the ingest and escalation profiles showed PostgreSQL spending most of
-- its time executing one small statement after another inside plpgsql
-- loops -- per report a customer lookup, a claim, a ticket, an event, a
-- clock DELETE and INSERT, an answer UPDATE; per fired escalation step about
-- eight statements.  Here each path runs a handful of statements per call,
-- one INSERT per table for the whole batch, so the per-row cost is what the
-- rows themselves cost (indexes, foreign keys, the outage triggers of 005).
--
-- Contracts are unchanged: same arguments, same results, same rows.  The
-- row-by-row versions stay (renamed) for the items whose meaning depends on
-- what the items before them did.

-- ---- REPORT and ALERT triggers (slad_report_batch) ----

-- The row-by-row version from 002: alerts with a dedup key (the key's open
-- ticket may be found, created or changed by an earlier item), customers
-- found by phone or created provisionally (S3: two reports from one new
-- caller in one batch share one customer), monitors' default customers,
-- and every item whose request_id occurs twice in the batch (the second is
-- a replay of the first).
--
-- 010_contract_terms.sql wraps the batch in a contract-terms check and
-- calls what it wrapped slad_report_dispatch.  Applied in order (a new
-- database, or one at 005), this file comes first and 010 wraps the
-- set-based batch.  A database that applied 010 before this file existed
-- has 002's batch under that name: the set-based one goes in beneath the
-- check there too, never around it.
DO $$
BEGIN
    IF to_regprocedure('slad_report_dispatch(jsonb)') IS NOT NULL THEN
        ALTER FUNCTION slad_report_dispatch(jsonb) RENAME TO slad_report_rows;
    ELSE
        ALTER FUNCTION slad_report_batch(jsonb) RENAME TO slad_report_rows;
    END IF;
END
$$;

-- Plain reports, all at once: every item names its customer (customer_id)
-- or its equipment (equipment_no, S13), has no dedup key, and its
-- (principal, request_id) occurs once in `items`.  The result is
-- slad_report_rows()'s for the same items: one element per item, in order.
--
-- Ticket ids are drawn before the claim, in item order, so that the
-- requests row is written once with its final answer (002 writes it twice:
-- 'null', then the answer).  Items whose request_id is already in
-- `requests` draw none; only one that loses a race with a concurrent claim
-- leaves its id unused, as a rolled-back insert does.
--
-- Statement order matters for the outage triggers of 005: tickets (their
-- AFTER ROW trigger records a new outage's first revision) are inserted in
-- one statement, the 'reported' events (whose trigger links that revision
-- to the event) in the next, exactly as the row-by-row version sees them.
CREATE FUNCTION slad_report_set(items jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    -- One element per item, in item order (NULL where it does not apply):
    a_err  jsonb[];  -- the error of an item refused before the claim
    a_tid  bigint[]; -- the ticket id of an item this call claims
    a_ans  jsonb[];  -- its answer
    a_cust bigint[];
    a_team text[];
    a_eq   bigint[];
    won    bigint[]; -- the ticket ids whose claim this call won
    result jsonb;
BEGIN
    -- 1. The checks and their messages are 002's, in its order: the
    -- equipment, the customer, the equipment's owner.  A request_id already
    -- in `requests` is answered in step 4, as slad_claim_request() answers.
    SELECT array_agg(c.err ORDER BY c.ord), array_agg(c.tid ORDER BY c.ord),
           array_agg(CASE WHEN c.tid IS NOT NULL
                          THEN jsonb_build_object('ticket_id', c.tid, 'customer_id', c.cust_id,
                                                  'provisional_customer', false,
                                                  'team', c.cust_team)
                               || coalesce(c.item->'answer', '{}') END ORDER BY c.ord),
           array_agg(c.cust_id ORDER BY c.ord), array_agg(c.cust_team ORDER BY c.ord),
           array_agg(c.eq_id ORDER BY c.ord)
      INTO a_err, a_tid, a_ans, a_cust, a_team, a_eq
      FROM (SELECT k.*,
                   -- in the output list of a sorted subquery: drawn in item order
                   CASE WHEN k.err IS NULL AND NOT k.prior
                        THEN nextval('tickets_id_seq') END AS tid
              FROM (SELECT e.ord, e.item, eq.id AS eq_id, cu.id AS cust_id, cu.team AS cust_team,
                           CASE WHEN e.item->>'equipment_no' IS NOT NULL AND eq.id IS NULL
                                THEN jsonb_build_object('err', 'NOT_FOUND',
                                         'message', 'no equipment ' || (e.item->>'equipment_no'))
                                WHEN cu.id IS NULL
                                THEN jsonb_build_object('err', 'NOT_FOUND',
                                         'message', 'no customer ' || (e.item->>'customer_id'))
                                WHEN eq.id IS NOT NULL AND eq.customer_id <> cu.id
                                THEN jsonb_build_object('err', 'CONFLICT',
                                         'message', 'equipment ' || (e.item->>'equipment_no')
                                                    || ' belongs to another customer')
                           END AS err,
                           EXISTS (SELECT 1 FROM requests r
                                    WHERE r.principal_id = (e.item->>'principal_id')::bigint
                                      AND r.request_id = e.item->>'request_id') AS prior
                      FROM jsonb_array_elements(items) WITH ORDINALITY AS e(item, ord)
                      LEFT JOIN equipment eq ON eq.equipment_no = e.item->>'equipment_no'
                      LEFT JOIN customers cu
                             ON cu.id = coalesce((e.item->>'customer_id')::bigint, eq.customer_id)
                   ) k
             ORDER BY k.ord) c;

    -- 2. Claim the request_ids, each row written once with its answer.  One
    -- claimed meanwhile by a concurrent transaction waits for it and is
    -- then lost (ON CONFLICT): its drawn id stays unused, as a rolled-back
    -- insert's does, and step 4 answers it from the winner's row.
    WITH c AS (
        INSERT INTO requests (principal_id, request_id, body_hash, answer)
        SELECT (x.item->>'principal_id')::bigint, x.item->>'request_id', x.item->>'body_hash',
               u.ans
          FROM unnest(a_tid, a_ans) WITH ORDINALITY AS u(tid, ans, ord)
         CROSS JOIN LATERAL (SELECT items->(u.ord::integer - 1) AS item) x
         WHERE u.tid IS NOT NULL
         ORDER BY u.ord
        ON CONFLICT DO NOTHING
        RETURNING (answer->>'ticket_id')::bigint AS tid
    )
    SELECT coalesce(array_agg(c.tid), '{}') INTO won FROM c;
    IF cardinality(won) < cardinality(array_remove(a_tid, NULL)) THEN
        SELECT array_agg(CASE WHEN u.tid = ANY (won) THEN u.tid END ORDER BY u.ord)
          INTO a_tid
          FROM unnest(a_tid) WITH ORDINALITY AS u(tid, ord);
    END IF;

    -- 3. The tickets (their AFTER ROW trigger records a new outage's first
    -- revision, 005) and their clocks, as 003's slad_store_clocks() writes
    -- them (a new ticket has no rows to delete; keep the two in step).
    WITH u AS MATERIALIZED (
        SELECT u.ord, u.tid, u.cust, u.team, u.eq, items->(u.ord::integer - 1) AS item
          FROM unnest(a_tid, a_cust, a_team, a_eq) WITH ORDINALITY AS u(tid, cust, team, eq, ord)
         WHERE u.tid IS NOT NULL
    ),
    tk AS (
        INSERT INTO tickets (id, type, level, state, customer_id, equipment_id, policy_id, team,
                             reported_at, requested_at, symptoms, details, contact_name,
                             contact_phone, classified_by, dedup_key, alert_starts_at,
                             outage_started_at, created_by)
        SELECT u.tid, u.item->>'type', (u.item->>'level')::smallint, 'reported', u.cust, u.eq,
               (u.item->>'policy_id')::bigint, u.team, slad_ts(u.item->'reported_at'),
               slad_ts(u.item->'requested_at'), u.item->>'symptoms', u.item->>'details',
               u.item->>'contact_name', u.item->>'contact_phone', u.item->>'classified_by',
               NULL, slad_ts(u.item->'alert_starts_at'), slad_ts(u.item->'outage_started_at'),
               (u.item->>'principal_id')::bigint
          FROM u ORDER BY u.ord
    )
    INSERT INTO clocks (ticket_id, clock, cycle, state, started_at, due_at, next_step,
                        next_due_at, steps)
    SELECT u.tid, c->>'clock', (c->>'cycle')::integer, c->>'state', slad_ts(c->'started_at'),
           slad_ts(c->'due_at'),
           coalesce((c->'steps'->0->>'i')::integer, (c->>'next_step')::integer),
           slad_ts(c->'steps'->0->'at'), coalesce(c->'steps', '[]')
      FROM u, jsonb_array_elements(coalesce(u.item->'clocks', '[]')) AS c
     ORDER BY u.ord;

    -- 4. The 'reported' events, in a statement after the tickets' so that
    -- their trigger (005) links the outage revision the ticket's made, and
    -- the results in item order.  This statement's snapshot sees the row of
    -- a concurrent claimer that step 2 waited for.
    WITH ev AS (
        INSERT INTO ticket_events (ticket_id, kind, at, level, actor, data)
        SELECT u.tid, 'reported', slad_ts(x.item->'reported_at'), (x.item->>'level')::smallint,
               (x.item->>'principal_id')::bigint, coalesce(x.item->'event_data', '{}')
          FROM unnest(a_tid) WITH ORDINALITY AS u(tid, ord)
         CROSS JOIN LATERAL (SELECT items->(u.ord::integer - 1) AS item) x
         WHERE u.tid IS NOT NULL
         ORDER BY u.ord
    )
    SELECT coalesce(jsonb_agg(
               CASE WHEN u.err IS NOT NULL THEN u.err
                    WHEN u.tid IS NOT NULL THEN jsonb_build_object('ok', u.ans)
                    ELSE (SELECT CASE WHEN p.body_hash = x.item->>'body_hash'
                                      THEN jsonb_build_object('ok', p.answer
                                               || jsonb_build_object('replay', true))
                                      ELSE jsonb_build_object('err', 'IDEMPOTENCY_MISMATCH',
                                               'message', 'request_id ' || (x.item->>'request_id')
                                                          || ' was used with a different body')
                                 END
                            FROM (SELECT items->(u.ord::integer - 1) AS item) x
                            LEFT JOIN requests p
                                   ON p.principal_id = (x.item->>'principal_id')::bigint
                                  AND p.request_id = x.item->>'request_id')
               END ORDER BY u.ord), '[]')
      INTO result
      FROM unnest(a_err, a_tid, a_ans) WITH ORDINALITY AS u(err, tid, ans, ord);
    RETURN result;
END
$$;

-- REPORT and ALERT triggers, batched: 002's contract (one result per item,
-- in order; {"ok": answer}, with "replay": true for a replay, or {"err":
-- CODE, "message": text}; an error stores nothing).  The batch is cut into
-- runs, kept in item order, of plain items (slad_report_set) and of items
-- that need the row-by-row path (slad_report_rows), so each item sees what
-- the items before it did, as in 002.  In the common case -- reports that
-- name their customer -- the whole batch is one run.
CREATE FUNCTION slad_report_split(items jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    rowwise boolean[];
    n       integer;
    i       integer := 1;
    j       integer;
    slice   jsonb;
    res     jsonb;
    results jsonb[] := '{}';
BEGIN
    -- (The window sorts only the keys, not the items.)
    SELECT coalesce(array_agg(w.flag ORDER BY w.ord), '{}') INTO rowwise
      FROM (SELECT e.ord, e.own OR count(*) OVER (PARTITION BY e.pid, e.rid) > 1 AS flag
              FROM (SELECT x.ord, x.item->>'principal_id' AS pid,
                           x.item->>'request_id' AS rid,
                           x.item->>'dedup_key' IS NOT NULL
                           OR (x.item->>'customer_id' IS NULL
                               AND x.item->>'equipment_no' IS NULL) AS own
                      FROM jsonb_array_elements(items) WITH ORDINALITY AS x(item, ord)) e) w;
    n := cardinality(rowwise);
    IF n = 0 THEN
        RETURN '[]';
    END IF;
    IF NOT (true = ANY (rowwise)) THEN
        RETURN slad_report_set(items);
    END IF;
    IF NOT (false = ANY (rowwise)) THEN
        RETURN slad_report_rows(items);
    END IF;
    WHILE i <= n LOOP
        j := i;
        WHILE j < n AND rowwise[j + 1] = rowwise[i] LOOP
            j := j + 1;
        END LOOP;
        SELECT jsonb_agg(x.item ORDER BY x.ord) INTO slice
          FROM jsonb_array_elements(items) WITH ORDINALITY AS x(item, ord)
         WHERE x.ord BETWEEN i AND j;
        IF rowwise[i] THEN
            slice := slad_report_rows(slice);
        ELSE
            slice := slad_report_set(slice);
        END IF;
        FOR res IN SELECT x.value FROM jsonb_array_elements(slice) AS x LOOP
            results := array_append(results, res);
        END LOOP;
        i := j + 1;
    END LOOP;
    RETURN to_jsonb(results);
END
$$;

-- Under the name the row-by-row batch had (see the top of this file).
DO $$
BEGIN
    IF to_regprocedure('slad_report_batch(jsonb)') IS NULL THEN
        CREATE FUNCTION slad_report_batch(items jsonb) RETURNS jsonb
        LANGUAGE sql AS 'SELECT slad_report_split(items)';
    ELSE
        CREATE FUNCTION slad_report_dispatch(items jsonb) RETURNS jsonb
        LANGUAGE sql AS 'SELECT slad_report_split(items)';
    END IF;
END
$$;

-- ---- escalations (slad_fire_due) ----

-- 003's contract and guarantees, one statement for the firing: rows claimed
-- FOR UPDATE SKIP LOCKED in due order, at most `lim`; every due step of a
-- row, in step order (a restart fires what came due while slad was down,
-- once, in order, marked late past `late_s`); UNIQUE (ticket, clock, step,
-- cycle) keeps a step from firing twice; a tier with nobody climbs at once
-- (S6) and says so; SUBSCRIBE filters; per-principal sequence numbers in
-- step order, allocated under principal_seq's row locks (commit order);
-- 'escalated' events; the clocks rows advanced as 003 advances them.
--
-- Recipients are looked up once per (tier, team, region) per call instead
-- of once per step: within one call they cannot change.  principal_seq rows
-- are locked in principal order, so two instances firing at once cannot
-- deadlock on them.  Returns {"fired", "claimed", "principals", "next_due"}.
CREATE OR REPLACE FUNCTION slad_fire_due(now_s bigint, lim integer, late_s integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    now_t     timestamptz := to_timestamp(now_s);
    tiers     text[] := ARRAY['engineer', 'team_lead', 'regional_manager', 'director'];
    v_fired   integer;
    v_claimed integer;
    touched   bigint[];
BEGIN
    WITH claimed AS MATERIALIZED (
        SELECT c.*, row_number() OVER (ORDER BY c.next_due_at, c.ticket_id, c.clock) AS rn
          FROM (SELECT k.ticket_id, k.clock, k.cycle, k.due_at, k.steps, k.next_due_at
                  FROM clocks k
                 WHERE k.next_due_at <= now_t
                 ORDER BY k.next_due_at, k.ticket_id, k.clock
                 LIMIT lim
                 FOR UPDATE SKIP LOCKED) c
    ),
    -- Every due step of every claimed row, with its ticket (003 reads the
    -- ticket without a join condition on its existence: LEFT JOIN).
    due AS MATERIALIZED (
        SELECT DISTINCT ON (cl.rn, s.i)
               cl.rn, cl.ticket_id, cl.clock, cl.cycle, cl.due_at,
               tk.id AS tk_id, tk.level, tk.team, tk.symptoms, tk.customer_id,
               cu.name AS customer, cu.region,
               s.i, s.kind, s.tier, s.permille, s.at,
               now_s - extract(epoch FROM s.at) > late_s AS late
          FROM claimed cl
          LEFT JOIN tickets tk ON tk.id = cl.ticket_id
          LEFT JOIN customers cu ON cu.id = tk.customer_id
          CROSS JOIN LATERAL (
              SELECT (x->>'i')::integer AS i, x->>'kind' AS kind, x->>'tier' AS tier,
                     (x->>'permille')::integer AS permille,
                     to_timestamp((x->>'at')::bigint) AS at, n
                FROM jsonb_array_elements(cl.steps) WITH ORDINALITY AS e(x, n)
               WHERE (x->>'at')::bigint <= now_s) s
         ORDER BY cl.rn, s.i, s.n
    ),
    -- Who hears each tier, once per (team, region) among the due steps.
    areas AS (
        SELECT DISTINCT d.team, d.region FROM due d
    ),
    rcpt AS MATERIALIZED (
        SELECT a.team, a.region, t.n AS tier_no, t.tier,
               slad_tier_recipients(t.tier, a.team, a.region, now_t) AS who
          FROM areas a
         CROSS JOIN unnest(tiers) WITH ORDINALITY AS t(tier, n)
    ),
    -- The step's tier, or the first one above it with somebody (S6).  (A
    -- tier libsla never writes reaches nobody here; 003 failed the call.)
    step AS MATERIALIZED (
        SELECT d.*, r.tier AS reached, coalesce(r.who, '{}') AS who,
               r.tier IS DISTINCT FROM d.tier AS nobody
          FROM due d
          LEFT JOIN LATERAL (
              SELECT x.tier, x.who FROM rcpt x
               WHERE x.team IS NOT DISTINCT FROM d.team
                 AND x.region IS NOT DISTINCT FROM d.region
                 AND x.tier_no >= array_position(tiers, d.tier)
                 AND cardinality(x.who) > 0
               ORDER BY x.tier_no LIMIT 1) r ON true
    ),
    esc AS (
        INSERT INTO escalations (ticket_id, clock, step, cycle, kind, tier, reached, permille,
                                 due_at, deadline_at, fired_at, late)
        SELECT s.ticket_id, s.clock, s.i, s.cycle, s.kind, s.tier, s.reached, s.permille,
               s.at, s.due_at, now_t, s.late
          FROM step s ORDER BY s.rn, s.i
        ON CONFLICT DO NOTHING -- fired before: never twice
        RETURNING id, ticket_id, clock, step, cycle
    ),
    -- The steps that fired now, with the push body (003's, key for key).
    fired AS MATERIALIZED (
        SELECT s.rn, s.i, s.ticket_id, s.clock, s.cycle, s.kind, s.tier, s.reached, s.nobody,
               s.late, s.who, s.team, s.region, s.customer_id, s.level, e.id AS esc_id,
               jsonb_build_object(
                   'ticket_id', s.tk_id, 'customer_id', s.customer_id,
                   'customer_name', s.customer, 'level', s.level, 'clock', s.clock,
                   'step', s.kind,
                   'fraction', CASE WHEN s.kind = 'warning' THEN s.permille / 1000.0 END,
                   'tier', coalesce(s.reached, s.tier), 'team', s.team,
                   'due_at', to_char(s.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'fired_at', to_char(now_t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                   'late', s.late, 'cycle', s.cycle, 'summary', s.symptoms)
               || CASE WHEN s.nobody THEN jsonb_build_object('nobody', true)
                       ELSE '{}'::jsonb END AS body
          FROM step s
          JOIN esc e ON e.ticket_id = s.ticket_id AND e.clock = s.clock AND e.step = s.i
                    AND e.cycle = s.cycle
    ),
    ev AS (
        INSERT INTO ticket_events (ticket_id, kind, at, data)
        SELECT f.ticket_id, 'escalated', now_t,
               jsonb_build_object('clock', f.clock, 'step', f.kind, 'tier', f.tier,
                                  'reached', f.reached, 'nobody', f.nobody, 'cycle', f.cycle,
                                  'late', f.late)
          FROM fired f ORDER BY f.rn, f.i
    ),
    -- One push per recipient whose filters let it through.  IS NOT FALSE:
    -- 003 skipped a recipient only when the filter said false, and a filter
    -- on a field the ticket lacks (a team filter, a ticket without a team)
    -- says NULL -- kept as it was.
    push AS MATERIALIZED (
        SELECT f.rn, f.i, f.esc_id, f.body, w.pid
          FROM fired f
         CROSS JOIN LATERAL unnest(f.who) AS w(pid)
          LEFT JOIN subscriptions sub ON sub.principal_id = w.pid
         WHERE slad_filter_passes(sub.filters, f.team, f.region, f.customer_id, f.level,
                                  coalesce(f.reached, f.tier)) IS NOT FALSE
    ),
    counts AS MATERIALIZED (
        SELECT p.pid, count(*) AS n FROM push p GROUP BY p.pid
    ),
    seqs AS (
        INSERT INTO principal_seq AS ps (principal_id, last_seq)
        SELECT c.pid, c.n FROM counts c ORDER BY c.pid
        ON CONFLICT (principal_id) DO UPDATE SET last_seq = ps.last_seq + excluded.last_seq
        RETURNING principal_id, last_seq
    ),
    dl AS (
        INSERT INTO deliveries (principal_id, seq, event, escalation_id, body)
        SELECT p.pid,
               q.last_seq - c.n + row_number() OVER (PARTITION BY p.pid ORDER BY p.rn, p.i),
               'ESCALATION', p.esc_id, p.body
          FROM push p
          JOIN counts c ON c.pid = p.pid
          JOIN seqs q ON q.principal_id = p.pid
    ),
    -- Advance each row past what is due now; next_step stays one past the
    -- last fired step when none is left (003).
    rest AS MATERIALIZED (
        SELECT cl.ticket_id, cl.clock,
               coalesce((SELECT jsonb_agg(x ORDER BY (x->>'i')::integer)
                           FROM jsonb_array_elements(cl.steps) AS x
                          WHERE (x->>'at')::bigint > now_s), '[]') AS remaining,
               (SELECT max((x->>'i')::integer) + 1
                  FROM jsonb_array_elements(cl.steps) AS x) AS past_last
          FROM claimed cl
    ),
    adv AS (
        UPDATE clocks k
           SET steps = a.remaining,
               next_step = coalesce((a.remaining->0->>'i')::integer, a.past_last, k.next_step),
               next_due_at = to_timestamp((a.remaining->0->>'at')::bigint)
          FROM rest a
         WHERE k.ticket_id = a.ticket_id AND k.clock = a.clock
    )
    SELECT (SELECT count(*) FROM fired), (SELECT count(*) FROM claimed),
           (SELECT coalesce(array_agg(c.pid ORDER BY c.pid), '{}') FROM counts c)
      INTO v_fired, v_claimed, touched;

    IF cardinality(touched) > 0 THEN
        PERFORM pg_notify('slad_push', array_to_string(touched, ','));
    END IF;
    RETURN jsonb_build_object(
        'fired', v_fired, 'claimed', v_claimed, 'principals', to_jsonb(touched),
        'next_due', (SELECT slad_epoch(min(next_due_at)) FROM clocks WHERE next_due_at IS NOT NULL));
END
$$;

-- These statements are short (milliseconds) but their estimates are not:
-- set-returning functions over jsonb count 100 rows each, and the firing
-- statement's cost passes jit_above_cost, so PostgreSQL would spend seconds
-- compiling it at every call (measured: 3 s of a 3.2 s call for 1,000 rows).
-- The batch's statements get generic plans: with a custom plan an array
-- parameter's length is known, so for small batches a custom plan always
-- looks cheaper than the generic one and every statement was planned again
-- at every call (measured: a one-report batch cost twice 002's); their
-- plans do not depend on the values.  Not slad_fire_due(): its plan does
-- (a generic plan cannot see that `lim` rows are few and joins them to
-- tickets by a sequential scan -- escalation lag p50 went 10 -> 104 ms).
ALTER FUNCTION slad_report_set(jsonb) SET jit = off;
ALTER FUNCTION slad_report_set(jsonb) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION slad_report_split(jsonb) SET jit = off;
ALTER FUNCTION slad_report_split(jsonb) SET plan_cache_mode = force_generic_plan;
ALTER FUNCTION slad_fire_due(bigint, integer, integer) SET jit = off;
