-- depends: 0000_messaging_core
-- A table the tests' handlers write to: one row per applied effect, so duplicates would show.
CREATE TABLE effects (
    seq             bigserial PRIMARY KEY,
    event_id        text NOT NULL,
    label           text NOT NULL,
    correlation_id  text,
    causation_id    text,
    headers         jsonb
);
