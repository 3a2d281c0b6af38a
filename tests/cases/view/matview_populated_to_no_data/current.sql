CREATE TABLE sales (id int, amount numeric);
CREATE MATERIALIZED VIEW sales_total AS SELECT sum(amount) AS total FROM sales;
CREATE MATERIALIZED VIEW sales_count AS SELECT count(*) AS n FROM sales WITH NO DATA;
