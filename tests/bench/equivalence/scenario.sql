-- tests/bench/equivalence/scenario.sql - one run of the hot write paths
-- over every case their contracts name (see equivalence.sh).  Run against
-- a database at 005 (the row-by-row functions) and one at 007 (the
-- set-based ones); the output, rows included, must be the same.
\set ON_ERROR_STOP 1
\pset format unaligned
\pset tuples_only on
LISTEN slad_push;

INSERT INTO principals (id, name, role, tier, team, region) VALUES
    (1, 'hotline', 'hotline', NULL, NULL, NULL),
    (2, 'monitor', 'monitor', NULL, NULL, NULL),
    (3, 'eng-north', 'engineer', 'engineer', 'north', 'east'),
    (4, 'eng-north-2', 'engineer', 'engineer', 'north', 'east'),
    (5, 'lead-north', 'engineer', 'team_lead', 'north', 'east'),
    (6, 'rm-east', 'engineer', 'regional_manager', NULL, 'east'),
    (7, 'director', 'engineer', 'director', NULL, NULL),
    (8, 'eng-south', 'engineer', 'engineer', 'south', 'west'),
    (9, 'gone', 'engineer', 'director', NULL, NULL);
UPDATE principals SET active = false WHERE id = 9;
SELECT setval('principals_id_seq', 9);
INSERT INTO customers (id, name, phone, team, region) VALUES
    (1, 'North Hospital', '+86 1', 'north', 'east'),
    (2, 'South Mill', '+86 2', 'south', 'west'),
    (3, 'Nowhere Inc', '+86 3', NULL, NULL);
SELECT setval('customers_id_seq', 3);
UPDATE principals SET customer_id = 1 WHERE id = 2;
INSERT INTO equipment (id, customer_id, equipment_no) VALUES (1, 1, 'EQ-1'), (2, 2, 'EQ-2');
INSERT INTO policies (id, name, version, body) VALUES (1, 'default', 1, '{}');
INSERT INTO duty_rota (team, principal_id, from_at, to_at) VALUES
    ('north', 3, to_timestamp(1000000), to_timestamp(3000000)),
    ('north', 4, to_timestamp(1000000), to_timestamp(1500000)), -- off duty by then
    ('south', 8, to_timestamp(1000000), to_timestamp(1500000));
INSERT INTO subscriptions (principal_id, filters) VALUES
    (5, '{"max_level": 2}'),
    (6, '{"events": ["ESCALATION", "TASK"]}'),
    (7, '{"team": "south"}');

-- A report item as daemon/tickets.c new_ticket_item() writes it.
CREATE FUNCTION pg_temp.item(pid bigint, rid text, hash text, extra jsonb, lvl integer DEFAULT 2,
                             at bigint DEFAULT 2000000)
RETURNS jsonb LANGUAGE sql AS $$
    SELECT jsonb_build_object(
        'principal_id', pid, 'request_id', rid, 'body_hash', hash, 'type', 'fault',
        'level', lvl, 'classified_by', 'explicit', 'policy_id', 1, 'reported_at', at,
        'requested_at', at - 60,
        'clocks', jsonb_build_array(
            jsonb_build_object('clock', 'response', 'cycle', 1, 'state', 'running',
                'started_at', at, 'due_at', at + 3600, 'next_step', 0,
                'steps', jsonb_build_array(
                    jsonb_build_object('i', 0, 'kind', 'warning', 'tier', 'engineer',
                                       'permille', 500, 'at', at + 1800),
                    jsonb_build_object('i', 1, 'kind', 'warning', 'tier', 'engineer',
                                       'permille', 750, 'at', at + 2700),
                    jsonb_build_object('i', 2, 'kind', 'breach', 'tier', 'engineer',
                                       'permille', 1000, 'at', at + 3600),
                    jsonb_build_object('i', 3, 'kind', 'escalation', 'tier', 'team_lead',
                                       'permille', 1000, 'at', at + 4600),
                    jsonb_build_object('i', 4, 'kind', 'escalation', 'tier', 'regional_manager',
                                       'permille', 1000, 'at', at + 5600),
                    jsonb_build_object('i', 5, 'kind', 'escalation', 'tier', 'director',
                                       'permille', 1000, 'at', at + 9600))),
            jsonb_build_object('clock', 'onsite', 'cycle', 1, 'state', 'not_needed',
                               'steps', '[]'::jsonb, 'next_step', 0),
            jsonb_build_object('clock', 'restore', 'cycle', 1, 'state', 'running',
                'started_at', at, 'due_at', at + 14400, 'next_step', 0,
                'steps', jsonb_build_array(
                    jsonb_build_object('i', 0, 'kind', 'warning', 'tier', 'engineer',
                                       'permille', 900, 'at', at + 12960)))),
        'event_data', jsonb_build_object('classified_by', 'explicit', 'rules_id', 1,
                                         'policy_id', 1),
        'answer', jsonb_build_object('type', 'fault', 'level', lvl, 'state', 'reported',
                                     'reported_at', '1970-01-24T03:33:20Z',
                                     'due', jsonb_build_object('response', at + 3600)))
        || extra
