-- 009_restore_warranty.sql - RESTORE states the days its outage adds to the
-- maintenance period (S9; PROTOCOL.md RESTORE, outage.extension_days).
--
-- slad_ticket_load() (005) brings the warranty view only where it decides
-- something, to keep the hot verbs light; a restore of a ticket with an
-- outage now asks for it with `ending`.  Dropped and made again because a
-- new defaulted parameter next to the old signature would be ambiguous.
-- It keeps 005's "warranty" member (daemon/records.c reads it).
DROP FUNCTION slad_ticket_load(bigint, bigint, text);

CREATE FUNCTION slad_ticket_load(tid bigint, pid bigint DEFAULT NULL, rid text DEFAULT NULL,
                                 ending boolean DEFAULT false)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
    SELECT b.doc || jsonb_build_object('warranty',
               CASE WHEN pid IS NULL
                      OR ((b.doc->>'outage_started_at') IS NOT NULL
                          AND (ending OR b.doc->>'state' IN ('restored', 'closed')))
                    THEN slad_ticket_warranty(tid) END)
      FROM (SELECT slad_ticket_load_base(tid, pid, rid) AS doc) b
$$;
