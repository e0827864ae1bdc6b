-- 001_core.sql - the system of record (DESIGN.md "Where truth lives").
-- Applied once by slad at start-up under schema_migrations.
-- Instants are timestamptz (UTC on the wire); calendar things are dates in
-- the customer's IANA zone.

CREATE TABLE principals (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,          -- the client certificate's CN
    role        text NOT NULL CHECK (role IN ('hotline', 'engineer', 'monitor', 'admin')),
    tier        text CHECK (tier IN ('engineer', 'team_lead', 'regional_manager', 'director')),
    team        text,
    region      text,
    token_hash  bytea,                         -- SHA-256 of a bearer token (HTTPS ingest)
    customer_id bigint,                        -- a monitor's customer (set after customers exist)
    display_name text,
    phone       text,
    active      boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Versioned SLA policies: a new version is a new row; tickets remember which
-- version computed their deadlines.
CREATE TABLE policies (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL,
    version     integer NOT NULL,
    body        jsonb NOT NULL,
    created_by  bigint REFERENCES principals(id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (name, version)
);

-- Versioned severity classification rules (S1); the newest row is in force.
CREATE TABLE classification_rules (
    id          bigserial PRIMARY KEY,
    body        jsonb NOT NULL,
    created_by  bigint REFERENCES principals(id),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE customers (
    id              bigserial PRIMARY KEY,
    name            text NOT NULL,
    phone           text,
    address         text,
    contacts        jsonb NOT NULL DEFAULT '[]',
    tz              text NOT NULL DEFAULT 'Asia/Shanghai',
    region          text,
    team            text,                      -- the team whose engineers serve it
    tracking_agent  bigint REFERENCES principals(id),   -- S14
    provisional     boolean NOT NULL DEFAULT false,     -- created by the hotline (S3)
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_phone ON customers (phone);
CREATE INDEX customers_name ON customers (lower(name));

CREATE TABLE contracts (
    id               bigserial PRIMARY KEY,
    customer_id      bigint NOT NULL REFERENCES customers(id),
    acceptance_date  date NOT NULL,                       -- S8
    free_months      integer NOT NULL CHECK (free_months > 0),
    policy_id        bigint REFERENCES policies(id),
    rounding         text NOT NULL DEFAULT 'ceil' CHECK (rounding IN ('ceil', 'floor', 'exact')),
    hotline_contact  text,                                -- S7
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE equipment (
    id             bigserial PRIMARY KEY,
    customer_id    bigint NOT NULL REFERENCES customers(id),
    equipment_no   text NOT NULL UNIQUE,                  -- S13
    model          text,
    kind           text,
    purpose        text,
    quantity       integer NOT NULL DEFAULT 1,
    manufactured_on date,
    purchased_on   date,
    created_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tickets (
    id              bigserial PRIMARY KEY,
    type            text NOT NULL,
    level           smallint NOT NULL CHECK (level BETWEEN 1 AND 4),
    state           text NOT NULL,
    paused          boolean NOT NULL DEFAULT false,
    cycle           integer NOT NULL DEFAULT 1,
    customer_id     bigint NOT NULL REFERENCES customers(id),
    contract_id     bigint REFERENCES contracts(id),
    equipment_id    bigint REFERENCES equipment(id),
    policy_id       bigint REFERENCES policies(id),
    team            text,
    assigned_to     bigint REFERENCES principals(id),
    reported_at     timestamptz NOT NULL,
    requested_at    timestamptz,                          -- S3: time service was requested
    symptoms        text,
    details         text,
    contact_name    text,
    contact_phone   text,
    classified_by   text NOT NULL,                        -- which rule decided the level (S1)
    dedup_key       text,                                 -- monitoring alerts
    alert_starts_at timestamptz,                          -- the occurrence being tracked
    occurrences     integer NOT NULL DEFAULT 1,           -- alert occurrences folded in
    cause           text,                                 -- S9: set at restore or close
    outage_started_at timestamptz,                        -- S9: downtime interval
    outage_ended_at timestamptz,
    version         integer NOT NULL DEFAULT 1,           -- optimistic concurrency
    created_by      bigint NOT NULL REFERENCES principals(id),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tickets_customer ON tickets (customer_id);
CREATE INDEX tickets_state ON tickets (state) WHERE state NOT IN ('closed', 'cancelled');
-- One unresolved ticket per monitoring dedup key and customer: a restored
-- ticket no longer absorbs new occurrences of its alert.
CREATE UNIQUE INDEX tickets_open_dedup ON tickets (customer_id, dedup_key)
    WHERE dedup_key IS NOT NULL AND state NOT IN ('restored', 'closed', 'cancelled');

-- Append-only history; the ticket row is a projection of it.
CREATE TABLE ticket_events (
    id          bigserial PRIMARY KEY,
    ticket_id   bigint NOT NULL REFERENCES tickets(id),
    kind        text NOT NULL,
    at          timestamptz NOT NULL,
    level       smallint,
    actor       bigint REFERENCES principals(id),
    data        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

-- One pending row per (ticket, clock): its next due step (DESIGN.md "Time").
CREATE TABLE clocks (
    ticket_id    bigint NOT NULL REFERENCES tickets(id),
    clock        text NOT NULL CHECK (clock IN ('response', 'onsite', 'restore')),
    cycle        integer NOT NULL,
    state        text NOT NULL,
    started_at   timestamptz,
    due_at       timestamptz,
    next_step    integer,
    next_due_at  timestamptz,
    PRIMARY KEY (ticket_id, clock)
);
CREATE INDEX clocks_next_due ON clocks (next_due_at) WHERE next_due_at IS NOT NULL;

-- Idempotency: a creating request's answer, per principal and request_id.
CREATE TABLE requests (
    principal_id  bigint NOT NULL REFERENCES principals(id),
    request_id    text NOT NULL,
    body_hash     text NOT NULL,
    answer        jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal_id, request_id)
);

-- Refusals and administrative changes (DESIGN.md "Identity and roles").
CREATE TABLE audit (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    principal   text,
    verb        text NOT NULL,
    outcome     text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'
);
