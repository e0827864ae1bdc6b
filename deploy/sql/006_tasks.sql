-- 006_tasks.sql - follow-up work as clocks of its own (issue: records,
-- "Follow-up work"; S7, S11, S12, S14).
--
-- A task is a row in `tasks` (005) with two instants: `remind_at`, when its
-- owner (the customer's tracking agent, S14) is told it falls due, and
-- `due_at`, when it lapses undone and escalates to the owner's lead.  Both
-- fire through the scheduler's statement (slad_fire_tasks, run next to
-- slad_fire_due) and reach people as numbered `TASK` pushes with receipts,
-- like escalation steps.  `stage` says how far a task has fired: 0 nothing,
-- 1 reminded, 2 lapsed; the row lock taken to fire it and the stage written
-- in the same transaction mean no stage fires twice.
--
-- Where tasks come from:
--   archive (S12)           every new customer whose archive is incomplete:
--                           due 2 days after the first intake (its first
--                           ticket, else when it was added);
--   inspection (S11)        a contract's quarters: the last day of each
--                           quarter of the free period, from today on;
--   maintenance (S14)       a customer with a maintenance cycle: its next
--                           maintenance date; done moves the date on;
--   satisfaction_call (S14) each restore: due `satisfaction_call_days`
--                           after it (slad.conf);
--   contact_notice (S7)     a changed hotline contact (005, CONTRACT_UPDATE).
-- The first three are planned by slad_plan_tasks() inside the scheduler's
-- transaction, with the daemon's clock (PostgreSQL's own clock is not the
-- one deadlines follow); restores are caught by a trigger that sees the
-- restore event's own instant.

ALTER TABLE tasks
    ADD COLUMN remind_at    timestamptz,
    ADD COLUMN stage        smallint NOT NULL DEFAULT 0 CHECK (stage BETWEEN 0 AND 2),
    ADD COLUMN next_fire_at timestamptz,
    ADD COLUMN lapsed_at    timestamptz,
    ADD COLUMN done_by      bigint REFERENCES principals(id),
    ADD COLUMN note         text;

-- Rows made before this migration (S7 notices): told at the change.
UPDATE tasks SET remind_at = coalesce((data->>'changed_at')::timestamptz, due_at);
UPDATE tasks SET next_fire_at = least(remind_at, due_at) WHERE status = 'open';

CREATE INDEX tasks_next_fire ON tasks (next_fire_at) WHERE status = 'open';
CREATE INDEX tasks_ticket ON tasks (ticket_id) WHERE ticket_id IS NOT NULL;
-- A planned task exists once per date, whatever became of it.
CREATE UNIQUE INDEX tasks_planned ON tasks (customer_id, kind, coalesce(contract_id, 0),
                                            (data->>'due_date'))
    WHERE kind IN ('inspection', 'maintenance');

-- A task without an explicit reminder is told when it is made: the S7
-- notice at the change it announces (005 writes changed_at), others at
-- their due instant at the latest.
CREATE FUNCTION slad_task_defaults() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.remind_at := coalesce(NEW.remind_at, (NEW.data->>'changed_at')::timestamptz, NEW.due_at);
    IF NEW.status = 'open' AND NEW.next_fire_at IS NULL AND NEW.stage = 0 THEN
        NEW.next_fire_at := least(NEW.remind_at, NEW.due_at);
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER tasks_defaults BEFORE INSERT ON tasks
    FOR EACH ROW EXECUTE FUNCTION slad_task_defaults();

-- Every firing of a task: whom it reached (the push bodies are in
-- `deliveries`).
CREATE TABLE task_firings (
    task_id    bigint NOT NULL REFERENCES tasks(id),
    stage      smallint NOT NULL CHECK (stage IN (1, 2)),
    fired_at   timestamptz NOT NULL,
    late       boolean NOT NULL,
    reached    text,                  -- the tier that heard it (NULL: nobody)
    recipients bigint[] NOT NULL,
    PRIMARY KEY (task_id, stage)
);

-- Settings the daemon's configuration owns and SQL needs (written by slad
-- at start-up and on SIGHUP; several instances should agree).
CREATE TABLE slad_settings (
    name  text PRIMARY KEY,
    value integer NOT NULL
);
INSERT INTO slad_settings VALUES ('satisfaction_call_days', 3), ('task_remind_days', 7);

