-- stats.json counted by the database (issue 19): each dossier's processing time, written with
-- the dossier (`Dossier::processing_ms`), and narrow indexes in place of dossiers_stats. Days and
-- months need no stored column: the export turns the local days and months of WIF_TIME_ZONE into
-- UTC bounds, so a change of time zone needs nothing here.
ALTER TABLE dossiers ADD COLUMN processing_ms BIGINT;

-- Existing rows, as `Dossier::processing_ms` computes it. Timestamps are sqlx's text,
-- `2024-03-31T22:30:00.000500+00:00` (0, 3, 6 or 9 decimals): whole seconds from the first 19
-- characters, nanoseconds from the decimals, so that the difference is exact (julianday would
-- round to the millisecond), then truncated to the millisecond by the integer division.
UPDATE dossiers SET processing_ms = CASE
    WHEN initiated_at IS NOT NULL AND processed_at IS NOT NULL
        THEN ((unixepoch(substr(processed_at, 1, 19)) * 1000000000 + CASE WHEN substr(processed_at, 20, 1) = '.'
            THEN CAST(substr(substr(processed_at, 21, length(processed_at) - 26) || '000000000', 1, 9) AS INTEGER) ELSE 0 END)
            - (unixepoch(substr(initiated_at, 1, 19)) * 1000000000 + CASE WHEN substr(initiated_at, 20, 1) = '.'
            THEN CAST(substr(substr(initiated_at, 21, length(initiated_at) - 26) || '000000000', 1, 9) AS INTEGER) ELSE 0 END)) / 1000000
    WHEN created_at IS NOT NULL AND updated_at IS NOT NULL
        THEN ((unixepoch(substr(updated_at, 1, 19)) * 1000000000 + CASE WHEN substr(updated_at, 20, 1) = '.'
            THEN CAST(substr(substr(updated_at, 21, length(updated_at) - 26) || '000000000', 1, 9) AS INTEGER) ELSE 0 END)
            - (unixepoch(substr(created_at, 1, 19)) * 1000000000 + CASE WHEN substr(created_at, 20, 1) = '.'
            THEN CAST(substr(substr(created_at, 21, length(created_at) - 26) || '000000000', 1, 9) AS INTEGER) ELSE 0 END)) / 1000000
END;

DROP INDEX dossiers_stats;

-- No INCLUDE in SQLite: the columns go in the key.
-- Counts by status and nationality, with the sums of processing times.
CREATE INDEX dossiers_stats_counts ON dossiers (status, nationalite, processing_ms)
    WHERE deleted_on_ds_at IS NULL;
-- Counts by day and month of creation.
CREATE INDEX dossiers_stats_created ON dossiers (created_at) WHERE deleted_on_ds_at IS NULL;
-- Processing times of accepted dossiers by month of creation.
CREATE INDEX dossiers_stats_closed ON dossiers (created_at, processing_ms)
    WHERE deleted_on_ds_at IS NULL AND status = 'closed';
