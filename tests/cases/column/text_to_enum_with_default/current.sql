CREATE TABLE jobs (id int PRIMARY KEY, state text NOT NULL DEFAULT 'queued');
