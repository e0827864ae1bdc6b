-- 010_contract_terms.sql - a contract's service terms apply to its new
-- tickets: the SLA policy it names and where its on-site clock starts
-- (CONTRACT_ADD `policy`, `onsite_from`; S2, S4, S5).
--
-- libsla computes every ticket's clocks in the daemon before the ticket is
-- stored, with the default policy unless told otherwise; only here is the
-- customer (and so the contract) known for certain.  So the batch first
-- checks each item's policy against the terms of the contract that covers
-- it; an item computed under other terms is answered {"err": "TERMS",
-- "policy_id", "policy"} and stores nothing, and the daemon computes it
-- again under that policy and sends it once more.  Customers without a
-- contract, or with default terms, cost one lookup per item.
--
-- The terms a ticket runs under are one immutable policies row, so that
-- every later replay of its clocks (SHOW, changes, COMPLIANCE) uses the
-- same: the named policy's newest version, or -- when the contract's
-- on-site start differs from the policy's -- a derived row named
-- "<policy> (on-site from dispatch|report)" with that one setting changed.

-- The policies row in force for contract kid's tickets: {"id", "body"}.
CREATE FUNCTION slad_contract_policy(kid bigint) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    k        record;
    base     record;
    dispatch boolean;
    derived  text;
    body     jsonb;
    pid      bigint;
BEGIN
    SELECT policy_name, onsite_from INTO k FROM contracts WHERE id = kid;
    SELECT id, version, p.body INTO base FROM policies p
     WHERE name = k.policy_name ORDER BY version DESC LIMIT 1;
    IF base.id IS NULL THEN
        RETURN NULL; -- CONTRACT_ADD checked the name; nothing better to offer
    END IF;
    dispatch := k.onsite_from = 'dispatch';
    IF coalesce((base.body->>'onsite_from_dispatch')::boolean, false) = dispatch THEN
        RETURN jsonb_build_object('id', base.id, 'body', base.body);
    END IF;
    derived := k.policy_name || ' (on-site from ' || k.onsite_from || ')';
    body := base.body || jsonb_build_object('onsite_from_dispatch', dispatch);
    SELECT id INTO pid FROM policies WHERE name = derived AND version = base.version;
    IF pid IS NULL THEN
        INSERT INTO policies (name, version, body) VALUES (derived, base.version, body)
        ON CONFLICT (name, version) DO NOTHING
        RETURNING id INTO pid;
        IF pid IS NULL THEN -- a concurrent batch made it first
            SELECT id INTO pid FROM policies WHERE name = derived AND version = base.version;
        END IF;
    END IF;
    RETURN jsonb_build_object('id', pid, 'body', body);
END
$$;

-- One element per item: NULL when the item's policy is its contract's (or
-- it has no contract), else the TERMS answer.  The customer is found as
-- the batch finds it (S3): customer_id, the equipment's owner, a known
-- phone, a monitor's customer.  The contract: the one the equipment names,
-- else the customer's most recently accepted.
CREATE FUNCTION slad_report_terms(items jsonb) RETURNS jsonb[]
LANGUAGE plpgsql AS $$
BEGIN
    -- plpgsql keeps the plan for the connection; as an SQL function it was
    -- planned again for every batch (47 us for a one-report batch).
    RETURN (
    SELECT coalesce(array_agg(
               CASE WHEN t.want IS NOT NULL AND (t.want->>'id')::bigint IS DISTINCT FROM t.have
                    THEN jsonb_build_object('err', 'TERMS', 'policy_id', t.want->'id',
                                            'policy', t.want->'body')
               END ORDER BY t.ord), '{}')
      FROM (SELECT e.ord, (e.item->>'policy_id')::bigint AS have,
                   CASE WHEN k.id IS NOT NULL THEN slad_contract_policy(k.id) END AS want
              FROM jsonb_array_elements(items) WITH ORDINALITY AS e(item, ord)
              LEFT JOIN equipment eq ON eq.equipment_no = e.item->>'equipment_no'
              LEFT JOIN LATERAL (
                   SELECT coalesce((e.item->>'customer_id')::bigint, eq.customer_id,
                                   (SELECT c.id FROM customers c
                                     WHERE c.phone = e.item->>'customer_phone'
                                     ORDER BY c.provisional, c.id LIMIT 1),
                                   (SELECT p.customer_id FROM principals p
                                     WHERE p.id = (e.item->>'principal_id')::bigint
                                       AND e.item->>'dedup_key' IS NOT NULL)) AS id) cu
                ON true
              LEFT JOIN LATERAL (
                   SELECT kk.id FROM contracts kk
                    WHERE kk.customer_id = cu.id
                      AND (eq.contract_id IS NULL OR kk.id = eq.contract_id)
                    ORDER BY kk.id = eq.contract_id DESC NULLS LAST,
                             kk.acceptance_date DESC, kk.id DESC
                    LIMIT 1) k
                ON true) t);
END
$$;

-- The batch as before, for the items whose terms are right; the others are
-- answered TERMS in their places.
ALTER FUNCTION slad_report_batch(jsonb) RENAME TO slad_report_dispatch;

CREATE FUNCTION slad_report_batch(items jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    terms   jsonb[] := slad_report_terms(items);
    rest    jsonb;
    done    jsonb;
    results jsonb[] := '{}';
    k       integer := 0;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM unnest(terms) AS x WHERE x IS NOT NULL) THEN
        RETURN slad_report_dispatch(items);
    END IF;
    SELECT coalesce(jsonb_agg(e.item ORDER BY e.ord), '[]') INTO rest
      FROM jsonb_array_elements(items) WITH ORDINALITY AS e(item, ord)
     WHERE terms[e.ord] IS NULL;
    done := CASE WHEN jsonb_array_length(rest) > 0 THEN slad_report_dispatch(rest)
                 ELSE '[]' END;
    FOR i IN 1 .. cardinality(terms) LOOP
        IF terms[i] IS NOT NULL THEN
            results := array_append(results, terms[i]);
        ELSE
            results := array_append(results, done->k);
            k := k + 1;
        END IF;
    END LOOP;
    RETURN to_jsonb(results);
END
$$;
