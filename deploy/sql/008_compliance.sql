-- 008_compliance.sql - COMPLIANCE's reads (issue 6, "Compliance reports").
--
-- The report is computed in the daemon (daemon/compliance.c) with libsla:
-- met and breached clocks come from the deadline engine replaying each
-- ticket's history, exactly as SHOW shows them, and extension days from the
-- warranty ledger, exactly as WARRANTY states it.  PostgreSQL supplies the
-- inputs, a customer at a time and a page of tickets at a time, so that no
-- single statement or event-loop turn grows with the whole archive.
-- Nothing is written.  Instants travel as epoch seconds, as in 005.

-- The month filter reads tickets of one customer by report instant.
CREATE INDEX tickets_customer_reported ON tickets (customer_id, reported_at);

-- Unbounded ends of a month range, as instants: the calendar's first and
-- last second (libsla's SLA_CALENDAR_TIME_MIN/MAX).  A bound is always
-- given, so the range stays a plain index condition.
CREATE FUNCTION slad_compliance_lo(lo_s bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$ SELECT to_timestamp(coalesce(lo_s, -62135596800)) $$;
CREATE FUNCTION slad_compliance_hi(hi_s bigint) RETURNS timestamptz
LANGUAGE sql IMMUTABLE AS $$ SELECT to_timestamp(coalesce(hi_s, 253402300800)) $$;

-- The next customer the report covers, or NULL when there is none:
--   p_only given: that customer (NULL: no such customer, NOT_FOUND);
--   else the first customer after p_after with a ticket that is not
--   cancelled and was reported in [lo_s, hi_s) (NULL: unbounded) -- the
--   daemon widens the month range here by a day on each side, because the
--   exact bounds depend on the customer's zone, which it applies itself.
-- With it, what the ledgers need (005's inputs of WARRANTY): the zone, the
-- contracts' terms and the customer's outages as they stand.
-- plpgsql, not sql: two statements, each with a cached plan that uses the
-- indexes (one sql statement with "p_only IS NULL OR ..." was planned as a
-- scan of every ticket: 45 ms per customer over 100 000 tickets).
CREATE FUNCTION slad_compliance_customer(p_after bigint, p_only bigint, lo_s bigint, hi_s bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    cid bigint;
BEGIN
    IF p_only IS NOT NULL THEN
        cid := p_only;
    ELSE
        SELECT c.id INTO cid FROM customers c
         WHERE c.id > coalesce(p_after, 0)
           AND EXISTS (SELECT 1 FROM tickets t
                        WHERE t.customer_id = c.id
                          AND t.reported_at >= slad_compliance_lo(lo_s)
                          AND t.reported_at < slad_compliance_hi(hi_s)
                          AND t.state <> 'cancelled')
         ORDER BY c.id
         LIMIT 1;
    END IF;
    RETURN (SELECT jsonb_build_object(
                'customer_id', c.id, 'name', c.name, 'timezone', c.tz,
                'contracts', coalesce((SELECT jsonb_agg(slad_contract_terms(k) ORDER BY k.id)
                                         FROM contracts k WHERE k.customer_id = c.id), '[]'),
                'outages', slad_outages_of(c.id, false))
              FROM customers c WHERE c.id = cid);
END
$$;

-- A page of a customer's tickets for the report: not cancelled, of level
-- p_level (NULL: any), reported in [lo_s, hi_s) (the customer's months,
-- exact), with ids after p_after, at most p_limit, in id order.  Each
-- ticket carries what the deadline engine needs: type, level, policy and
-- its events as [kind, at, level] (fired escalation steps left out, as
-- SHOW leaves them out).  "policies" holds the bodies of the page's
-- policies by id, for the daemon's policy cache.  The customer's tickets in
-- the range are found by tickets_customer_reported first (MATERIALIZED),
-- then ordered: left to itself the planner walked the primary key in id
-- order, through every customer's tickets.
CREATE FUNCTION slad_compliance_tickets(cust bigint, p_after bigint, p_level integer,
                                        lo_s bigint, hi_s bigint, p_limit integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (
    WITH mine AS MATERIALIZED (
        SELECT t.id, t.type, t.level, t.policy_id, t.reported_at, t.state, t.requested_at,
               t.dedup_key
          FROM tickets t
         WHERE t.customer_id = cust
           AND t.reported_at >= slad_compliance_lo(lo_s)
           AND t.reported_at < slad_compliance_hi(hi_s)),
    page AS (
        SELECT m.* FROM mine m
         WHERE m.id > coalesce(p_after, 0) AND m.state <> 'cancelled'
           AND (p_level IS NULL OR m.level = p_level)
         ORDER BY m.id
         LIMIT p_limit)
    SELECT jsonb_build_object(
        'tickets', coalesce((SELECT jsonb_agg(jsonb_build_object(
                'id', p.id, 'type', p.type, 'level', p.level, 'policy_id', p.policy_id,
                'reported_at', slad_epoch(p.reported_at),
                -- A report's clocks run from requested_at when that is
                -- earlier (S3), as daemon/tickets.c replays them for SHOW.
                'events', coalesce((SELECT jsonb_agg(jsonb_build_array(e.kind,
                                          slad_epoch(CASE WHEN e.kind = 'reported'
                                                           AND p.dedup_key IS NULL
                                                           AND p.requested_at < e.at
                                                          THEN p.requested_at ELSE e.at END),
                                          e.level) ORDER BY e.id)
                                      FROM ticket_events e
                                     WHERE e.ticket_id = p.id AND e.kind <> 'escalated'), '[]'))
                ORDER BY p.id) FROM page p), '[]'),
        'policies', coalesce((SELECT jsonb_object_agg(pol.id, pol.body) FROM policies pol
                               WHERE pol.id IN (SELECT policy_id FROM page)), '{}')));
END
$$;
