CREATE EXTENSION postgres_fdw;
CREATE SERVER old_remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'old.example', dbname 'legacy');
CREATE SERVER remote FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'db.example', port '5432', dbname 'sales');
CREATE FOREIGN TABLE legacy_orders (id bigint) SERVER old_remote;
CREATE FOREIGN TABLE orders (id bigint NOT NULL, total numeric) SERVER remote OPTIONS (table_name 'orders');
