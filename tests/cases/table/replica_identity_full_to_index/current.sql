CREATE TABLE orders (id int NOT NULL, ref text NOT NULL, note text);
CREATE UNIQUE INDEX orders_ref_key ON orders (ref);
ALTER TABLE orders REPLICA IDENTITY FULL;
