CREATE TABLE docs (id bigint PRIMARY KEY, status text DEFAULT 'draft', title text NOT NULL);
CREATE TABLE memos (recipient text) INHERITS (docs);
ALTER TABLE memos ALTER COLUMN status SET DEFAULT 'sent';
CREATE TABLE notes () INHERITS (docs);