CREATE FUNCTION slad_settings_put(call_days integer, remind_days integer) RETURNS void
LANGUAGE sql AS $$
    UPDATE slad_settings SET value = CASE name WHEN 'satisfaction_call_days' THEN call_days
                                               ELSE remind_days END
     WHERE name IN ('satisfaction_call_days', 'task_remind_days')
$$;

CREATE FUNCTION slad_setting(p_name text) RETURNS integer
LANGUAGE sql STABLE AS $$
    SELECT value FROM slad_settings WHERE name = p_name
$$;

-- ---- where tasks come from ----

-- A satisfaction call after each restore (S14), owned by the tracking
-- agent; one open call per ticket is enough.  A row trigger whose WHEN
-- runs without calling the function costs the ingest path nothing.
CREATE FUNCTION slad_satisfaction_call() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO tasks (kind, customer_id, ticket_id, owner, remind_at, due_at, data)
    SELECT 'satisfaction_call', t.customer_id, t.id, c.tracking_agent, NEW.at,
           NEW.at + make_interval(days => coalesce(slad_setting('satisfaction_call_days'), 3)),
           jsonb_strip_nulls(jsonb_build_object('contact_name', t.contact_name,
                                                'contact_phone', t.contact_phone,
                                                'cycle', t.cycle))
      FROM tickets t JOIN customers c ON c.id = t.customer_id
     WHERE t.id = NEW.ticket_id
       AND NOT EXISTS (SELECT 1 FROM tasks o WHERE o.ticket_id = t.id
                          AND o.kind = 'satisfaction_call' AND o.status = 'open');
    RETURN NULL;
END
$$;
CREATE TRIGGER ticket_events_satisfaction AFTER INSERT ON ticket_events
    FOR EACH ROW WHEN (NEW.kind = 'restored') EXECUTE FUNCTION slad_satisfaction_call();

-- Archives still to plan: new customers (S12).  The flag keeps the
-- planner's scan to the customers it has not seen.
ALTER TABLE customers ADD COLUMN archive_planned boolean NOT NULL DEFAULT false;
CREATE INDEX customers_archive_unplanned ON customers (id) WHERE NOT archive_planned;

-- Contracts and maintenance dates change rarely; a change marks the plan
-- dirty and the next scheduler run plans inspections and maintenance again.
CREATE TABLE task_planner (
    id    boolean PRIMARY KEY DEFAULT true CHECK (id),
    dirty boolean NOT NULL DEFAULT true
);
INSERT INTO task_planner DEFAULT VALUES;

CREATE FUNCTION slad_task_plan_dirty() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE task_planner SET dirty = true WHERE NOT dirty;
    RETURN NULL;
END
$$;
CREATE TRIGGER contracts_plan AFTER INSERT OR UPDATE OR DELETE ON contracts
    FOR EACH STATEMENT EXECUTE FUNCTION slad_task_plan_dirty();
CREATE TRIGGER customers_plan_update AFTER UPDATE OF next_maintenance_date,
    maintenance_cycle_months, tracking_agent, tz ON customers
    FOR EACH STATEMENT EXECUTE FUNCTION slad_task_plan_dirty();
-- Only a customer added with a maintenance date; the hotline's provisional
-- customers (the ingest path) never have one.
CREATE TRIGGER customers_plan_insert AFTER INSERT ON customers
    FOR EACH ROW WHEN (NEW.next_maintenance_date IS NOT NULL)
    EXECUTE FUNCTION slad_task_plan_dirty();

-- Plan what is due from the records, as of the daemon's `now_t`.  A task
-- planned inside its reminder window is told now, not "late": slad was not
-- down, the date was simply near when the contract or date was entered.
CREATE FUNCTION slad_plan_tasks(now_t timestamptz) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    remind_days integer := coalesce(slad_setting('task_remind_days'), 7);
    planner     record;
