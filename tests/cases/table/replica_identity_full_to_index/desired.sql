CREATE TABLE orders (id int NOT NULL, ref text NOT NULL, note text);
CREATE UNIQUE INDEX orders_ref_key2 ON orders (ref, id);
ALTER TABLE orders REPLICA IDENTITY USING INDEX orders_ref_key2;
