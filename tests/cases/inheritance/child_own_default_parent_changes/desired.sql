CREATE TABLE docs (id bigint PRIMARY KEY, status text DEFAULT 'new', title text NOT NULL, pages int DEFAULT 1);
CREATE TABLE memos (recipient text) INHERITS (docs);
ALTER TABLE memos ALTER COLUMN status SET DEFAULT 'sent';
ALTER TABLE memos ALTER COLUMN pages SET DEFAULT 0;
CREATE TABLE notes () INHERITS (docs);
COMMENT ON COLUMN notes.title IS 'a note''s title';