BEGIN
    -- S12: within 2 days of the first intake: the customer's first ticket
    -- (a provisional customer the hotline created), else now (added by an
    -- administrator just now: the scheduler is poked after the change).
    WITH fresh AS (
        UPDATE customers c SET archive_planned = true
         WHERE NOT c.archive_planned
        RETURNING c.id, c.tracking_agent)
    INSERT INTO tasks (kind, customer_id, owner, remind_at, due_at)
    SELECT 'archive', f.id, f.tracking_agent, i.at, i.at + interval '2 days'
      FROM fresh f
      CROSS JOIN LATERAL (SELECT coalesce((SELECT min(t.reported_at) FROM tickets t
                                            WHERE t.customer_id = f.id), now_t) AS at) i
     WHERE cardinality(slad_archive_missing(f.id)) > 0
       AND NOT EXISTS (SELECT 1 FROM tasks o WHERE o.customer_id = f.id AND o.kind = 'archive');

    SELECT * INTO planner FROM task_planner FOR UPDATE SKIP LOCKED;
    IF NOT FOUND OR NOT planner.dirty THEN
        RETURN; -- nothing changed, or another instance is planning
    END IF;
    UPDATE task_planner SET dirty = false;

    -- S11: an inspection visit per quarter of the free period, due by the
    -- quarter's last day (a calendar date in the customer's zone).  A
    -- changed contract drops the visits nobody was told of yet.
    WITH quarters AS (
        SELECT k.id AS contract_id, k.customer_id, c.tracking_agent, c.tz, q.n, q.d
          FROM contracts k JOIN customers c ON c.id = k.customer_id
         CROSS JOIN LATERAL (
               SELECT n, (k.acceptance_date + make_interval(months => 3 * n))::date - 1 AS d
                 FROM generate_series(1, k.free_months / 3) AS n) q
         WHERE q.d >= (now_t AT TIME ZONE c.tz)::date),
    dropped AS (
        DELETE FROM tasks o
         WHERE o.kind = 'inspection' AND o.status = 'open' AND o.stage = 0
           AND NOT EXISTS (SELECT 1 FROM quarters q
                            WHERE q.contract_id = o.contract_id
                              AND to_char(q.d, 'YYYY-MM-DD') = o.data->>'due_date')
        RETURNING o.id)
    INSERT INTO tasks (kind, customer_id, contract_id, owner, remind_at, due_at, data)
    SELECT 'inspection', q.customer_id, q.contract_id, q.tracking_agent,
           greatest((q.d - remind_days)::timestamp AT TIME ZONE q.tz, now_t),
           (q.d + 1)::timestamp AT TIME ZONE q.tz,
           jsonb_build_object('due_date', to_char(q.d, 'YYYY-MM-DD'), 'quarter', q.n)
      FROM quarters q
    ON CONFLICT DO NOTHING;

    -- S14: the next maintenance of customers with a maintenance cycle.
    DELETE FROM tasks o USING customers c
     WHERE o.kind = 'maintenance' AND o.status = 'open' AND o.stage = 0
       AND c.id = o.customer_id
       AND (c.maintenance_cycle_months IS NULL
            OR o.data->>'due_date' IS DISTINCT FROM to_char(c.next_maintenance_date, 'YYYY-MM-DD'));
    INSERT INTO tasks (kind, customer_id, owner, remind_at, due_at, data)
    SELECT 'maintenance', c.id, c.tracking_agent,
           greatest((c.next_maintenance_date - remind_days)::timestamp AT TIME ZONE c.tz, now_t),
           (c.next_maintenance_date + 1)::timestamp AT TIME ZONE c.tz,
           jsonb_build_object('due_date', to_char(c.next_maintenance_date, 'YYYY-MM-DD'),
                              'cycle_months', c.maintenance_cycle_months)
      FROM customers c
     WHERE c.next_maintenance_date IS NOT NULL AND c.maintenance_cycle_months IS NOT NULL
    ON CONFLICT DO NOTHING;

    -- A new tracking agent owns the customer's open tasks (S14).
    UPDATE tasks o SET owner = c.tracking_agent
      FROM customers c
     WHERE c.id = o.customer_id AND o.status <> 'done'
       AND o.owner IS DISTINCT FROM c.tracking_agent;
END
$$;

-- ---- firing ----

