-- depends: 0000_messaging_core
-- Stock per SKU per location, the movement ledger every figure can be recomputed from, reservations.

CREATE TABLE locations (
    code        text        PRIMARY KEY,
    created_at  timestamptz NOT NULL
);

CREATE TABLE stock (
    location       text    NOT NULL REFERENCES locations,
    sku            text    NOT NULL,
    on_hand        integer NOT NULL DEFAULT 0 CHECK (on_hand >= 0),
    reserved       integer NOT NULL DEFAULT 0 CHECK (reserved >= 0),
    bin            text,
    reorder_point  integer,
    PRIMARY KEY (location, sku),
    -- The database's own guard against overselling: never more reserved than on hand.
    CHECK (reserved <= on_hand)
);
CREATE INDEX stock_sku ON stock (sku);

-- Append-only: every change of on_hand or reserved, with what caused it.
CREATE TABLE movements (
    id              bigserial   PRIMARY KEY,
    at              timestamptz NOT NULL,
    location        text        NOT NULL,
    sku             text        NOT NULL,
    on_hand_delta   integer     NOT NULL,
    reserved_delta  integer     NOT NULL,
    kind            text        NOT NULL,
    reference       text,
    order_id        text
);
CREATE INDEX movements_sku ON movements (sku, location);

CREATE TABLE adjustments_applied (
    reference  text        PRIMARY KEY,
    at         timestamptz NOT NULL
);

-- One reservation per order; `active` holds stock, `released` does not.
CREATE TABLE reservations (
    order_id     text        PRIMARY KEY,
    status       text        NOT NULL,
    created_at   timestamptz NOT NULL,
    released_at  timestamptz
);
CREATE TABLE reservation_lines (
    order_id  text    NOT NULL REFERENCES reservations ON DELETE CASCADE,
    location  text    NOT NULL,
    sku       text    NOT NULL,
    quantity  integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, location, sku)
);

-- The version of each SKU's published level (oms.stock.levels.v1).
CREATE TABLE sku_levels (
    sku      text    PRIMARY KEY,
    version  integer NOT NULL
);
