-- stats.json counted by the database (issue 19): each dossier's processing time, written with
-- the dossier (`Dossier::processing_ms`), and narrow indexes in place of dossiers_stats. Days and
-- months need no stored column: the export turns the local days and months of WIF_TIME_ZONE into
-- UTC bounds, so a change of time zone needs nothing here.
ALTER TABLE dossiers ADD COLUMN processing_ms BIGINT;

-- Existing rows, as `Dossier::processing_ms` computes it: EXTRACT(EPOCH …) is numeric
-- (PostgreSQL 14 and later, which migration 0008 already needs), so the difference is exact to
-- the microsecond, then truncated to the millisecond.
UPDATE dossiers SET processing_ms = CASE
    WHEN initiated_at IS NOT NULL AND processed_at IS NOT NULL
        THEN trunc((EXTRACT(EPOCH FROM processed_at) - EXTRACT(EPOCH FROM initiated_at)) * 1000)
    WHEN created_at IS NOT NULL AND updated_at IS NOT NULL
        THEN trunc((EXTRACT(EPOCH FROM updated_at) - EXTRACT(EPOCH FROM created_at)) * 1000)
END;

DROP INDEX dossiers_stats;

-- Counts by status and nationality, with the sums of processing times.
CREATE INDEX dossiers_stats_counts ON dossiers (status, nationalite) INCLUDE (processing_ms)
    WHERE deleted_on_ds_at IS NULL;
-- Counts by day and month of creation.
CREATE INDEX dossiers_stats_created ON dossiers (created_at) WHERE deleted_on_ds_at IS NULL;
-- Processing times of accepted dossiers by month of creation.
CREATE INDEX dossiers_stats_closed ON dossiers (created_at) INCLUDE (processing_ms)
    WHERE deleted_on_ds_at IS NULL AND status = 'closed';
