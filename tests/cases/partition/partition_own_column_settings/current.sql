CREATE TABLE events (id bigint NOT NULL, kind text DEFAULT 'info', at date NOT NULL, note text) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events (kind DEFAULT 'audit', note NOT NULL) FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
COMMENT ON COLUMN events_2026.note IS 'required from 2026';
