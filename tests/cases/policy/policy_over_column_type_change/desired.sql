CREATE TABLE docs (id int PRIMARY KEY, level bigint);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_level ON docs USING (level < 3);
