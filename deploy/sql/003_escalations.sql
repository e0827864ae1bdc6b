-- 003_escalations.sql - SLA clocks that fire, and pushes that reach a person
-- exactly once (DESIGN.md "Time" and "Delivery"; issue: escalations).
--
-- Each clock row carries the rest of its step schedule (`steps`, computed by
-- libsla whenever the ticket changes: warnings, breach, ladder, with their
-- due instants).  Time passing changes no schedule; any event rewrites it.
-- So firing is pure bookkeeping and happens in one statement,
-- slad_fire_due(), which any instance may run: rows are claimed with
-- FOR UPDATE SKIP LOCKED, every firing is unique on (ticket, clock, step,
-- cycle), deliveries get per-principal sequence numbers in commit order.

ALTER TABLE clocks ADD COLUMN steps jsonb NOT NULL DEFAULT '[]';

CREATE TABLE duty_rota (
    id           bigserial PRIMARY KEY,
    team         text NOT NULL,
    principal_id bigint NOT NULL REFERENCES principals(id),
    from_at      timestamptz NOT NULL,
    to_at        timestamptz NOT NULL CHECK (to_at > from_at),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX duty_rota_team ON duty_rota (team, from_at, to_at);

-- One row per fired step: the outbox.
CREATE TABLE escalations (
    id          bigserial PRIMARY KEY,
    ticket_id   bigint NOT NULL REFERENCES tickets(id),
    clock       text NOT NULL,
    step        integer NOT NULL,
    cycle       integer NOT NULL,
    kind        text NOT NULL CHECK (kind IN ('warning', 'breach', 'escalation')),
    tier        text NOT NULL,        -- the tier the step was for
    reached     text,                 -- the tier that received it (NULL: nobody)
    permille    integer,
    due_at      timestamptz NOT NULL, -- when the step was due
    deadline_at timestamptz,          -- the clock's deadline
    fired_at    timestamptz NOT NULL,
    late        boolean NOT NULL,
    UNIQUE (ticket_id, clock, step, cycle)
);
CREATE INDEX escalations_ticket ON escalations (ticket_id, id);

-- A principal's pushes: numbered per principal, kept until receipted.
CREATE TABLE deliveries (
    principal_id  bigint NOT NULL REFERENCES principals(id),
    seq           bigint NOT NULL,
    event         text NOT NULL,
    escalation_id bigint REFERENCES escalations(id),
    body          jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    receipted_at  timestamptz,
    PRIMARY KEY (principal_id, seq)
);
CREATE INDEX deliveries_unreceipted ON deliveries (principal_id, seq) WHERE receipted_at IS NULL;
CREATE INDEX deliveries_escalation ON deliveries (escalation_id);

CREATE TABLE principal_seq (
    principal_id bigint PRIMARY KEY REFERENCES principals(id),
    last_seq     bigint NOT NULL
);

-- SUBSCRIBE filters, kept per principal until the next SUBSCRIBE.
CREATE TABLE subscriptions (
    principal_id bigint PRIMARY KEY REFERENCES principals(id),
    filters      jsonb NOT NULL DEFAULT '{}',
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- Who hears a step at `tier` for a ticket (DESIGN.md "Delivery"; S6):
-- the engineers on duty for its team, its team's leads, the regional
-- managers of the customer's region, the directors.
CREATE FUNCTION slad_tier_recipients(want_tier text, ticket_team text, ticket_region text,
                                     at timestamptz)
RETURNS bigint[]
LANGUAGE plpgsql STABLE AS $$
BEGIN
    -- plpgsql keeps this plan for the connection; as an SQL set-returning
    -- function it was planned again for every fired step (the burst
    -- benchmark's profile: 39 % in SQL functions, 16 % planning).
    -- Parameters are named apart from every column: in SQL a column name
    -- wins over a parameter of the same name.
    RETURN ARRAY(
        SELECT DISTINCT p.id FROM principals p
         WHERE p.active AND CASE want_tier
            WHEN 'engineer' THEN EXISTS (SELECT 1 FROM duty_rota r
                                          WHERE r.principal_id = p.id AND r.team = ticket_team
                                            AND r.from_at <= at AND at < r.to_at)
            WHEN 'team_lead' THEN p.tier = 'team_lead' AND p.team = ticket_team
            WHEN 'regional_manager' THEN p.tier = 'regional_manager' AND p.region = ticket_region
            WHEN 'director' THEN p.tier = 'director'
            ELSE false END);
END
$$;

-- Whether a principal's SUBSCRIBE filters let a push through.
CREATE FUNCTION slad_filter_passes(f jsonb, team text, region text, customer bigint,
                                   level integer, tier text)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT f IS NULL OR (
           (f->>'team' IS NULL OR f->>'team' = team)
       AND (f->>'region' IS NULL OR f->>'region' = region)
       AND (f->>'customer_id' IS NULL OR (f->>'customer_id')::bigint = customer)
       AND (f->>'max_level' IS NULL OR level <= (f->>'max_level')::integer)
       AND (f->>'tier' IS NULL OR f->>'tier' = tier)
       AND (f->'events' IS NULL OR f->'events' ? 'ESCALATION'))
$$;

-- Queue a push for a principal under the next sequence number.  The row
-- lock on principal_seq orders a principal's pushes by commit order.
CREATE FUNCTION slad_push(pid bigint, ev text, esc bigint, body jsonb) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    s bigint;
BEGIN
    INSERT INTO principal_seq AS ps (principal_id, last_seq) VALUES (pid, 1)
    ON CONFLICT (principal_id) DO UPDATE SET last_seq = ps.last_seq + 1
    RETURNING last_seq INTO s;
    INSERT INTO deliveries (principal_id, seq, event, escalation_id, body)
    VALUES (pid, s, ev, esc, body);
    RETURN s;
END
$$;

-- Fire every step due at or before `now_s` (epoch seconds, the daemon's
-- clock), in due order, at most `lim` rows per call.  A step more than
-- `late_s` seconds past due is marked late (slad was down).  Returns
-- {"fired": n, "claimed": rows, "principals": [ids with new pushes],
--  "next_due": epoch or null}.
CREATE FUNCTION slad_fire_due(now_s bigint, lim integer, late_s integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    now_t     timestamptz := to_timestamp(now_s);
    r         record;
    st        record;
    t         record;
    tiers     text[] := ARRAY['engineer', 'team_lead', 'regional_manager', 'director'];
    ti        integer;
    reached   text;
    who       bigint[];
    esc_id    bigint;
    fired     integer := 0;
    claimed   integer := 0;
    touched   bigint[] := '{}';
    body      jsonb;
    remaining jsonb;
    nobody    boolean;
    pid       bigint;
BEGIN
    FOR r IN
        SELECT k.ticket_id, k.clock, k.cycle, k.due_at, k.steps FROM clocks k
         WHERE k.next_due_at <= now_t
         ORDER BY k.next_due_at, k.ticket_id, k.clock
         LIMIT lim
         FOR UPDATE SKIP LOCKED
    LOOP
        claimed := claimed + 1;
        SELECT tk.id, tk.level, tk.team, tk.symptoms, tk.customer_id, c.name AS customer,
               c.region
          INTO t FROM tickets tk JOIN customers c ON c.id = tk.customer_id
         WHERE tk.id = r.ticket_id;
        -- Every step of this clock that is due, in order: a clock that came
        -- due three times while slad was down fires three times, late.
        FOR st IN
            SELECT (s->>'i')::integer AS i, s->>'kind' AS kind, s->>'tier' AS tier,
                   (s->>'permille')::integer AS permille, to_timestamp((s->>'at')::bigint) AS at
              FROM jsonb_array_elements(r.steps) AS s
             WHERE (s->>'at')::bigint <= now_s
             ORDER BY (s->>'i')::integer
        LOOP
            -- The step's tier, or the next one up that has someone (S6):
            -- a step that finds nobody climbs at once and says so.
            reached := NULL;
            who := '{}';
            FOR ti IN array_position(tiers, st.tier) .. 4 LOOP
                who := slad_tier_recipients(tiers[ti], t.team, t.region, now_t);
                IF cardinality(who) > 0 THEN
                    reached := tiers[ti];
                    EXIT;
                END IF;
            END LOOP;
            nobody := reached IS DISTINCT FROM st.tier;
            INSERT INTO escalations (ticket_id, clock, step, cycle, kind, tier, reached, permille,
                                     due_at, deadline_at, fired_at, late)
            VALUES (r.ticket_id, r.clock, st.i, r.cycle, st.kind, st.tier, reached, st.permille,
                    st.at, r.due_at, now_t, now_s - extract(epoch FROM st.at) > late_s)
            ON CONFLICT DO NOTHING
            RETURNING id INTO esc_id;
            CONTINUE WHEN esc_id IS NULL; -- fired before: never twice
            fired := fired + 1;
            INSERT INTO ticket_events (ticket_id, kind, at, data)
            VALUES (r.ticket_id, 'escalated', now_t,
                    jsonb_build_object('clock', r.clock, 'step', st.kind, 'tier', st.tier,
                                       'reached', reached, 'nobody', nobody, 'cycle', r.cycle,
                                       'late', now_s - extract(epoch FROM st.at) > late_s));
            body := jsonb_build_object(
                'ticket_id', t.id, 'customer_id', t.customer_id, 'customer_name', t.customer,
                'level', t.level, 'clock', r.clock, 'step', st.kind,
                'fraction', CASE WHEN st.kind = 'warning' THEN st.permille / 1000.0 END,
                'tier', coalesce(reached, st.tier), 'team', t.team,
                'due_at', to_char(r.due_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'fired_at', to_char(now_t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
                'late', now_s - extract(epoch FROM st.at) > late_s,
                'cycle', r.cycle, 'summary', t.symptoms);
            IF nobody THEN
                body := body || jsonb_build_object('nobody', true);
            END IF;
            FOREACH pid IN ARRAY who LOOP
                CONTINUE WHEN NOT slad_filter_passes(
                    (SELECT s.filters FROM subscriptions s WHERE s.principal_id = pid),
                    t.team, t.region, t.customer_id, t.level, coalesce(reached, st.tier));
                PERFORM slad_push(pid, 'ESCALATION', esc_id, body);
                touched := touched || pid;
            END LOOP;
        END LOOP;
        -- Advance the row past what is due now.
        remaining := coalesce((SELECT jsonb_agg(s ORDER BY (s->>'i')::integer)
                                 FROM jsonb_array_elements(r.steps) AS s
                                WHERE (s->>'at')::bigint > now_s), '[]');
        -- next_step stays one past the last fired step when none is left,
        -- so a reschedule never offers a fired step again.
        UPDATE clocks SET steps = remaining,
               next_step = coalesce((remaining->0->>'i')::integer,
                                    (SELECT max((s->>'i')::integer) + 1
                                       FROM jsonb_array_elements(r.steps) AS s),
                                    next_step),
               next_due_at = to_timestamp((remaining->0->>'at')::bigint)
         WHERE ticket_id = r.ticket_id AND clock = r.clock;
    END LOOP;
    IF cardinality(touched) > 0 THEN
        PERFORM pg_notify('slad_push', array_to_string(ARRAY(SELECT DISTINCT unnest(touched)), ','));
    END IF;
    RETURN jsonb_build_object(
        'fired', fired, 'claimed', claimed,
        'principals', to_jsonb(ARRAY(SELECT DISTINCT unnest(touched))),
        'next_due', (SELECT slad_epoch(min(next_due_at)) FROM clocks WHERE next_due_at IS NOT NULL));
END
$$;

CREATE OR REPLACE FUNCTION slad_store_clocks(tid bigint, clocks jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM clocks WHERE ticket_id = tid;
    INSERT INTO clocks (ticket_id, clock, cycle, state, started_at, due_at, next_step,
                        next_due_at, steps)
    SELECT tid, c->>'clock', (c->>'cycle')::integer, c->>'state', slad_ts(c->'started_at'),
           slad_ts(c->'due_at'), coalesce((c->'steps'->0->>'i')::integer,
                                          (c->>'next_step')::integer),
           slad_ts(c->'steps'->0->'at'), coalesce(c->'steps', '[]')
      FROM jsonb_array_elements(coalesce(clocks, '[]')) AS c;
END
$$;

-- SUBSCRIBE: keep the filters, say how much backlog follows.
CREATE FUNCTION slad_subscribe(pid bigint, f jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    IF f ? 'customer_id' AND NOT EXISTS (SELECT 1 FROM customers
                                          WHERE id = (f->>'customer_id')::bigint) THEN
        RETURN jsonb_build_object('err', 'NOT_FOUND',
                                  'message', 'no customer ' || (f->>'customer_id'));
    END IF;
    INSERT INTO subscriptions (principal_id, filters) VALUES (pid, f)
    ON CONFLICT (principal_id) DO UPDATE SET filters = excluded.filters, updated_at = now();
    RETURN jsonb_build_object('filters', f,
        'backlog', (SELECT count(*) FROM deliveries
                     WHERE principal_id = pid AND receipted_at IS NULL));
END
$$;

-- ROTA_ADD.
CREATE FUNCTION slad_rota_add(pid bigint, rid text, hash text, body jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    who      bigint;
    v_answer jsonb;
BEGIN
    SELECT id INTO who FROM principals WHERE name = body->>'principal';
    IF who IS NULL THEN
        RETURN jsonb_build_object('err', 'NOT_FOUND',
                                  'message', 'no principal ' || (body->>'principal'));
    END IF;
    IF (body->>'to')::timestamptz <= (body->>'from')::timestamptz THEN
        RETURN jsonb_build_object('err', 'INVALID_FIELD', 'message', 'field ''to'': not after from');
    END IF;
    v_answer := slad_claim_request(pid, rid, hash);
    IF v_answer IS NOT NULL THEN
        RETURN v_answer;
    END IF;
    INSERT INTO duty_rota (team, principal_id, from_at, to_at)
    VALUES (body->>'team', who, (body->>'from')::timestamptz, (body->>'to')::timestamptz)
    RETURNING jsonb_build_object('rota_id', id) INTO v_answer;
    RETURN slad_answer_request(pid, rid, v_answer);
END
$$;

-- Everything the daemon needs to change or show one ticket.
-- With a principal and request_id (creating verbs such as NOTE), the answer
-- already given for that id comes along as "prior".
CREATE FUNCTION slad_ticket_load(tid bigint, pid bigint DEFAULT NULL, rid text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'id', t.id, 'type', t.type, 'level', t.level, 'state', t.state, 'paused', t.paused,
        'cycle', t.cycle, 'version', t.version, 'team', t.team,
        'customer_id', c.id, 'customer', c.name, 'customer_provisional', c.provisional,
        'region', c.region, 'equipment_no', eq.equipment_no,
        'assigned_to', ap.name, 'policy_id', t.policy_id, 'policy', p.body,
        'reported_at', slad_epoch(t.reported_at), 'requested_at', slad_epoch(t.requested_at),
        'symptoms', t.symptoms, 'details', t.details,
        'contact_name', t.contact_name, 'contact_phone', t.contact_phone,
        'classified_by', t.classified_by, 'dedup_key', t.dedup_key,
        'alert_starts_at', slad_epoch(t.alert_starts_at), 'occurrences', t.occurrences,
        'cause', t.cause, 'outage_started_at', slad_epoch(t.outage_started_at),
        'outage_ended_at', slad_epoch(t.outage_ended_at),
        'source', (SELECT cp.role FROM principals cp WHERE cp.id = t.created_by),
        -- S8/S10: inside a contract's base period on the report date; the
        -- downtime extensions join with the warranty ledger (records issue).
        'in_warranty', EXISTS (SELECT 1 FROM contracts k WHERE k.customer_id = t.customer_id
              AND k.acceptance_date <= (t.reported_at AT TIME ZONE c.tz)::date
              AND (k.acceptance_date + make_interval(months => k.free_months))::date
                  > (t.reported_at AT TIME ZONE c.tz)::date),
        'events', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'id', e.id, 'kind', e.kind, 'at', slad_epoch(e.at), 'level', e.level,
                'by', pr.name, 'data', e.data) ORDER BY e.id)
              FROM ticket_events e LEFT JOIN principals pr ON pr.id = e.actor
             WHERE e.ticket_id = t.id), '[]'),
        'clocks', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'clock', k.clock, 'cycle', k.cycle, 'state', k.state,
                'next_step', k.next_step, 'next_due_at', slad_epoch(k.next_due_at)))
              FROM clocks k WHERE k.ticket_id = t.id), '[]'),
        'prior', (SELECT jsonb_build_object('body_hash', r.body_hash, 'answer', r.answer)
                    FROM requests r WHERE r.principal_id = pid AND r.request_id = rid),
        -- Fired steps, who they were delivered to, whether anyone receipted.
        'escalations', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'step', e.kind, 'clock', e.clock, 'tier', e.tier, 'reached', e.reached,
                'cycle', e.cycle, 'fired_at', slad_epoch(e.fired_at), 'late', e.late,
                'delivered_to', coalesce((SELECT jsonb_agg(p.name ORDER BY p.name)
                                            FROM deliveries d JOIN principals p ON p.id = d.principal_id
                                           WHERE d.escalation_id = e.id), '[]'),
                'receipted', EXISTS (SELECT 1 FROM deliveries d
                                      WHERE d.escalation_id = e.id AND d.receipted_at IS NOT NULL))
                ORDER BY e.id)
              FROM escalations e WHERE e.ticket_id = t.id), '[]'))
      FROM tickets t
      JOIN customers c ON c.id = t.customer_id
      LEFT JOIN equipment eq ON eq.id = t.equipment_id
      LEFT JOIN principals ap ON ap.id = t.assigned_to
      LEFT JOIN policies p ON p.id = t.policy_id
     WHERE t.id = tid
$$;

