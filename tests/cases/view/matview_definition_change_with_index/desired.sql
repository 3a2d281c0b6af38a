CREATE TABLE dtc (id int PRIMARY KEY, code text NOT NULL);
CREATE MATERIALIZED VIEW dtc_counts AS SELECT code, count(*) AS n, max(id) AS last_id FROM dtc GROUP BY code;
CREATE UNIQUE INDEX dtc_counts_code_idx ON dtc_counts (code);
COMMENT ON MATERIALIZED VIEW dtc_counts IS 'per code';
