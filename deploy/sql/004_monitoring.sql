-- 004_monitoring.sql - monitoring systems in: HTTPS webhooks (Alertmanager,
-- PagerDuty Events API v2), flapping alerts, and the figures behind
-- /metrics and STATS (issue 7).

-- A monitoring principal is named by a bearer token (or the PagerDuty
-- routing key), stored as its SHA-256 (001 has the column).  A token names
-- one principal; it is set by the administrator in SQL, e.g.
--   UPDATE principals SET token_hash = sha256(convert_to('the-token', 'UTF8')),
--                         customer_id = 7
--    WHERE name = 'prometheus-east';
-- NOT VALID: rows written before this migration are not re-checked.
CREATE UNIQUE INDEX principals_token_hash ON principals (token_hash) WHERE token_hash IS NOT NULL;
ALTER TABLE principals ADD CONSTRAINT principals_token_hash_sha256
    CHECK (token_hash IS NULL OR length(token_hash) = 32) NOT VALID;
-- A monitor's customer: the customer its alerts belong to unless an alert
-- names one.
ALTER TABLE principals ADD CONSTRAINT principals_customer_fk
    FOREIGN KEY (customer_id) REFERENCES customers(id) NOT VALID;

-- What an ALERT needs to know before it is batched or applied: whether
-- this principal already used the request_id (then the batch or the change
-- replays it), and the ticket of the key -- the open one if any, else the
-- newest.  The daemon decides (tickets.c): a stale repeat of a resolved
-- occurrence changes nothing, a new start within the flap window after a
-- resolve reopens the ticket, anything else goes the usual way.  The
-- customer is resolved as slad_report_batch does: customer_id, else the
-- equipment's owner, else the monitor's customer.
CREATE FUNCTION slad_alert_lookup(cust bigint, equipment_no text, pid bigint, dedup text,
                                  rid text)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'claimed', EXISTS (SELECT 1 FROM requests r
                            WHERE r.principal_id = pid AND r.request_id = rid),
        'ticket', (SELECT jsonb_build_object(
                       'ticket_id', t.id, 'customer_id', t.customer_id, 'state', t.state,
                       'level', t.level, 'occurrence', t.occurrences,
                       'alert_starts_at', slad_epoch(t.alert_starts_at),
                       'ended_at', slad_epoch(coalesce(t.outage_ended_at, t.updated_at)))
                     FROM tickets t
                    WHERE t.customer_id = coalesce(cust,
                            (SELECT e.customer_id FROM equipment e
                              WHERE e.equipment_no = slad_alert_lookup.equipment_no),
                            (SELECT p.customer_id FROM principals p WHERE p.id = pid))
                      AND t.dedup_key = dedup
                    ORDER BY t.state NOT IN ('restored', 'closed', 'cancelled') DESC, t.id DESC
                    LIMIT 1))
$$;

-- A monitoring tool's "acknowledge" (PagerDuty event_action acknowledge):
-- only a person acknowledges a ticket (PROTOCOL.md), so it becomes a note
-- on the key's open ticket and stops no clock.  Creating, with the replay
-- rules of every creating request.  {"ticket_id", "effect": "noted"},
-- {"effect": "no_ticket"} when the key has no open ticket (nothing is
-- stored then), or {"err", "message"}.
CREATE FUNCTION slad_alert_note(cust bigint, pid bigint, dedup text, rid text, hash text,
                                note_data jsonb)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    tid      bigint;
    v_answer jsonb;
BEGIN
    SELECT t.id INTO tid FROM tickets t
     WHERE t.customer_id = coalesce(cust, (SELECT p.customer_id FROM principals p WHERE p.id = pid))
       AND t.dedup_key = dedup AND t.state NOT IN ('restored', 'closed', 'cancelled')
     FOR UPDATE;
    IF tid IS NULL THEN
        RETURN jsonb_build_object('effect', 'no_ticket');
    END IF;
    v_answer := slad_claim_request(pid, rid, hash);
    IF v_answer IS NOT NULL THEN
        RETURN v_answer;
    END IF;
    -- The ticket changed: a state change loaded before this retries on
    -- fresh facts (optimistic concurrency, slad_ticket_apply).
    UPDATE tickets SET version = version + 1, updated_at = now() WHERE id = tid;
    INSERT INTO ticket_events (ticket_id, kind, at, actor, data)
    VALUES (tid, 'note', now(), pid, note_data);
    v_answer := jsonb_build_object('ticket_id', tid, 'effect', 'noted');
    RETURN slad_answer_request(pid, rid, v_answer);
END
$$;

-- Everything /metrics and STATS report from PostgreSQL, in one round trip.
-- A running clock past its due instant counts as overdue.
CREATE FUNCTION slad_metrics() RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT jsonb_build_object(
        'tickets', coalesce((SELECT jsonb_agg(jsonb_build_object('state', state, 'level', level,
                                                                 'n', n))
                               FROM (SELECT state, level, count(*) AS n FROM tickets
                                      GROUP BY state, level) s), '[]'),
        'clocks', coalesce((SELECT jsonb_agg(jsonb_build_object('clock', clock, 'state', st,
                                                                'n', n))
                              FROM (SELECT k.clock,
                                           CASE WHEN k.state = 'running' AND k.due_at <= now()
                                                THEN 'overdue' ELSE k.state END AS st,
                                           count(*) AS n
                                      FROM clocks k
                                     WHERE k.state IN ('running', 'overdue', 'paused')
                                     GROUP BY 1, 2) s), '[]'),
        'escalations', coalesce((SELECT jsonb_agg(jsonb_build_object('kind', kind, 'n', n,
                                                                     'late', late))
                                   FROM (SELECT kind, count(*) AS n,
                                                count(*) FILTER (WHERE late) AS late
                                           FROM escalations GROUP BY kind) s), '[]'),
        'backlog', (SELECT count(*) FROM deliveries WHERE receipted_at IS NULL),
        'oldest_age', (SELECT extract(epoch FROM now() - min(created_at))::double precision
                         FROM deliveries WHERE receipted_at IS NULL))
$$;
