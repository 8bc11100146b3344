-- depends: 0002_stock_held
-- Every payment request the order service sent (oms.payments.v1), by its idempotency key.
CREATE TABLE payment_requests (
    request_id  text        PRIMARY KEY,
    order_id    text        NOT NULL REFERENCES orders ON DELETE CASCADE,
    type        text        NOT NULL,
    amount      numeric     NOT NULL,
    currency    text        NOT NULL,
    reason      text        NOT NULL,
    at          timestamptz NOT NULL
);
CREATE INDEX payment_requests_order ON payment_requests (order_id);
