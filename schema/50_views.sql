-- One row per vehicle: connection, open faults, running jobs.
CREATE VIEW vehicle_health AS
SELECT v.id,
       v.vin,
       v.model,
       v.connection_state,
       v.last_seen_at,
       (SELECT count(*) FROM fault_codes f WHERE f.vehicle_id = v.id AND (f.status & 1) = 1) AS active_fault_count,
       (SELECT count(*)
          FROM diagnostic_jobs j
          JOIN diagnostic_sessions s ON s.id = j.session_id
         WHERE s.vehicle_id = v.id AND j.state IN ('queued', 'running')) AS pending_job_count
  FROM vehicles v;

COMMENT ON VIEW vehicle_health IS 'Per-vehicle health summary for the dashboard';
