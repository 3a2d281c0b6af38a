CREATE TABLE docs (id int PRIMARY KEY, level int);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
CREATE POLICY docs_level ON docs USING (level < 3);
