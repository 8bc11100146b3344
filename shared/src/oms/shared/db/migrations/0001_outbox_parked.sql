-- depends: 0000_messaging_core
-- Outbox rows the broker refused for good (too large, say): kept with the error for an operator,
-- so one bad row never blocks the relay and nothing is dropped.
CREATE TABLE outbox_parked (
    id          bigint      PRIMARY KEY,
    topic       text        NOT NULL,
    key         text,
    payload     bytea       NOT NULL,
    headers     jsonb       NOT NULL,
    created_at  timestamptz NOT NULL,
    error       text        NOT NULL,
    parked_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
