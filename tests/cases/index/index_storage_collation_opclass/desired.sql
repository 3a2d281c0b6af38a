CREATE TABLE t (id int PRIMARY KEY, name text, tags text[]);
CREATE INDEX t_name_idx ON t (name COLLATE "C" text_pattern_ops DESC) WITH (fillfactor = 80);
CREATE INDEX t_tags_idx ON t USING gin (tags) WITH (fastupdate = off);
CREATE INDEX t_name_hash ON t USING hash (name);
