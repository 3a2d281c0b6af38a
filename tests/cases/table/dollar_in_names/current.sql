CREATE TABLE price$list (id int PRIMARY KEY, "amount$" numeric);
CREATE INDEX price$list_amount ON price$list ("amount$");