$$;

-- slad_fire_due()'s result, its principals in order (a set: 003 lists
-- them in no promised order).
CREATE FUNCTION pg_temp.fire(now_s bigint, lim integer, late_s integer) RETURNS jsonb
LANGUAGE sql AS $$
    SELECT r || jsonb_build_object('principals',
                   (SELECT coalesce(jsonb_agg(p ORDER BY p::bigint), '[]')
                      FROM jsonb_array_elements(r->'principals') AS p))
      FROM (SELECT slad_fire_due(now_s, lim, late_s) AS r) f
$$;

\echo == batch 1: plain reports, errors, a provisional caller, an alert, in-batch replays
SELECT slad_report_batch(jsonb_build_array(
    pg_temp.item(1, 'a', 'ha', '{"customer_id": 1, "symptoms": "down", "outage_started_at": 1999940}'),
    pg_temp.item(1, 'b', 'hb', '{"customer_id": 2, "equipment_no": "EQ-2", "contact_name": "Li"}', 1),
    pg_temp.item(1, 'c', 'hc', '{"equipment_no": "EQ-1", "details": "by equipment"}', 3),
    pg_temp.item(1, 'd', 'hd', '{"customer_id": 99}'),
    pg_temp.item(1, 'e', 'he', '{"customer_id": 1, "equipment_no": "EQ-X"}'),
    pg_temp.item(1, 'f', 'hf', '{"customer_id": 1, "equipment_no": "EQ-2"}'),
    pg_temp.item(1, 'g', 'hg', '{"customer_name": "New Caller", "customer_phone": "+86 9"}'),
    pg_temp.item(1, 'h', 'hh', '{"customer_id": 3, "symptoms": "slow"}', 4),
    pg_temp.item(2, 'i', 'hi', '{"dedup_key": "fp-1", "symptoms": "alert", "alert_starts_at": 1999990, "outage_started_at": 1999990}', 1),
    pg_temp.item(1, 'k', 'hk', '{"customer_id": 1}'),
    pg_temp.item(1, 'k', 'hk', '{"customer_id": 1}'),
    pg_temp.item(1, 'm', 'hm', '{"customer_id": 2}'),
    pg_temp.item(1, 'm', 'hm-other', '{"customer_id": 2}'),
    pg_temp.item(3, 'a', 'ha3', '{"customer_id": 2}'),
    pg_temp.item(1, 'g2', 'hg2', '{"customer_name": "New Caller", "customer_phone": "+86 9"}'),
    pg_temp.item(1, 'n', 'hn', '{"customer_id": 1, "symptoms": "after the provisional"}')));

\echo == batch 2: all plain, one run
SELECT slad_report_batch(jsonb_build_array(
    pg_temp.item(1, 'p1', 'hp1', '{"customer_id": 1}', 1, 2000100),
    pg_temp.item(1, 'p2', 'hp2', '{"customer_id": 2, "outage_started_at": 2000050}', 2, 2000100),
    pg_temp.item(4, 'p1', 'hp1', '{"customer_id": 3}', 3, 2000100),
    pg_temp.item(1, 'p4', 'hp4', '{"customer_id": 77}', 3, 2000100)));

\echo == batch 3: empty
SELECT slad_report_batch('[]');

\echo == batch 4: only row-by-row items
SELECT slad_report_batch(jsonb_build_array(
    pg_temp.item(2, 'j', 'hj', '{"dedup_key": "fp-1", "symptoms": "alert", "alert_starts_at": 1999999}', 1)));

\echo == escalations: a clock with a step fired before (never twice)
INSERT INTO escalations (ticket_id, clock, step, cycle, kind, tier, reached, permille, due_at,
                         deadline_at, fired_at, late)
SELECT t.id, 'response', 0, 1, 'warning', 'engineer', 'engineer', 500, to_timestamp(2001800),
       to_timestamp(2003600), to_timestamp(2001801), false
  FROM tickets t JOIN requests r ON (r.answer->>'ticket_id')::bigint = t.id
 WHERE r.principal_id = 1 AND r.request_id = 'b';

