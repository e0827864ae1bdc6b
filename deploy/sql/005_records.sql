-- 005_records.sql - after-sales records: the customer archive (S12), contracts
-- (S7, S8), equipment (S13), outage history for the warranty ledger (S9,
-- S10), satisfaction feedback (S14, S15), and the task rows the follow-up
-- part schedules (issue 6).
--
-- The warranty ledger itself is computed by libsla in the daemon, on
-- demand, from two inputs kept here: the contract's terms and the history
-- of every outage of the customer's tickets.  Why on demand rather than
-- stored snapshots: the ledger is a pure function of those inputs, so
-- keeping the inputs append-only keeps every ledger the system ever stated
-- -- exactly, including what it said before a correction (S9 "revises the
-- ledger without erasing what it said before") -- while the write paths
-- that change outages (RESTORE, CLOSE, SET_CAUSE, ALERT resolve, REOPEN)
-- stay single SQL statements that need no libsla.  outage_revisions is
-- that history: one row per change of an outage's interval or cause,
-- written by triggers on tickets and ticket_events, never updated except
-- to link the event that caused it, never deleted.
--
-- Every function takes its inputs as parameters; nothing is assembled from
-- strings.  Instants from the daemon travel as epoch seconds (slad's clock,
-- which tests move with libfaketime); PostgreSQL's now() only stamps rows
-- for people (created_at, recorded_at).

-- ---- the archive (S12) ----

ALTER TABLE customers
    ADD COLUMN sites jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN maintenance_cycle_months integer
        CHECK (maintenance_cycle_months BETWEEN 1 AND 120),
    ADD COLUMN next_maintenance_date date,
    ADD COLUMN wanted_service text;

-- Contracts (S7, S8).  `rounding` keeps libsla's names (ceil, floor); the
-- protocol's started_day and full_day map onto them in the daemon.
ALTER TABLE contracts
    ADD COLUMN number text,
    ADD COLUMN policy_name text NOT NULL DEFAULT 'default',
    ADD COLUMN onsite_from text NOT NULL DEFAULT 'report'
        CHECK (onsite_from IN ('report', 'dispatch')),
    ADD CONSTRAINT contracts_period_in_range CHECK (free_months <= 1200 AND
        acceptance_date + make_interval(months => free_months) < date '9990-01-01');
CREATE INDEX contracts_customer ON contracts (customer_id);

-- Equipment (S13): its tickets (tickets.equipment_id) are its fault history.
ALTER TABLE equipment
    ADD COLUMN contract_id bigint REFERENCES contracts(id),
    ADD COLUMN site text,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();
CREATE INDEX equipment_customer ON equipment (customer_id);
CREATE INDEX tickets_equipment ON tickets (equipment_id) WHERE equipment_id IS NOT NULL;

-- Follow-up tasks (S7, S11, S12, S14).  This part only creates rows (the
-- S7 contact notice) and closes them (FEEDBACK, a completed archive); the
-- tasks part adds their scheduling and TASK pushes.
CREATE TABLE tasks (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('archive', 'inspection', 'satisfaction_call',
                                              'maintenance', 'contact_notice')),
    status      text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'done', 'lapsed')),
    customer_id bigint NOT NULL REFERENCES customers(id),
    contract_id bigint REFERENCES contracts(id),
    ticket_id   bigint REFERENCES tickets(id),
    owner       bigint REFERENCES principals(id),   -- the tracking agent (S14)
    due_at      timestamptz NOT NULL,
    done_at     timestamptz,
    data        jsonb NOT NULL DEFAULT '{}',        -- what the task is about
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_customer ON tasks (customer_id, id);
CREATE INDEX tasks_open_due ON tasks (due_at) WHERE status = 'open';

-- Satisfaction (S14, S15); the ticket's history gets a note event too.
CREATE TABLE feedback (
    id          bigserial PRIMARY KEY,
    ticket_id   bigint NOT NULL REFERENCES tickets(id),
    task_id     bigint REFERENCES tasks(id),
    score       smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment     text,
    recorded_by bigint NOT NULL REFERENCES principals(id),
    recorded_at timestamptz NOT NULL
);
CREATE INDEX feedback_ticket ON feedback (ticket_id);

-- ---- outages (S9) ----

-- One row per outage as it stands now.  A ticket's outage columns describe
-- its latest outage; a ticket has several when it is reopened after its
-- service came back (S9 "each outage adds its own days"), numbered
-- outage_no 1, 2, ...  A flapping alert reopened within the flap window
-- (004, tickets.c) continues its outage instead: the reopen takes the end
-- back, so the same outage is ongoing again.  `revision` is the
-- outage_revisions row in force.
CREATE TABLE outages (
    ticket_id   bigint NOT NULL REFERENCES tickets(id),
    outage_no   integer NOT NULL,
    cycle       integer NOT NULL,                 -- the ticket's cycle when it began
    customer_id bigint NOT NULL REFERENCES customers(id),
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    cause       text,
    revision    bigint NOT NULL,
    PRIMARY KEY (ticket_id, outage_no)
);
CREATE INDEX outages_customer ON outages (customer_id);

