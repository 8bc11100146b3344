-- depends: 0000_messaging_core
-- Orders as the channels sent them, their status and full timeline, and the catalogue projection.

CREATE TABLE orders (
    order_id          text        PRIMARY KEY,
    channel           text        NOT NULL,
    external_id       text        NOT NULL,
    status            text        NOT NULL,
    reason_code       text,
    reason_message    text,
    version           integer     NOT NULL,
    source_updated_at timestamptz,
    placed_at         timestamptz NOT NULL,
    currency          text        NOT NULL,
    total             numeric     NOT NULL,
    payment_status    text        NOT NULL,
    email_key         text        NOT NULL,
    address_key       text        NOT NULL,
    data              jsonb       NOT NULL,
    received_at       timestamptz NOT NULL,
    changed_at        timestamptz NOT NULL,
    -- The idempotency key of intake: three deliveries of one order make one row.
    UNIQUE (channel, external_id)
);
CREATE INDEX orders_status ON orders (status, received_at);
CREATE INDEX orders_channel ON orders (channel, received_at);
CREATE INDEX orders_email ON orders (email_key, placed_at);
CREATE INDEX orders_address ON orders (address_key, placed_at);

CREATE TABLE order_lines (
    order_id    text    NOT NULL REFERENCES orders ON DELETE CASCADE,
    line_no     integer NOT NULL,
    sku         text    NOT NULL,
    quantity    integer NOT NULL CHECK (quantity > 0),
    unit_price  numeric NOT NULL,
    PRIMARY KEY (order_id, line_no)
);

-- Every status change with its time, cause and correlation (the order's timeline).
CREATE TABLE order_timeline (
    id              bigserial   PRIMARY KEY,
    order_id        text        NOT NULL REFERENCES orders ON DELETE CASCADE,
    version         integer     NOT NULL,
    status          text        NOT NULL,
    previous_status text,
    reason_code     text,
    reason_message  text,
    at              timestamptz NOT NULL,
    cause_event_id  text,
    correlation_id  text,
    UNIQUE (order_id, version)
);

-- Events that asked for a move the transition table does not allow: kept for an operator, never applied.
CREATE TABLE parked_transitions (
    id              bigserial   PRIMARY KEY,
    order_id        text        NOT NULL,
    from_status     text,
    to_status       text        NOT NULL,
    cause           text        NOT NULL,
    cause_event_id  text,
    at              timestamptz NOT NULL
);

-- Operator commands by their idempotency key, with what became of them.
CREATE TABLE order_commands (
    command_id    text        PRIMARY KEY,
    order_id      text        NOT NULL,
    type          text        NOT NULL,
    requested_by  text        NOT NULL,
    outcome       text        NOT NULL,
    at            timestamptz NOT NULL
);

-- The catalogue projection: known SKUs and how each channel names them.
CREATE TABLE catalogue_products (
    sku         text        PRIMARY KEY,
    title       text        NOT NULL,
    active      boolean     NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE TABLE channel_listings (
    channel     text NOT NULL,
    product_id  text NOT NULL DEFAULT '',
    variant_id  text NOT NULL DEFAULT '',
    sku         text NOT NULL REFERENCES catalogue_products ON DELETE CASCADE,
    PRIMARY KEY (channel, product_id, variant_id)
);
CREATE INDEX channel_listings_sku ON channel_listings (sku);
