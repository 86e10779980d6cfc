-- The Alertes page filtered by rule or by département, oldest first, reads a page of its index
-- instead of sorting every open alert (SQLite, 316,000 open alerts: 165 ms → a few).
CREATE INDEX alerts_open_by_code ON alerts (code, opened_at, id) WHERE resolved_at IS NULL;
CREATE INDEX alerts_open_by_department ON alerts (department, opened_at, id) WHERE resolved_at IS NULL;
