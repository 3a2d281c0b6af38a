CREATE TABLE v (id int PRIMARY KEY, model text, trim_level text);
CREATE INDEX v_trim_idx ON v (trim_level);
CREATE VIEW v_summary AS SELECT id, model, trim_level FROM v;