-- Every state an outage has had, in order (id).  `correction`: this row
-- replaced an outage that had ended with a known cause, i.e. it changes
-- what the ledger had already granted or refused (SET_CAUSE, a CLOSE with
-- another cause, a flap that takes a counted end back); an ongoing outage
-- ending, or an unknown cause becoming known, is the outage being
-- completed, not corrected.
CREATE TABLE outage_revisions (
    id          bigserial PRIMARY KEY,
    ticket_id   bigint NOT NULL REFERENCES tickets(id),
    outage_no   integer NOT NULL,
    cycle       integer NOT NULL,
    customer_id bigint NOT NULL REFERENCES customers(id),
    started_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    cause       text,
    correction  boolean NOT NULL,
    event_id    bigint REFERENCES ticket_events(id), -- the event that made this change
    at          timestamptz,                         -- its instant (slad's clock)
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outage_revisions_customer ON outage_revisions (customer_id, id);
CREATE INDEX outage_revisions_unlinked ON outage_revisions (ticket_id) WHERE event_id IS NULL;

-- Outages recorded before this migration: their present state is their
-- first revision.
INSERT INTO outage_revisions (ticket_id, outage_no, cycle, customer_id, started_at, ended_at,
                              cause, correction, at)
SELECT id, 1, cycle, customer_id, outage_started_at, outage_ended_at, cause, false, updated_at
  FROM tickets WHERE outage_started_at IS NOT NULL ORDER BY id;
INSERT INTO outages (ticket_id, outage_no, cycle, customer_id, started_at, ended_at, cause,
                     revision)
SELECT ticket_id, 1, cycle, customer_id, started_at, ended_at, cause, id FROM outage_revisions;

-- The ticket row is the projection the ticket verbs write (slad_ticket_apply,
-- slad_report_batch).  Mirror every change of its outage columns into the
-- ticket's latest outage -- or into a new one, when slad_outage_event()
-- says one begins (the transaction-local setting slad.new_outage).
CREATE FUNCTION slad_outage_track() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    cur   record;
    known boolean;
    fresh boolean := coalesce(current_setting('slad.new_outage', true), '') = 'on';
    v_no  integer;
    rev   bigint;
BEGIN
    IF NEW.outage_started_at IS NULL THEN
        RETURN NULL;
    END IF;
    SELECT o.outage_no, o.started_at, o.ended_at, o.cause INTO cur FROM outages o
     WHERE o.ticket_id = NEW.id ORDER BY o.outage_no DESC LIMIT 1;
    known := FOUND AND NOT fresh;
    IF known AND cur.started_at = NEW.outage_started_at
       AND cur.ended_at IS NOT DISTINCT FROM NEW.outage_ended_at
       AND cur.cause IS NOT DISTINCT FROM NEW.cause THEN
        RETURN NULL; -- a change of something else (state, clocks, a REOPEN's cycle)
    END IF;
    v_no := CASE WHEN NOT FOUND THEN 1 WHEN fresh THEN cur.outage_no + 1 ELSE cur.outage_no END;
    INSERT INTO outage_revisions (ticket_id, outage_no, cycle, customer_id, started_at, ended_at,
                                  cause, correction)
    VALUES (NEW.id, v_no, NEW.cycle, NEW.customer_id, NEW.outage_started_at, NEW.outage_ended_at,
            NEW.cause, known AND cur.ended_at IS NOT NULL
                       AND coalesce(cur.cause, 'unknown') <> 'unknown')
    RETURNING id INTO rev;
    INSERT INTO outages (ticket_id, outage_no, cycle, customer_id, started_at, ended_at, cause,
                         revision)
    VALUES (NEW.id, v_no, NEW.cycle, NEW.customer_id, NEW.outage_started_at, NEW.outage_ended_at,
            NEW.cause, rev)
    ON CONFLICT (ticket_id, outage_no) DO UPDATE
       SET started_at = excluded.started_at, ended_at = excluded.ended_at,
           cause = excluded.cause, revision = excluded.revision;
    RETURN NULL;
END
$$;
CREATE TRIGGER tickets_outage
    AFTER INSERT OR UPDATE OF outage_started_at, outage_ended_at, cause ON tickets
    FOR EACH ROW EXECUTE FUNCTION slad_outage_track();

-- A ticket event.  REOPEN of a ticket whose outage had ended starts a new
-- outage at the reopen instant (PROTOCOL.md REOPEN: the fault is back, the
-- service interrupted again; its cause is unknown until the next RESTORE,
-- so the row's cause, which describes the latest outage, is cleared).  A
-- reopen that took the end back (a flapping alert) continues the outage.
-- Every event links the outage revisions its statement made.
CREATE FUNCTION slad_outage_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.kind = 'reopened' THEN
        PERFORM set_config('slad.new_outage', 'on', true);
        UPDATE tickets SET outage_started_at = NEW.at, outage_ended_at = NULL, cause = NULL
         WHERE id = NEW.ticket_id AND outage_started_at IS NOT NULL
           AND outage_ended_at IS NOT NULL;
        PERFORM set_config('slad.new_outage', 'off', true);
    END IF;
    UPDATE outage_revisions SET event_id = NEW.id, at = NEW.at
     WHERE ticket_id = NEW.ticket_id AND event_id IS NULL;
    RETURN NULL;
END
$$;
CREATE TRIGGER ticket_events_outage AFTER INSERT ON ticket_events
    FOR EACH ROW EXECUTE FUNCTION slad_outage_event();

-- ---- helpers ----

CREATE FUNCTION slad_utc_text(t timestamptz) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
$$;

-- A JSON value, or SQL NULL for an absent key or JSON null.
CREATE FUNCTION slad_jval(p_body jsonb, key text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN jsonb_typeof(p_body->key) IN ('null') THEN NULL ELSE p_body->key END
$$;

-- The outages the ledgers of a customer's contracts are made of, as the
-- daemon's warranty computation reads them:
--   rev, ticket_id, outage_no, start, end (epoch, null: ongoing), cause,
--   dedup_key: a monitoring alert's key -- the daemon counts the outages of
--     one key as one fault, so that an alert that resolves and fires again
--     (a new ticket each time) merges as flaps do (S9);
--   contract: the contract the ticket or its equipment names (null: any
--     of the customer's contracts);
--   correction, at, reason, by_event (history only).
-- history = false: the outages as they stand; true: every revision.
-- Cancelled tickets (opened in error) record no downtime.
CREATE FUNCTION slad_outages_of(cust bigint, history boolean) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT coalesce(jsonb_agg(jsonb_build_object(
               'rev', r.id, 'ticket_id', r.ticket_id, 'outage_no', r.outage_no,
               'start', slad_epoch(r.started_at), 'end', slad_epoch(r.ended_at),
               'cause', r.cause, 'dedup_key', t.dedup_key,
               'contract', coalesce(t.contract_id, e.contract_id),
               'correction', r.correction, 'at', slad_epoch(r.at),
               'reason', ev.data->>'reason', 'by_event', ev.kind) ORDER BY r.id), '[]')
      FROM (SELECT rv.* FROM outage_revisions rv WHERE history AND rv.customer_id = cust
            UNION ALL
            SELECT rv.* FROM outages o JOIN outage_revisions rv ON rv.id = o.revision
             WHERE NOT history AND o.customer_id = cust) r
      JOIN tickets t ON t.id = r.ticket_id
      LEFT JOIN equipment e ON e.id = t.equipment_id
      LEFT JOIN ticket_events ev ON ev.id = r.event_id
     WHERE t.state <> 'cancelled'
$$;

-- A contract's terms as the daemon's ledger computation reads them.
CREATE FUNCTION slad_contract_terms(k contracts) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('contract_id', k.id, 'customer_id', k.customer_id,
        'number', k.number, 'accepted_date', to_char(k.acceptance_date, 'YYYY-MM-DD'),
        'free_months', k.free_months, 'rounding', k.rounding, 'policy', k.policy_name,
        'onsite_from', k.onsite_from, 'hotline_contact', k.hotline_contact)
$$;

-- The S12 fields a customer's archive still lacks (empty: complete).
CREATE FUNCTION slad_archive_missing(cid bigint) RETURNS text[]
LANGUAGE sql STABLE AS $$
    SELECT array_remove(ARRAY[
        CASE WHEN c.address IS NULL THEN 'address' END,
        CASE WHEN c.phone IS NULL THEN 'phone' END,
        CASE WHEN NOT EXISTS (SELECT 1 FROM equipment e WHERE e.customer_id = c.id)
             THEN 'equipment' END,
        CASE WHEN c.maintenance_cycle_months IS NULL THEN 'maintenance_cycle_months' END,
        CASE WHEN c.next_maintenance_date IS NULL THEN 'next_maintenance_date' END,
        CASE WHEN c.wanted_service IS NULL THEN 'wanted_service' END], NULL)
      FROM customers c WHERE c.id = cid
$$;

-- After a change to a customer or its equipment: a complete archive ends
-- the provisional status of a customer the hotline created and closes its
-- open archive task (S12).  {"provisional", "archive_complete"}.
CREATE FUNCTION slad_customer_settle(cid bigint, now_s bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    complete boolean := cardinality(slad_archive_missing(cid)) = 0;
BEGIN
    IF complete THEN
        UPDATE customers SET provisional = false WHERE id = cid AND provisional;
        UPDATE tasks SET status = 'done', done_at = to_timestamp(now_s)
         WHERE customer_id = cid AND kind = 'archive' AND status = 'open';
    END IF;
    RETURN jsonb_build_object('provisional', (SELECT provisional FROM customers WHERE id = cid),
                              'archive_complete', complete);
END
$$;

-- ---- customers ----

CREATE FUNCTION slad_customer_add(pid bigint, rid text, hash text, p_body jsonb, now_s bigint)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    agent    bigint;
    cid      bigint;
    v_answer jsonb;
BEGIN
    IF p_body->>'tracking_agent' IS NOT NULL THEN
        SELECT id INTO agent FROM principals WHERE name = p_body->>'tracking_agent' AND active;
        IF agent IS NULL THEN
            RETURN jsonb_build_object('err', 'NOT_FOUND',
                                      'message', 'no principal ' || (p_body->>'tracking_agent'));
        END IF;
    END IF;
    v_answer := slad_claim_request(pid, rid, hash);
    IF v_answer IS NOT NULL THEN
        RETURN v_answer;
    END IF;
    INSERT INTO customers (name, phone, address, contacts, tz, region, team, tracking_agent,
                           sites, maintenance_cycle_months, next_maintenance_date,
                           wanted_service)
    VALUES (p_body->>'name', p_body->>'phone', p_body->>'address',
            coalesce(slad_jval(p_body, 'contacts'), '[]'),
            coalesce(p_body->>'timezone', 'Asia/Shanghai'), p_body->>'region', p_body->>'team', agent,
            coalesce(slad_jval(p_body, 'sites'), '[]'),
            (p_body->>'maintenance_cycle_months')::integer,
            (p_body->>'next_maintenance_date')::date, p_body->>'wanted_service')
    RETURNING id INTO cid;
    v_answer := jsonb_build_object('customer_id', cid, 'archive_complete',
                                   slad_customer_settle(cid, now_s)->'archive_complete');
    RETURN slad_answer_request(pid, rid, v_answer);
END
$$;

-- CUSTOMER_UPDATE: a key present with null clears the attribute (the zone
-- goes back to the default); absent keys stay.
CREATE FUNCTION slad_customer_update(p_body jsonb, who text, now_s bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    cid    bigint := (p_body->>'customer_id')::bigint;
    agent  bigint;
    before jsonb;
    st     jsonb;
BEGIN
    SELECT to_jsonb(c) - 'created_at' - 'updated_at' INTO before
      FROM customers c WHERE c.id = cid FOR UPDATE;
    IF before IS NULL THEN
        RETURN jsonb_build_object('err', 'NOT_FOUND', 'message', 'no customer ' || cid);
    END IF;
    IF p_body->>'tracking_agent' IS NOT NULL THEN
        SELECT id INTO agent FROM principals WHERE name = p_body->>'tracking_agent' AND active;
        IF agent IS NULL THEN
            RETURN jsonb_build_object('err', 'NOT_FOUND',
                                      'message', 'no principal ' || (p_body->>'tracking_agent'));
        END IF;
    END IF;
    UPDATE customers SET
        name = CASE WHEN p_body ? 'name' THEN p_body->>'name' ELSE name END,
        phone = CASE WHEN p_body ? 'phone' THEN p_body->>'phone' ELSE phone END,
        address = CASE WHEN p_body ? 'address' THEN p_body->>'address' ELSE address END,
        tz = CASE WHEN p_body ? 'timezone' THEN coalesce(p_body->>'timezone', 'Asia/Shanghai')
                  ELSE tz END,
        region = CASE WHEN p_body ? 'region' THEN p_body->>'region' ELSE region END,
        team = CASE WHEN p_body ? 'team' THEN p_body->>'team' ELSE team END,
        tracking_agent = CASE WHEN p_body ? 'tracking_agent' THEN agent ELSE tracking_agent END,
        contacts = CASE WHEN p_body ? 'contacts' THEN coalesce(slad_jval(p_body, 'contacts'), '[]')
                        ELSE contacts END,
        sites = CASE WHEN p_body ? 'sites' THEN coalesce(slad_jval(p_body, 'sites'), '[]')
                     ELSE sites END,
        maintenance_cycle_months = CASE WHEN p_body ? 'maintenance_cycle_months'
                                        THEN (p_body->>'maintenance_cycle_months')::integer
                                        ELSE maintenance_cycle_months END,
        next_maintenance_date = CASE WHEN p_body ? 'next_maintenance_date'
                                     THEN (p_body->>'next_maintenance_date')::date
                                     ELSE next_maintenance_date END,
        wanted_service = CASE WHEN p_body ? 'wanted_service' THEN p_body->>'wanted_service'
                              ELSE wanted_service END,
        updated_at = now()
     WHERE id = cid;
    st := slad_customer_settle(cid, now_s);
    INSERT INTO audit (principal, verb, outcome, detail)
    VALUES (who, 'CUSTOMER_UPDATE', 'ok',
            jsonb_build_object('customer_id', cid, 'before', before, 'change', p_body - 'customer_id'));
    RETURN jsonb_build_object('customer_id', cid) || st;
END
$$;

-- CUSTOMER_SHOW's document; the daemon adds each contract's current end
-- from its ledger (inputs: "outages") and removes the inputs.
CREATE FUNCTION slad_customer_show(cid bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'customer_id', c.id, 'name', c.name, 'phone', c.phone, 'address', c.address,
        'timezone', c.tz, 'region', c.region, 'team', c.team,
        'tracking_agent', (SELECT p.name FROM principals p WHERE p.id = c.tracking_agent),
        'contacts', c.contacts, 'sites', c.sites,
        'maintenance_cycle_months', c.maintenance_cycle_months,
        'next_maintenance_date', to_char(c.next_maintenance_date, 'YYYY-MM-DD'),
        'wanted_service', c.wanted_service, 'provisional', c.provisional,
        'archive_complete', cardinality(slad_archive_missing(c.id)) = 0,
        'archive_missing', to_jsonb(slad_archive_missing(c.id)),
        'contracts', coalesce((SELECT jsonb_agg(slad_contract_terms(k) ORDER BY k.id)
                                 FROM contracts k WHERE k.customer_id = c.id), '[]'),
        'equipment', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'equipment_no', e.equipment_no, 'model', e.model, 'quantity', e.quantity,
                'purpose', e.purpose,
                'manufacture_date', to_char(e.manufactured_on, 'YYYY-MM-DD'),
                'purchase_date', to_char(e.purchased_on, 'YYYY-MM-DD'),
                'contract_id', e.contract_id, 'site', e.site,
                'tickets', (SELECT count(*) FROM tickets t WHERE t.equipment_id = e.id))
                ORDER BY e.equipment_no) FROM equipment e WHERE e.customer_id = c.id), '[]'),
        'tasks', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'task_id', tk.id, 'kind', tk.kind, 'status', tk.status,
                'ticket_id', tk.ticket_id, 'contract_id', tk.contract_id,
                'owner', (SELECT p.name FROM principals p WHERE p.id = tk.owner),
                'due_at', slad_utc_text(tk.due_at)) ORDER BY tk.due_at, tk.id)
              FROM tasks tk WHERE tk.customer_id = c.id AND tk.status = 'open'), '[]'),
        'tickets', (SELECT jsonb_build_object(
                'open', count(*) FILTER (WHERE t.state NOT IN ('closed', 'cancelled')),
                'total', count(*)) FROM tickets t WHERE t.customer_id = c.id),
        'outages', slad_outages_of(c.id, false))
      FROM customers c WHERE c.id = cid
