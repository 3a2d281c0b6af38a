CREATE TABLE price$list (id int PRIMARY KEY, "amount$" numeric, cur$code text DEFAULT 'EUR');
CREATE INDEX price$list_amount ON price$list ("amount$", cur$code);
CREATE VIEW v$prices AS SELECT id, "amount$" FROM price$list;
CREATE SEQUENCE seq$a;
