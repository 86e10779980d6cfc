-- A scheduled job under way says it is alive (SPEC 16): an instance killed during a job stops
-- saying so, and the next claim of that job closes the run as interrupted.
ALTER TABLE job_runs ADD COLUMN alive_at TEXT;