$$;

-- What the daemon needs to compute a ledger for a customer's new contract
-- (CONTRACT_ADD answers its current end): the zone and the outages not
-- tied to another contract.  NULL: no such customer.
CREATE FUNCTION slad_customer_ledger_inputs(cid bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('customer_id', c.id, 'timezone', c.tz,
                              'outages', slad_outages_of(c.id, false))
      FROM customers c WHERE c.id = cid
$$;

-- ---- contracts ----

-- `computed` holds what the daemon worked out with libsla before this
-- statement (base_end_date, current_end_date ...): it becomes part of the
-- stored answer, so a replay says what the first answer said.
CREATE FUNCTION slad_contract_add(pid bigint, rid text, hash text, p_body jsonb, v_rounding text,
                                  computed jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    kid      bigint;
    v_answer jsonb;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM customers WHERE id = (p_body->>'customer_id')::bigint) THEN
        RETURN jsonb_build_object('err', 'NOT_FOUND',
                                  'message', 'no customer ' || (p_body->>'customer_id'));
    END IF;
    IF NOT EXISTS (SELECT 1 FROM policies
                    WHERE name = coalesce(p_body->>'policy', 'default')) THEN
        RETURN jsonb_build_object('err', 'NOT_FOUND',
                                  'message', 'no policy ' || coalesce(p_body->>'policy', 'default'));
    END IF;
    v_answer := slad_claim_request(pid, rid, hash);
    IF v_answer IS NOT NULL THEN
        RETURN v_answer;
    END IF;
    INSERT INTO contracts (customer_id, acceptance_date, free_months, rounding, hotline_contact,
                           number, policy_name, onsite_from)
    VALUES ((p_body->>'customer_id')::bigint, (p_body->>'accepted_date')::date,
            (p_body->>'free_months')::integer, v_rounding, p_body->>'hotline_contact',
            p_body->>'number', coalesce(p_body->>'policy', 'default'),
            coalesce(p_body->>'onsite_from', 'report'))
    RETURNING id INTO kid;
    v_answer := jsonb_build_object('contract_id', kid) || computed;
    RETURN slad_answer_request(pid, rid, v_answer);
END
$$;

-- CONTRACT_UPDATE.  A new hotline contact (S7) creates a contact_notice
-- task for the customer's tracking agent, due when the third calendar day
-- from the change (the change day counting as the first) ends in the
-- customer's zone -- slad's own clock (now_s) decides the day.  Every change
-- is audited with the terms before it.  Answers the terms after the change
-- and the outages, for the daemon to compute the current end.
CREATE FUNCTION slad_contract_update(p_body jsonb, v_rounding text, who text, now_s bigint)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    kid     bigint := (p_body->>'contract_id')::bigint;
    k       contracts;
    v_tz    text;
    agent   bigint;
    task    bigint;
    contact boolean;
BEGIN
    SELECT * INTO k FROM contracts WHERE id = kid FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('err', 'NOT_FOUND', 'message', 'no contract ' || kid);
    END IF;
    IF p_body->>'policy' IS NOT NULL AND NOT EXISTS (SELECT 1 FROM policies
                                                    WHERE name = p_body->>'policy') THEN
        RETURN jsonb_build_object('err', 'NOT_FOUND', 'message', 'no policy ' || (p_body->>'policy'));
    END IF;
    IF (p_body ? 'accepted_date' AND p_body->>'accepted_date' IS NULL)
       OR (p_body ? 'free_months' AND p_body->>'free_months' IS NULL) THEN
        RETURN jsonb_build_object('err', 'INVALID_FIELD',
                                  'message', 'accepted_date and free_months cannot be cleared');
    END IF;
    SELECT c.tz, c.tracking_agent INTO v_tz, agent FROM customers c WHERE c.id = k.customer_id;
    contact := p_body->>'hotline_contact' IS NOT NULL
               AND p_body->>'hotline_contact' IS DISTINCT FROM k.hotline_contact;
    UPDATE contracts SET
        acceptance_date = coalesce((p_body->>'accepted_date')::date, acceptance_date),
        free_months = coalesce((p_body->>'free_months')::integer, free_months),
        number = CASE WHEN p_body ? 'number' THEN p_body->>'number' ELSE number END,
        policy_name = CASE WHEN p_body ? 'policy' THEN coalesce(p_body->>'policy', 'default')
                           ELSE policy_name END,
        rounding = CASE WHEN p_body ? 'rounding' THEN coalesce(v_rounding, 'ceil')
                        ELSE rounding END,
        onsite_from = CASE WHEN p_body ? 'onsite_from' THEN coalesce(p_body->>'onsite_from', 'report')
                           ELSE onsite_from END,
        hotline_contact = CASE WHEN p_body ? 'hotline_contact' THEN p_body->>'hotline_contact'
                               ELSE hotline_contact END,
        updated_at = now()
     WHERE id = kid;
    IF contact THEN
        INSERT INTO tasks (kind, customer_id, contract_id, owner, due_at, data)
        VALUES ('contact_notice', k.customer_id, kid, agent,
                (((to_timestamp(now_s) AT TIME ZONE v_tz)::date + 3)::timestamp AT TIME ZONE v_tz),
                jsonb_build_object('previous_contact', k.hotline_contact,
                                   'hotline_contact', p_body->>'hotline_contact',
                                   'changed_at', slad_utc_text(to_timestamp(now_s))))
        RETURNING id INTO task;
    END IF;
    INSERT INTO audit (principal, verb, outcome, detail)
    VALUES (who, 'CONTRACT_UPDATE', 'ok',
            jsonb_build_object('contract_id', kid, 'before', slad_contract_terms(k),
                               'change', p_body - 'contract_id', 'task_id', task));
    RETURN jsonb_build_object('contract_id', kid, 'task_id', task, 'timezone', v_tz,
        'terms', (SELECT slad_contract_terms(c2) FROM contracts c2 WHERE c2.id = kid),
        'outages', slad_outages_of(k.customer_id, false));
END
$$;

-- WARRANTY's inputs: the terms, the zone and every revision of the
-- customer's outages.  NULL: no such contract.
CREATE FUNCTION slad_contract_ledger_inputs(kid bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('terms', slad_contract_terms(k), 'timezone', c.tz,
                              'customer_id', c.id, 'outages', slad_outages_of(c.id, true))
      FROM contracts k JOIN customers c ON c.id = k.customer_id WHERE k.id = kid
$$;

-- ---- equipment (S13) ----

CREATE FUNCTION slad_equipment_add(pid bigint, rid text, hash text, p_body jsonb, now_s bigint)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    cid      bigint := (p_body->>'customer_id')::bigint;
    owner    bigint;
    v_answer jsonb;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM customers WHERE id = cid) THEN
        RETURN jsonb_build_object('err', 'NOT_FOUND', 'message', 'no customer ' || cid);
    END IF;
    IF p_body->>'contract_id' IS NOT NULL THEN
        SELECT customer_id INTO owner FROM contracts WHERE id = (p_body->>'contract_id')::bigint;
        IF owner IS NULL THEN
            RETURN jsonb_build_object('err', 'NOT_FOUND',
                                      'message', 'no contract ' || (p_body->>'contract_id'));
        END IF;
        IF owner <> cid THEN
            RETURN jsonb_build_object('err', 'CONFLICT', 'message',
                'contract ' || (p_body->>'contract_id') || ' belongs to another customer');
        END IF;
    END IF;
    v_answer := slad_claim_request(pid, rid, hash);
    IF v_answer IS NOT NULL THEN
        RETURN v_answer;
    END IF;
    INSERT INTO equipment (customer_id, equipment_no, model, quantity, purpose, manufactured_on,
                           purchased_on, contract_id, site)
    VALUES (cid, p_body->>'equipment_no', p_body->>'model',
            coalesce((p_body->>'quantity')::integer, 1), p_body->>'purpose',
            (p_body->>'manufacture_date')::date, (p_body->>'purchase_date')::date,
            (p_body->>'contract_id')::bigint, p_body->>'site')
    ON CONFLICT (equipment_no) DO NOTHING
    RETURNING jsonb_build_object('equipment_no', equipment_no) INTO v_answer;
    IF v_answer IS NULL THEN
        -- An error stores nothing under the request_id (PROTOCOL.md).
        DELETE FROM requests WHERE principal_id = pid AND request_id = rid;
        RETURN jsonb_build_object('err', 'CONFLICT',
                                  'message', 'equipment ' || (p_body->>'equipment_no') || ' exists');
    END IF;
    PERFORM slad_customer_settle(cid, now_s);
    RETURN slad_answer_request(pid, rid, v_answer);
END
$$;

-- EQUIPMENT_UPDATE: null clears (quantity back to 1); a new owner must
-- own the contract named or kept.
CREATE FUNCTION slad_equipment_update(p_body jsonb, who text, now_s bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    e        equipment;
    cid      bigint;
    kid      bigint;
    k_owner  bigint;
BEGIN
    SELECT * INTO e FROM equipment WHERE equipment_no = p_body->>'equipment_no' FOR UPDATE;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('err', 'NOT_FOUND',
                                  'message', 'no equipment ' || (p_body->>'equipment_no'));
    END IF;
    cid := coalesce((p_body->>'customer_id')::bigint, e.customer_id);
    IF NOT EXISTS (SELECT 1 FROM customers WHERE id = cid) THEN
        RETURN jsonb_build_object('err', 'NOT_FOUND', 'message', 'no customer ' || cid);
    END IF;
    kid := CASE WHEN p_body ? 'contract_id' THEN (p_body->>'contract_id')::bigint ELSE e.contract_id END;
    IF kid IS NOT NULL THEN
        SELECT customer_id INTO k_owner FROM contracts WHERE id = kid;
        IF k_owner IS NULL THEN
            RETURN jsonb_build_object('err', 'NOT_FOUND', 'message', 'no contract ' || kid);
        END IF;
        IF k_owner <> cid THEN
            RETURN jsonb_build_object('err', 'CONFLICT', 'message',
                'contract ' || kid || ' belongs to another customer');
        END IF;
    END IF;
    UPDATE equipment SET
        customer_id = cid,
        model = CASE WHEN p_body ? 'model' THEN p_body->>'model' ELSE model END,
        quantity = CASE WHEN p_body ? 'quantity' THEN coalesce((p_body->>'quantity')::integer, 1)
                        ELSE quantity END,
        purpose = CASE WHEN p_body ? 'purpose' THEN p_body->>'purpose' ELSE purpose END,
        manufactured_on = CASE WHEN p_body ? 'manufacture_date'
                               THEN (p_body->>'manufacture_date')::date ELSE manufactured_on END,
        purchased_on = CASE WHEN p_body ? 'purchase_date'
                            THEN (p_body->>'purchase_date')::date ELSE purchased_on END,
        contract_id = kid,
        site = CASE WHEN p_body ? 'site' THEN p_body->>'site' ELSE site END,
        updated_at = now()
     WHERE id = e.id;
    PERFORM slad_customer_settle(cid, now_s);
    INSERT INTO audit (principal, verb, outcome, detail)
    VALUES (who, 'EQUIPMENT_UPDATE', 'ok',
            jsonb_build_object('equipment_no', e.equipment_no, 'before', to_jsonb(e),
                               'change', p_body - 'equipment_no'));
    RETURN jsonb_build_object('equipment_no', e.equipment_no);
END
$$;

-- ---- FEEDBACK (S14, S15) ----

-- Checks in PROTOCOL.md's order: the ticket, the engineer's team, the
-- request_id, then the task and the ticket's state (errors after the claim
-- release it).  The score goes to `feedback` and, as a note event, to the
-- ticket's history; the call task named is done.
CREATE FUNCTION slad_feedback(pid bigint, rid text, hash text, p_body jsonb, now_s bigint,
                              who_role text, who_team text, who_name text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    tid      bigint := (p_body->>'ticket_id')::bigint;
    v_task   bigint := (p_body->>'task_id')::bigint;
    t        record;
    tk       record;
    v_answer jsonb;
BEGIN
    SELECT tt.id, tt.state, tt.team, tt.customer_id, ap.name AS assignee INTO t
      FROM tickets tt LEFT JOIN principals ap ON ap.id = tt.assigned_to
     WHERE tt.id = tid FOR UPDATE OF tt;
    IF NOT FOUND THEN
        RETURN jsonb_build_object('err', 'NOT_FOUND', 'message', 'no ticket ' || tid);
    END IF;
    -- DESIGN.md: an engineer acts on tickets of their own team (or given
    -- to them, or not routed to any team) -- as the ticket verbs decide.
    IF who_role = 'engineer' AND t.team IS NOT NULL AND t.team <> ''
       AND t.team IS DISTINCT FROM who_team AND t.assignee IS DISTINCT FROM who_name THEN
        RETURN jsonb_build_object('err', 'FORBIDDEN',
                                  'message', 'ticket ' || tid || ' belongs to team ' || t.team);
    END IF;
    v_answer := slad_claim_request(pid, rid, hash);
    IF v_answer IS NOT NULL THEN
        RETURN v_answer;
    END IF;
    IF v_task IS NOT NULL THEN
        SELECT id, ticket_id, customer_id INTO tk FROM tasks WHERE id = v_task FOR UPDATE;
        IF NOT FOUND OR tk.customer_id <> t.customer_id
           OR (tk.ticket_id IS NOT NULL AND tk.ticket_id <> tid) THEN
            DELETE FROM requests WHERE principal_id = pid AND request_id = rid;
            RETURN jsonb_build_object('err', 'NOT_FOUND',
                                      'message', 'no task ' || v_task || ' for ticket ' || tid);
        END IF;
    END IF;
    IF t.state NOT IN ('restored', 'closed') THEN
        DELETE FROM requests WHERE principal_id = pid AND request_id = rid;
        RETURN jsonb_build_object('err', 'INVALID_TRANSITION',
                                  'message', 'FEEDBACK: the ticket is ' || t.state
                                             || ', not restored or closed');
    END IF;
    INSERT INTO feedback (ticket_id, task_id, score, comment, recorded_by, recorded_at)
    VALUES (tid, v_task, (p_body->>'score')::smallint, p_body->>'comment', pid,
            to_timestamp(now_s));
    INSERT INTO ticket_events (ticket_id, kind, at, actor, data)
    VALUES (tid, 'note', to_timestamp(now_s), pid,
            jsonb_strip_nulls(jsonb_build_object('feedback', true,
                'score', (p_body->>'score')::integer, 'comment', p_body->>'comment',
                'task_id', v_task, 'verb', 'FEEDBACK')));
    -- Readers that loaded the ticket before see that it changed.
    UPDATE tickets SET version = version + 1, updated_at = now() WHERE id = tid;
    IF v_task IS NOT NULL THEN
        UPDATE tasks SET status = 'done', done_at = to_timestamp(now_s)
         WHERE id = v_task AND status <> 'done';
    END IF;
    v_answer := jsonb_build_object('ticket_id', tid, 'score', (p_body->>'score')::integer,
                                   'recorded_at', slad_utc_text(to_timestamp(now_s)));
    RETURN slad_answer_request(pid, rid, v_answer);
END
$$;

-- ---- the ticket's view of its warranty (SHOW's charge, SET_CAUSE) ----

-- The inputs of the ledgers that decide whether a ticket's work is inside
-- the maintenance period (S10, S16) and whether correcting its cause moves
-- a period's end (S9): the zone, the fault instant (when the customer
-- asked, else when slad recorded it), the contracts that may cover the
-- ticket (the one its ticket or equipment names, else all of the
-- customer's) and the customer's outages.  SHOW (no principal) always gets
-- it; a change only for a restored or closed ticket with an outage, the
-- tickets SET_CAUSE may correct: elsewhere it decides nothing, and leaving
-- it out keeps the hot paths (ACKNOWLEDGE, RESTORE, ALERT resolve) light.
CREATE FUNCTION slad_ticket_warranty(tid bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'timezone', c.tz,
        'fault_at', slad_epoch(coalesce(t.requested_at, t.reported_at)),
        'contracts', coalesce((SELECT jsonb_agg(slad_contract_terms(k) ORDER BY k.id)
              FROM contracts k WHERE k.customer_id = t.customer_id
               AND k.id = coalesce(t.contract_id, e.contract_id, k.id)), '[]'),
        'outages', slad_outages_of(t.customer_id, false))
      FROM tickets t JOIN customers c ON c.id = t.customer_id
      LEFT JOIN equipment e ON e.id = t.equipment_id
     WHERE t.id = tid
$$;

-- slad_ticket_load() as the earlier migrations left it, plus "warranty"
-- (above).  Wrapping instead of rewriting keeps whatever an earlier
-- migration made of the base function; a later migration that replaces
-- slad_ticket_load must keep the "warranty" member (daemon/records.c reads
-- it for SHOW's charge and SET_CAUSE's warranty_revised).
ALTER FUNCTION slad_ticket_load(bigint, bigint, text) RENAME TO slad_ticket_load_base;

CREATE FUNCTION slad_ticket_load(tid bigint, pid bigint DEFAULT NULL, rid text DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT b.doc || jsonb_build_object('warranty',
               CASE WHEN pid IS NULL
                      OR ((b.doc->>'outage_started_at') IS NOT NULL
                          AND b.doc->>'state' IN ('restored', 'closed'))
                    THEN slad_ticket_warranty(tid) END)
      FROM (SELECT slad_ticket_load_base(tid, pid, rid) AS doc) b
$$;
