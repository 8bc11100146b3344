-- The messaging core's tables, created in every service's own schema.

-- Events to publish, written in the same transaction as the change they report (transactional outbox).
CREATE TABLE outbox (
    id          bigserial PRIMARY KEY,
    topic       text        NOT NULL,
    key         text,
    payload     bytea       NOT NULL,
    headers     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Ids of handled events, written with their effects (idempotent consumer).
CREATE TABLE inbox (
    consumer    text        NOT NULL,
    event_id    text        NOT NULL,
    handled_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);
CREATE INDEX inbox_handled_at ON inbox (handled_at);

-- Durable timers: expiries, retries with back-off, follow-ups. One per (kind, key).
CREATE TABLE timers (
    id          bigserial PRIMARY KEY,
    kind        text        NOT NULL,
    key         text        NOT NULL,
    due_at      timestamptz NOT NULL,
    payload     jsonb       NOT NULL DEFAULT '{}',
    attempts    integer     NOT NULL DEFAULT 0,
    last_error  text,
    UNIQUE (kind, key)
);
CREATE INDEX timers_due_at ON timers (due_at);
