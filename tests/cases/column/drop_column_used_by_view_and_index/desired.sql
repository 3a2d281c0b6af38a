CREATE TABLE v (id int PRIMARY KEY, model text);
CREATE VIEW v_summary AS SELECT id, model FROM v;
