CREATE TABLE logs (id bigint NOT NULL, at date NOT NULL, line text, PRIMARY KEY (id, at));
CREATE INDEX logs_at_idx ON logs (at);
CREATE VIEW recent_logs AS SELECT id, line FROM logs WHERE at > '2026-06-01';
