-- The scheduled jobs of `wif serve`: one row per job and scheduled time. The instance that
-- inserts the row runs the job; the others see it taken. A crashed instance leaves its row
-- behind but holds nothing: the next time is a new row.

CREATE TABLE job_runs (
    job             TEXT NOT NULL,
    scheduled_for   TIMESTAMPTZ NOT NULL,
    holder          TEXT NOT NULL,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
    outcome         TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'success', 'failure')),
    error           TEXT,
    PRIMARY KEY (job, scheduled_for)
);