-- What a task asks of its owner, in one line (the push's summary, TASKS).
CREATE FUNCTION slad_task_summary(tk tasks, customer_name text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT CASE tk.kind
        WHEN 'archive' THEN 'complete the archive of ' || customer_name
             || coalesce(' (missing: ' || nullif(array_to_string(
                    slad_archive_missing(tk.customer_id), ', '), '') || ')', '')
        WHEN 'inspection' THEN 'quarterly inspection visit at ' || customer_name
             || ', quarter ' || (tk.data->>'quarter') || ', by ' || (tk.data->>'due_date')
        WHEN 'maintenance' THEN 'maintenance at ' || customer_name || ' by '
             || (tk.data->>'due_date')
        WHEN 'satisfaction_call' THEN 'call ' || coalesce(tk.data->>'contact_name', customer_name)
             || coalesce(' (' || (tk.data->>'contact_phone') || ')', '')
             || ' about ticket ' || tk.ticket_id
        WHEN 'contact_notice' THEN 'tell ' || customer_name
             || ' in writing that the hotline contact is now '
             || coalesce(tk.data->>'hotline_contact', 'unset')
    END
$$;

-- Whether a principal's SUBSCRIBE filters let a TASK push through: the
-- event, the customer, its team and region (levels and tiers are the
-- escalations' filters).
CREATE FUNCTION slad_task_filter_passes(f jsonb, team text, region text, customer bigint)
RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT f IS NULL OR (
           (f->>'team' IS NULL OR f->>'team' = team)
       AND (f->>'region' IS NULL OR f->>'region' = region)
       AND (f->>'customer_id' IS NULL OR (f->>'customer_id')::bigint = customer)
       AND (f->'events' IS NULL OR f->'events' ? 'TASK'))
$$;

-- Fire every task stage due at or before `now_s`: the reminder to the owner
-- (without one, the customer's team leads), and the lapse to the owner and
-- the owner's lead, climbing to the regional manager and the director when
-- a tier is empty (S12 "escalates to the tracking agent's lead").  Same
-- result shape as slad_fire_due().
CREATE FUNCTION slad_fire_tasks(now_s bigint, lim integer, late_s integer) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    now_t   timestamptz := to_timestamp(now_s);
    r       record;
    stg     integer;
    at_t    timestamptz;
    who     bigint[];
    reached text;
    tiers   text[] := ARRAY['team_lead', 'regional_manager', 'director'];
    ti      integer;
    top     integer;
    leads   bigint[];
    body    jsonb;
    pid     bigint;
    last    integer;
    fired   integer := 0;
    claimed integer := 0;
    touched bigint[] := '{}';
BEGIN
    PERFORM slad_plan_tasks(now_t);
    FOR r IN
        SELECT tk AS task, tk.id, tk.kind, tk.stage, tk.remind_at, tk.due_at, tk.ticket_id,
               tk.customer_id, tk.owner, c.name AS customer_name, c.team, c.region,
               o.team AS owner_team, coalesce(o.active, false) AS owner_active
          FROM tasks tk JOIN customers c ON c.id = tk.customer_id
          LEFT JOIN principals o ON o.id = tk.owner
         WHERE tk.status = 'open' AND tk.next_fire_at <= now_t
         ORDER BY tk.next_fire_at, tk.id
         LIMIT lim
           FOR UPDATE OF tk SKIP LOCKED
    LOOP
        claimed := claimed + 1;
        last := r.stage;
        -- The reminder, then the lapse if that is due too: a task that came
        -- due while slad was down is told, late, before it lapses.
        FOR stg IN r.stage + 1 .. 2 LOOP
            at_t := CASE stg WHEN 1 THEN r.remind_at ELSE r.due_at END;
            EXIT WHEN at_t > now_t;
            last := stg;
            who := CASE WHEN r.owner_active THEN ARRAY[r.owner] ELSE '{}' END;
            reached := CASE WHEN r.owner_active THEN 'owner' END;
            IF stg = 2 OR NOT r.owner_active THEN
                -- A reminder without an owner goes to the team leads only;
                -- a lapse climbs until someone hears it.
                top := CASE stg WHEN 2 THEN 3 ELSE 1 END;
                FOR ti IN 1 .. top LOOP
                    leads := slad_tier_recipients(tiers[ti], coalesce(r.owner_team, r.team),
                                                  r.region, now_t);
                    who := who || leads;
                    IF cardinality(leads) > 0 THEN
                        reached := tiers[ti];
                        EXIT;
                    END IF;
                END LOOP;
            END IF;
            who := ARRAY(SELECT DISTINCT unnest(who));
            body := jsonb_build_object(
                'task_id', r.id, 'customer_id', r.customer_id,
                'customer_name', r.customer_name, 'kind', r.kind, 'ticket_id', r.ticket_id,
                'due_at', slad_utc_text(r.due_at),
                'late', now_s - extract(epoch FROM at_t) > late_s,
                'lapsed', stg = 2,
                'summary', slad_task_summary(r.task, r.customer_name));
            who := ARRAY(SELECT w FROM unnest(who) AS w
                          WHERE slad_task_filter_passes(
                                    (SELECT s.filters FROM subscriptions s
                                      WHERE s.principal_id = w),
                                    r.team, r.region, r.customer_id));
            FOREACH pid IN ARRAY who LOOP
                PERFORM slad_push(pid, 'TASK', NULL, body);
                touched := touched || pid;
            END LOOP;
            INSERT INTO task_firings (task_id, stage, fired_at, late, reached, recipients)
            VALUES (r.id, stg, now_t, now_s - extract(epoch FROM at_t) > late_s, reached, who)
            ON CONFLICT DO NOTHING;
            fired := fired + 1;
        END LOOP;
        UPDATE tasks SET stage = last,
               status = CASE WHEN last = 2 THEN 'lapsed' ELSE status END,
               lapsed_at = CASE WHEN last = 2 THEN now_t END,
               next_fire_at = CASE WHEN last < 2 THEN greatest(due_at, remind_at) END
         WHERE id = r.id;
    END LOOP;
    IF cardinality(touched) > 0 THEN
        PERFORM pg_notify('slad_push', array_to_string(ARRAY(SELECT DISTINCT unnest(touched)), ','));
    END IF;
    RETURN jsonb_build_object(
        'fired', fired, 'claimed', claimed,
        'principals', to_jsonb(ARRAY(SELECT DISTINCT unnest(touched))),
        'next_due', (SELECT slad_epoch(min(next_fire_at)) FROM tasks WHERE status = 'open'));
END
$$;

-- ---- TASKS and TASK_DONE ----

CREATE FUNCTION slad_task_json(tk tasks) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'task_id', tk.id, 'kind', tk.kind, 'status', tk.status,
        'customer_id', tk.customer_id, 'customer_name', c.name, 'ticket_id', tk.ticket_id,
        'contract_id', tk.contract_id, 'owner', o.name,
        'remind_at', slad_utc_text(tk.remind_at), 'due_at', slad_utc_text(tk.due_at),
        'lapsed_at', slad_utc_text(tk.lapsed_at), 'done_at', slad_utc_text(tk.done_at),
        'done_by', d.name, 'note', tk.note, 'due_date', tk.data->>'due_date',
        'summary', slad_task_summary(tk, c.name),
        'pushes', coalesce((SELECT jsonb_agg(jsonb_build_object(
                      'stage', CASE f.stage WHEN 1 THEN 'reminder' ELSE 'lapse' END,
                      'fired_at', slad_utc_text(f.fired_at), 'late', f.late,
                      'reached', f.reached,
                      'to', (SELECT coalesce(jsonb_agg(p.name ORDER BY p.name), '[]')
                               FROM principals p WHERE p.id = ANY (f.recipients)))
                      ORDER BY f.stage)
                     FROM task_firings f WHERE f.task_id = tk.id), '[]'))
      FROM customers c
      LEFT JOIN principals o ON o.id = tk.owner
      LEFT JOIN principals d ON d.id = tk.done_by
     WHERE c.id = tk.customer_id
$$;

-- TASKS: filters as PROTOCOL.md, validated by the daemon.
CREATE FUNCTION slad_tasks(p_body jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    lim  integer := coalesce((p_body->>'limit')::integer, 100);
    rows jsonb;
BEGIN
    IF p_body ? 'customer_id' AND NOT EXISTS (SELECT 1 FROM customers
                                               WHERE id = (p_body->>'customer_id')::bigint) THEN
        RETURN jsonb_build_object('err', 'NOT_FOUND',
                                  'message', 'no customer ' || (p_body->>'customer_id'));
    END IF;
    SELECT coalesce(jsonb_agg(slad_task_json(tk) ORDER BY tk.id), '[]') INTO rows
      FROM (SELECT * FROM tasks tk
             WHERE (p_body->>'customer_id' IS NULL
                    OR tk.customer_id = (p_body->>'customer_id')::bigint)
               AND (p_body->>'kind' IS NULL OR tk.kind = p_body->>'kind')
               AND (p_body->>'status' IS NULL OR tk.status = p_body->>'status')
               AND (p_body->>'due_before' IS NULL
                    OR tk.due_at < (p_body->>'due_before')::timestamptz)
               AND tk.id > coalesce((p_body->>'after_id')::bigint, 0)
             ORDER BY tk.id
             LIMIT lim + 1) tk;
    RETURN jsonb_build_object(
        'tasks', CASE WHEN jsonb_array_length(rows) > lim THEN rows - lim ELSE rows END,
        'next_after_id', CASE WHEN jsonb_array_length(rows) > lim
                              THEN rows->(lim - 1)->'task_id' END);
END
$$;

-- TASK_DONE: an engineer completes tasks they own or of their team's
-- customers; an administrator any.  The archive closes itself when the
-- S12 fields are complete, and a satisfaction call is done by FEEDBACK or
-- here (the customer could not be reached: say so in the note).  A done
-- maintenance moves the customer's next date on by its cycle, which plans
-- the next one.  Repeating it changes nothing.
CREATE FUNCTION slad_task_done(p_body jsonb, now_s bigint, pid bigint, who_name text,
                               who_role text, who_team text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    tk      tasks;
    c       customers;
    missing text[];
BEGIN
    SELECT * INTO tk FROM tasks WHERE id = (p_body->>'task_id')::bigint FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('err', 'NOT_FOUND', 'message', 'no task ' || (p_body->>'task_id'));
    END IF;
    SELECT * INTO c FROM customers WHERE id = tk.customer_id;
    IF who_role = 'engineer' AND tk.owner IS DISTINCT FROM pid
       AND (c.team IS NULL OR c.team IS DISTINCT FROM who_team) THEN
        RETURN jsonb_build_object('err', 'FORBIDDEN',
            'message', 'task ' || tk.id || ' is neither yours nor of your team''s customers');
    END IF;
    IF tk.status = 'done' THEN
        RETURN jsonb_build_object('task', slad_task_json(tk), 'effect', 'unchanged');
    END IF;
    IF tk.kind = 'archive' THEN
        missing := slad_archive_missing(tk.customer_id);
        RETURN jsonb_build_object('err', 'INVALID_TRANSITION',
            'message', 'an archive task closes itself when the archive is complete; missing: '
                       || array_to_string(missing, ', '));
    END IF;
    UPDATE tasks SET status = 'done', done_at = to_timestamp(now_s), done_by = pid,
           note = p_body->>'note', next_fire_at = NULL
     WHERE id = tk.id
    RETURNING * INTO tk;
    IF tk.kind = 'maintenance' AND c.maintenance_cycle_months IS NOT NULL
       AND to_char(c.next_maintenance_date, 'YYYY-MM-DD') = tk.data->>'due_date' THEN
        UPDATE customers
           SET next_maintenance_date = (next_maintenance_date
                                        + make_interval(months => maintenance_cycle_months))::date,
               updated_at = now()
         WHERE id = c.id;
    END IF;
    INSERT INTO audit (principal, verb, outcome, detail)
    VALUES (who_name, 'TASK_DONE', 'ok', jsonb_build_object('task_id', tk.id, 'kind', tk.kind));
    RETURN jsonb_build_object('task', slad_task_json(tk), 'effect', 'done');
END
$$;

-- The scheduler's first look after this migration plans at once.
UPDATE task_planner SET dirty = true;

-- 005's settle closed only open archive tasks; a lapsed one is done too
-- when the archive is finally complete (the lapse stays in its firings).
CREATE OR REPLACE FUNCTION slad_customer_settle(cid bigint, now_s bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    complete boolean := cardinality(slad_archive_missing(cid)) = 0;
BEGIN
    IF complete THEN
        UPDATE customers SET provisional = false WHERE id = cid AND provisional;
        UPDATE tasks SET status = 'done', done_at = to_timestamp(now_s), next_fire_at = NULL
         WHERE customer_id = cid AND kind = 'archive' AND status IN ('open', 'lapsed');
    END IF;
    RETURN jsonb_build_object('provisional', (SELECT provisional FROM customers WHERE id = cid),
                              'archive_complete', complete);
END
$$;
