CREATE TABLE measures (id bigint PRIMARY KEY, amount bigint NOT NULL);
CREATE TABLE weights (unit text) INHERITS (measures);
CREATE VIEW heavy AS SELECT id, amount FROM weights WHERE amount > 100;
CREATE INDEX weights_amount_idx ON weights (amount);
