CREATE EXTENSION postgres_fdw;
-- options change in place, a comment and a grant
CREATE SERVER remote VERSION '16' FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db2.example', dbname 'sales', fetch_size '500');
COMMENT ON SERVER remote IS 'the sales database';
GRANT USAGE ON FOREIGN SERVER remote TO PUBLIC;
CREATE SERVER archive TYPE 'postgresql' FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'archive');
CREATE FOREIGN TABLE orders (id bigint NOT NULL, total numeric) SERVER remote OPTIONS (table_name 'orders_v2', schema_name 'shop');
COMMENT ON FOREIGN TABLE orders IS 'orders, read from the sales database';
COMMENT ON COLUMN orders.total IS 'in euros';
GRANT SELECT ON orders TO PUBLIC;
CREATE FOREIGN TABLE archived (
    id bigint OPTIONS (column_name 'order_id') NOT NULL,
    note text COLLATE "C" DEFAULT 'none',
    CONSTRAINT archived_id_positive CHECK (id > 0)
) SERVER archive OPTIONS (table_name 'archived_orders');
CREATE VIEW all_orders AS SELECT id FROM orders UNION ALL SELECT id FROM archived;
-- options given out of order, and a generated column
CREATE FOREIGN TABLE readings (
    raw integer,
    doubled integer GENERATED ALWAYS AS (raw * 2) STORED
) SERVER remote OPTIONS (table_name 'readings', schema_name 'iot', updatable 'false');
