CREATE TABLE events (id bigint NOT NULL, kind text DEFAULT 'notice', at date NOT NULL, note text) PARTITION BY RANGE (at);
CREATE TABLE events_2025 PARTITION OF events (kind DEFAULT 'legacy') FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE TABLE events_2026 PARTITION OF events (kind DEFAULT 'audit') FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
CREATE TABLE events_2027 PARTITION OF events (note NOT NULL DEFAULT '') FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
GRANT SELECT (note) ON events_2027 TO strata_case_reader;
