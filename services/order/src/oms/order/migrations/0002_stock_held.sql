-- depends: 0001_orders
-- Whether inventory holds stock for the order (a reservation that expired no longer does).
ALTER TABLE orders ADD COLUMN stock_held boolean NOT NULL DEFAULT false;
