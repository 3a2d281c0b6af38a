CREATE SCHEMA a;
CREATE SCHEMA b;
CREATE TABLE a.items (id int PRIMARY KEY, note text);
CREATE TABLE b.items (id int PRIMARY KEY, a_id int REFERENCES a.items (id));
CREATE INDEX items_a_id_idx ON b.items (a_id);
