CREATE EXTENSION postgres_fdw;
-- the wrapper's type changes: the server is made again, and its foreign table with it
CREATE SERVER remote TYPE 'pg' FOREIGN DATA WRAPPER postgres_fdw OPTIONS (dbname 'sales');
-- a column's type changes: the table (rows on the server) is made again, with the view
CREATE FOREIGN TABLE orders (id bigint, total numeric, placed date) SERVER remote;
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
CREATE TABLE local_copy (id integer);
