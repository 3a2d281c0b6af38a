CREATE TABLE docs (id int PRIMARY KEY, owner text);
ALTER TABLE docs ENABLE ROW LEVEL SECURITY;
ALTER TABLE docs FORCE ROW LEVEL SECURITY;
COMMENT ON TABLE docs IS 'documents, visible to their owner';
