-- depends: 0001_stock
-- Orders waiting for stock (backordered), served oldest first when stock arrives.
CREATE TABLE backorders (
    order_id        text        PRIMARY KEY,
    lines           jsonb       NOT NULL,
    payment_status  text        NOT NULL,
    created_at      timestamptz NOT NULL,
    status          text        NOT NULL
);
CREATE INDEX backorders_waiting ON backorders (created_at) WHERE status = 'waiting';
CREATE INDEX reservation_lines_stock ON reservation_lines (location, sku);

-- The order reservations were made in ("newest first" when a count takes units); a reservation made
-- again takes a new number. Times alone tie within a batch.
ALTER TABLE reservations ADD COLUMN seq bigserial;

-- A reorder suggestion is raised once when available falls to the reorder point, and again only after
-- available has risen above it.
CREATE TABLE reorder_alerts (
    location  text NOT NULL,
    sku       text NOT NULL,
    PRIMARY KEY (location, sku)
);