\echo == escalations: two rows per call, some steps late, one on time
SELECT pg_temp.fire(2003605, 2, 5);
SELECT pg_temp.fire(2003605, 2, 5);
\echo == escalations: everything due at 2,006,000, in calls of 5 rows
SELECT pg_temp.fire(2006000, 5, 5);
SELECT pg_temp.fire(2006000, 5, 5);
SELECT pg_temp.fire(2006000, 5, 5);
SELECT pg_temp.fire(2006000, 5, 5);
SELECT pg_temp.fire(2006000, 5, 5);
\echo == escalations: a step exactly at now, not late
SELECT pg_temp.fire(2009600, 1000, 5);
SELECT pg_temp.fire(2012960, 1000, 5);
SELECT pg_temp.fire(2099999, 1000, 5);

\echo == batch 5: replays and a mismatch of ids claimed in earlier batches (last: draws ticket ids)
SELECT slad_report_batch(jsonb_build_array(
    pg_temp.item(1, 'a', 'ha', '{"customer_id": 1, "symptoms": "down", "outage_started_at": 1999940}'),
    pg_temp.item(1, 'b', 'hb-changed', '{"customer_id": 2}'),
    pg_temp.item(1, 'q', 'hq', '{"customer_id": 2}'),
    pg_temp.item(1, 'p1', 'hp1', '{"customer_id": 1}', 1, 2000100)));

\echo == rows
SELECT 'requests', principal_id, request_id, body_hash, answer FROM requests
 ORDER BY principal_id, request_id;
-- Ticket ids: batch 5's set-based replays draw ids they do not use, so
-- tickets are compared by the request that created them.
CREATE TEMP VIEW tid AS
    SELECT (r.answer->>'ticket_id')::bigint AS id, r.principal_id || '/' || r.request_id AS req
      FROM requests r WHERE r.answer ? 'ticket_id' AND NOT r.answer ? 'effect'
    UNION ALL
    SELECT (r.answer->>'ticket_id')::bigint, r.principal_id || '/' || r.request_id
      FROM requests r WHERE r.answer->>'effect' = 'created';
SELECT 'tickets', x.req, t.type, t.level, t.state, t.paused, t.cycle, t.customer_id,
       t.contract_id, t.equipment_id, t.policy_id, t.team, t.assigned_to, t.reported_at,
       t.requested_at, t.symptoms, t.details, t.contact_name, t.contact_phone, t.classified_by,
       t.dedup_key, t.alert_starts_at, t.occurrences, t.cause, t.outage_started_at,
       t.outage_ended_at, t.version, t.created_by
  FROM tickets t LEFT JOIN tid x ON x.id = t.id ORDER BY t.id;
SELECT 'customers', id, name, phone, provisional, team FROM customers ORDER BY id;
SELECT 'events', x.req, e.kind, e.at, e.level, e.actor, e.data
  FROM ticket_events e LEFT JOIN tid x ON x.id = e.ticket_id ORDER BY e.id;
SELECT 'clocks', x.req, k.clock, k.cycle, k.state, k.started_at, k.due_at, k.next_step,
       k.next_due_at, k.steps
  FROM clocks k LEFT JOIN tid x ON x.id = k.ticket_id ORDER BY x.req, k.clock;
SELECT 'outage_revisions', x.req, o.outage_no, o.cycle, o.customer_id, o.started_at, o.ended_at,
       o.cause, o.correction, e.kind, o.at
  FROM outage_revisions o LEFT JOIN tid x ON x.id = o.ticket_id
  LEFT JOIN ticket_events e ON e.id = o.event_id ORDER BY o.id;
SELECT 'outages', x.req, o.outage_no, o.started_at, o.ended_at, o.cause
  FROM outages o LEFT JOIN tid x ON x.id = o.ticket_id ORDER BY x.req, o.outage_no;
SELECT 'escalations', e.id, x.req, e.clock, e.step, e.cycle, e.kind, e.tier, e.reached,
       e.permille, e.due_at, e.deadline_at, e.fired_at, e.late
  FROM escalations e LEFT JOIN tid x ON x.id = e.ticket_id ORDER BY e.id;
-- The push body byte for byte (as text), ticket ids replaced by requests.
SELECT 'deliveries', d.principal_id, d.seq, d.event, d.escalation_id, x.req,
       (d.body - 'ticket_id')::text
  FROM deliveries d LEFT JOIN tid x ON x.id = (d.body->>'ticket_id')::bigint
 ORDER BY d.principal_id, d.seq;
SELECT 'principal_seq', principal_id, last_seq FROM principal_seq ORDER BY principal_id;
