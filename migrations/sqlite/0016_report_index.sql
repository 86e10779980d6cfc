-- The monthly reports (SPEC 10) read a month's decisions from this index alone (a covering
-- index: SQLite has no INCLUDE), instead of each dossier's row with its champs and raw JSON.
-- `deleted_on_ds_at`, always empty here, is listed so that SQLite sees the index covers the
-- queries' condition on it; they name the index (`INDEXED BY`), which the planner would pass
-- over for a narrower one.
CREATE INDEX dossiers_reports ON dossiers (processed_at, status, department, nationalite,
    initiated_at, date_de_debut_apt, date_de_fin_apt, ds_id, procedure_id, deleted_on_ds_at)
    WHERE deleted_on_ds_at IS NULL;
