CREATE TABLE orders (id int PRIMARY KEY);
CREATE TABLE refunds (id int PRIMARY KEY);
CREATE TABLE invoices (id int PRIMARY KEY);
CREATE PUBLICATION shop FOR TABLE orders, refunds, invoices WITH (publish = 'insert, update');
COMMENT ON PUBLICATION shop IS 'to the warehouse';
CREATE PUBLICATION empty_one;
