-- 002_ticket_functions.sql - the write paths of tickets, each one statement
-- (one implicit transaction, one round trip).  The daemon computes levels
-- and clocks with libsla and hands the results in as a jsonb parameter;
-- these functions only store them, atomically, with idempotency and
-- optimistic concurrency.  Nothing here is assembled from strings.

-- Instants travel as seconds since the epoch (bigint) inside jsonb.
CREATE FUNCTION slad_ts(v jsonb) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN v IS NULL OR jsonb_typeof(v) = 'null' THEN NULL
                ELSE to_timestamp((v #>> '{}')::bigint) END
$$;

CREATE FUNCTION slad_epoch(t timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$ SELECT floor(extract(epoch FROM t))::bigint $$;

-- plpgsql, not sql: its plans are cached per connection instead of made
-- again at every call (the ingest profile showed planning at 18 %).
CREATE FUNCTION slad_store_clocks(tid bigint, clocks jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM clocks WHERE ticket_id = tid;
    INSERT INTO clocks (ticket_id, clock, cycle, state, started_at, due_at, next_step, next_due_at)
    SELECT tid, c->>'clock', (c->>'cycle')::integer, c->>'state', slad_ts(c->'started_at'),
           slad_ts(c->'due_at'), (c->>'next_step')::integer, slad_ts(c->'next_due_at')
      FROM jsonb_array_elements(coalesce(clocks, '[]')) AS c;
END
$$;

-- REPORT and ALERT triggers, batched: one element of `items` per request,
-- one element of the result per item, in order: {"ok": answer} (with
-- "replay": true for a replay) or {"err": CODE, "message": text}.  An error
-- stores nothing.  Items with a dedup_key are monitoring alerts: one
-- unresolved ticket per (customer, dedup_key); an identical repeat changes
-- nothing, a new start time is a new occurrence of the same ticket.
CREATE FUNCTION slad_report_batch(items jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    item        jsonb;
    -- One element per item; an array appended to in place (a jsonb
    -- value would be copied whole at every item: quadratic in the batch).
    results     jsonb[] := '{}';
    cust_id     bigint;
    cust_team   text;
    provisional boolean;
    eq_id       bigint;
    eq_cust     bigint;
    existing    record;
    tid         bigint;
    v_answer      jsonb;
    pid         bigint;
    dedup       text;
    attempt     integer;
BEGIN
    FOR item IN SELECT value FROM jsonb_array_elements(items) LOOP
        cust_id := NULL; cust_team := NULL; provisional := false; eq_id := NULL;
        pid := (item->>'principal_id')::bigint;
        dedup := item->>'dedup_key';

        IF item->>'equipment_no' IS NOT NULL THEN
            SELECT e.id, e.customer_id INTO eq_id, eq_cust
              FROM equipment e WHERE e.equipment_no = item->>'equipment_no';
            IF NOT FOUND THEN
                results := array_append(results, jsonb_build_object('err', 'NOT_FOUND',
                    'message', 'no equipment ' || (item->>'equipment_no')));
                CONTINUE;
            END IF;
        END IF;

        -- S3: the customer named, else the equipment's owner, else a known
        -- phone, else a provisional customer from the caller's name and
        -- phone; a monitor's alerts default to the monitor's customer.
        IF item->>'customer_id' IS NOT NULL THEN
            SELECT c.id, c.team INTO cust_id, cust_team
              FROM customers c WHERE c.id = (item->>'customer_id')::bigint;
            IF NOT FOUND THEN
                results := array_append(results, jsonb_build_object('err', 'NOT_FOUND',
                    'message', 'no customer ' || (item->>'customer_id')));
                CONTINUE;
            END IF;
            IF eq_id IS NOT NULL AND eq_cust <> cust_id THEN
                results := array_append(results, jsonb_build_object('err', 'CONFLICT',
                    'message', 'equipment ' || (item->>'equipment_no') || ' belongs to another customer'));
                CONTINUE;
            END IF;
        ELSIF eq_id IS NOT NULL THEN
            SELECT c.id, c.team INTO cust_id, cust_team FROM customers c WHERE c.id = eq_cust;
        ELSIF item->>'customer_phone' IS NOT NULL THEN
            SELECT c.id, c.team INTO cust_id, cust_team FROM customers c
             WHERE c.phone = item->>'customer_phone' ORDER BY c.provisional, c.id LIMIT 1;
            provisional := NOT FOUND;
        ELSIF dedup IS NOT NULL THEN
            SELECT c.id, c.team INTO cust_id, cust_team
              FROM principals p JOIN customers c ON c.id = p.customer_id WHERE p.id = pid;
        END IF;
        IF cust_id IS NULL AND NOT provisional THEN
            results := array_append(results, jsonb_build_object('err', 'MISSING_FIELD',
                'message', CASE WHEN dedup IS NULL
                    THEN 'customer_id, equipment_no or customer_name with customer_phone is required'
                    ELSE 'customer_id or equipment_no is required (this monitor has no customer)' END));
            CONTINUE;
        END IF;

        v_answer := slad_claim_request(pid, item->>'request_id', item->>'body_hash');
        IF v_answer IS NOT NULL THEN
            results := array_append(results, CASE WHEN v_answer ? 'err' THEN v_answer
                                                         ELSE jsonb_build_object('ok', v_answer) END);
            CONTINUE;
        END IF;

        IF provisional THEN
            INSERT INTO customers (name, phone, provisional)
            VALUES (coalesce(item->>'customer_name', item->>'customer_phone'),
                    item->>'customer_phone', true)
            RETURNING id INTO cust_id;
        END IF;

        tid := NULL;
        v_answer := NULL;
        FOR attempt IN 1..2 LOOP
            IF dedup IS NOT NULL THEN
                SELECT t.id, t.state, t.level, t.alert_starts_at INTO existing FROM tickets t
                 WHERE t.customer_id = cust_id AND t.dedup_key = dedup
                   AND t.state NOT IN ('restored', 'closed', 'cancelled')
                   FOR UPDATE;
                IF FOUND THEN
                    IF existing.alert_starts_at IS DISTINCT FROM slad_ts(item->'alert_starts_at') THEN
                        UPDATE tickets SET occurrences = occurrences + 1,
                               alert_starts_at = slad_ts(item->'alert_starts_at'),
                               version = version + 1, updated_at = now()
                         WHERE id = existing.id;
                        INSERT INTO ticket_events (ticket_id, kind, at, actor, data)
                        VALUES (existing.id, 'note', slad_ts(item->'reported_at'), pid,
                                jsonb_build_object('occurrence', item->'alert_starts_at',
                                                   'summary', item->>'symptoms'));
                    END IF;
                    v_answer := jsonb_build_object('ticket_id', existing.id, 'customer_id', cust_id,
                        'state', existing.state, 'level', existing.level,
                        'effect', CASE WHEN existing.alert_starts_at
                                            IS DISTINCT FROM slad_ts(item->'alert_starts_at')
                                       THEN 'new_occurrence' ELSE 'unchanged' END,
                        'occurrence', (SELECT occurrences FROM tickets WHERE id = existing.id));
                    EXIT;
                END IF;
            END IF;
            INSERT INTO tickets (type, level, state, customer_id, equipment_id, policy_id, team,
                                 reported_at, requested_at, symptoms, details, contact_name,
                                 contact_phone, classified_by, dedup_key, alert_starts_at,
                                 outage_started_at, created_by)
            VALUES (item->>'type', (item->>'level')::smallint, 'reported', cust_id, eq_id,
                    (item->>'policy_id')::bigint, cust_team, slad_ts(item->'reported_at'),
                    slad_ts(item->'requested_at'), item->>'symptoms', item->>'details',
                    item->>'contact_name', item->>'contact_phone', item->>'classified_by',
                    dedup, slad_ts(item->'alert_starts_at'),
                    slad_ts(item->'outage_started_at'), pid)
            ON CONFLICT (customer_id, dedup_key)
               WHERE dedup_key IS NOT NULL AND state NOT IN ('restored', 'closed', 'cancelled')
               DO NOTHING
            RETURNING id INTO tid;
            EXIT WHEN tid IS NOT NULL;
            -- Another transaction opened the ticket for this key first:
            -- look again, it is committed now.
        END LOOP;

        IF tid IS NOT NULL THEN
            INSERT INTO ticket_events (ticket_id, kind, at, level, actor, data)
            VALUES (tid, 'reported', slad_ts(item->'reported_at'), (item->>'level')::smallint,
                    pid, coalesce(item->'event_data', '{}'));
            PERFORM slad_store_clocks(tid, item->'clocks');
            v_answer := jsonb_build_object('ticket_id', tid, 'customer_id', cust_id,
                                         'provisional_customer', provisional, 'team', cust_team)
                      || coalesce(item->'answer', '{}');
        ELSIF v_answer IS NULL THEN
            RAISE EXCEPTION 'dedup key % neither found nor inserted', dedup;
        END IF;
        PERFORM slad_answer_request(pid, item->>'request_id', v_answer);
        results := array_append(results, jsonb_build_object('ok', v_answer));
    END LOOP;
    RETURN to_jsonb(results);
END
$$;

-- The newest ticket of a monitoring alert's key, if any: the one a resolve
-- acts on (or finds already resolved).
CREATE FUNCTION slad_alert_ticket(cust bigint, equipment_no text, pid bigint, dedup text)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object('ticket_id', t.id, 'state', t.state, 'level', t.level,
                              'occurrence', t.occurrences)
      FROM tickets t
     WHERE t.customer_id = coalesce(cust,
             (SELECT e.customer_id FROM equipment e WHERE e.equipment_no = slad_alert_ticket.equipment_no),
             (SELECT p.customer_id FROM principals p WHERE p.id = pid))
       AND t.dedup_key = dedup
     ORDER BY t.id DESC LIMIT 1
$$;

-- Apply one change computed by the daemon, if nobody changed the ticket
-- since it was loaded (version).  {"ok": true, "version": n} or
-- {"conflict": true} (the daemon reloads and recomputes).
CREATE FUNCTION slad_ticket_apply(change jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    tid   bigint := (change->>'ticket_id')::bigint;
    patch jsonb := change->'patch';
    req   jsonb := change->'request';
    n     integer;
    v     integer;
BEGIN
    IF patch ? 'assigned_to' AND NOT EXISTS (SELECT 1 FROM principals
                                              WHERE name = patch->>'assigned_to' AND active) THEN
        RETURN jsonb_build_object('err', 'NOT_FOUND',
                                  'message', 'no active principal ' || (patch->>'assigned_to'));
    END IF;
    -- A ticket is given only to an engineer of its team (PROTOCOL.md ASSIGN).
    IF (patch->>'assign_strict')::boolean AND NOT EXISTS (
           SELECT 1 FROM principals p, tickets t
            WHERE p.name = patch->>'assigned_to' AND p.role = 'engineer'
              AND t.id = tid AND (t.team IS NULL OR p.team = t.team)) THEN
        RETURN jsonb_build_object('err', 'CONFLICT',
                                  'message', (patch->>'assigned_to') || ' is not an engineer of the ticket''s team');
    END IF;
    IF req IS NOT NULL THEN
        -- A creating verb (NOTE): claim its request_id; a concurrent or
        -- earlier claim sends the daemon back to reload and replay.
        INSERT INTO requests (principal_id, request_id, body_hash, answer)
        VALUES ((req->>'principal_id')::bigint, req->>'request_id', req->>'body_hash',
                coalesce(change->'answer', 'null'))
        ON CONFLICT DO NOTHING;
        GET DIAGNOSTICS n = ROW_COUNT;
        IF n = 0 THEN
            RETURN jsonb_build_object('conflict', true);
        END IF;
    END IF;
    UPDATE tickets SET
        state = patch->>'state',
        level = (patch->>'level')::smallint,
        paused = (patch->>'paused')::boolean,
        cycle = (patch->>'cycle')::integer,
        assigned_to = CASE WHEN patch ? 'assigned_to'
                           THEN (SELECT id FROM principals WHERE name = patch->>'assigned_to')
                           ELSE assigned_to END,
        cause = CASE WHEN patch ? 'cause' THEN patch->>'cause' ELSE cause END,
        outage_started_at = CASE WHEN patch ? 'outage_started_at'
                                 THEN slad_ts(patch->'outage_started_at') ELSE outage_started_at END,
        outage_ended_at = CASE WHEN patch ? 'outage_ended_at'
                               THEN slad_ts(patch->'outage_ended_at') ELSE outage_ended_at END,
        alert_starts_at = CASE WHEN patch ? 'alert_starts_at'
                               THEN slad_ts(patch->'alert_starts_at') ELSE alert_starts_at END,
        occurrences = occurrences + coalesce((patch->>'add_occurrences')::integer, 0),
        version = version + 1,
        updated_at = now()
     WHERE id = tid AND version = (change->>'version')::integer
    RETURNING version INTO v;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 0 THEN
        -- Somebody changed the ticket since it was loaded: undo the claim
        -- (a plpgsql RAISE would cost a subtransaction) and let the daemon
        -- reload and recompute.
        IF req IS NOT NULL THEN
            DELETE FROM requests WHERE principal_id = (req->>'principal_id')::bigint
                                   AND request_id = req->>'request_id';
        END IF;
        RETURN jsonb_build_object('conflict', true);
    END IF;
    INSERT INTO ticket_events (ticket_id, kind, at, level, actor, data)
    VALUES (tid, change->'event'->>'kind', slad_ts(change->'event'->'at'),
            (change->'event'->>'level')::smallint, (change->'event'->>'actor_id')::bigint,
            coalesce(change->'event'->'data', '{}'));
    IF change ? 'clocks' THEN
        PERFORM slad_store_clocks(tid, change->'clocks');
    END IF;
    RETURN jsonb_build_object('ok', true, 'version', v);
END
$$;

-- The request_id rules of every creating verb (PROTOCOL.md): claim the id
-- for this body.  NULL: claimed, go ahead (and store the answer later).
-- Otherwise the answer to give now: the first answer (a replay) or
-- IDEMPOTENCY_MISMATCH.  A concurrent claim waits for the other
-- transaction, then sees its committed answer.
CREATE FUNCTION slad_claim_request(pid bigint, rid text, hash text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    n     integer;
    prior record;
BEGIN
    INSERT INTO requests (principal_id, request_id, body_hash, answer)
    VALUES (pid, rid, hash, 'null') ON CONFLICT DO NOTHING;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n = 1 THEN
        RETURN NULL;
    END IF;
    SELECT r.body_hash, r.answer INTO prior FROM requests r
     WHERE r.principal_id = pid AND r.request_id = rid;
    IF prior.body_hash = hash THEN
        RETURN prior.answer || jsonb_build_object('replay', true);
    END IF;
    RETURN jsonb_build_object('err', 'IDEMPOTENCY_MISMATCH',
                              'message', 'request_id ' || rid || ' was used with a different body');
END
$$;

-- Store the answer of a claimed request_id.
CREATE FUNCTION slad_answer_request(pid bigint, rid text, answer jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE requests SET answer = slad_answer_request.answer
     WHERE principal_id = pid AND request_id = rid;
    RETURN answer;
END
$$;

-- PRINCIPAL_ADD.
CREATE FUNCTION slad_principal_add(pid bigint, rid text, hash text, body jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    v_answer jsonb := slad_claim_request(pid, rid, hash);
BEGIN
    IF v_answer IS NOT NULL THEN
        RETURN v_answer;
    END IF;
    INSERT INTO principals (name, role, tier, team, region, display_name, phone)
    VALUES (body->>'name', body->>'role', body->>'tier', body->>'team', body->>'region',
            body->>'display_name', body->>'phone')
    ON CONFLICT (name) DO NOTHING
    RETURNING jsonb_build_object('name', name, 'role', role, 'tier', tier, 'team', team,
                                 'region', region, 'active', active)
    INTO v_answer;
    IF v_answer IS NULL THEN
        DELETE FROM requests WHERE principal_id = pid AND request_id = rid;
        RETURN jsonb_build_object('err', 'CONFLICT',
                                  'message', 'principal ' || (body->>'name') || ' exists');
    END IF;
    RETURN slad_answer_request(pid, rid, v_answer);
END
$$;
