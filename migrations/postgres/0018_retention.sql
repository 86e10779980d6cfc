-- Personal data kept for a stated time (SPEC 14). An erased dossier keeps its statistical record
-- (`erased_at` says when the rest went); an accepted dossier deleted on DS whose APT has not ended
-- first keeps only what the validity check needs (`reduced_at`).
ALTER TABLE dossiers ADD COLUMN erased_at TIMESTAMPTZ;
ALTER TABLE dossiers ADD COLUMN reduced_at TIMESTAMPTZ;

-- What falls due, found without reading every dossier.
CREATE INDEX dossiers_retention_decided ON dossiers (processed_at)
    WHERE erased_at IS NULL AND status IN ('closed', 'refused', 'without_continuation');
CREATE INDEX dossiers_retention_deleted ON dossiers (deleted_on_ds_at)
    WHERE erased_at IS NULL AND deleted_on_ds_at IS NOT NULL;

-- An erased dossier leaves validity_check.json: its covering index says so.
DROP INDEX dossiers_validity_check;
CREATE INDEX dossiers_validity_check ON dossiers (ds_id)
    INCLUDE (procedure_id, siret, prenom, nom, date_de_naissance, date_de_debut_apt, date_de_fin_apt)
    WHERE status = 'closed' AND erased_at IS NULL;

-- Each run of `wif purge`, with its counts per kind of data (never the erased values).
CREATE TABLE purge_runs (
    id          BIGSERIAL PRIMARY KEY,
    started_at  TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ NOT NULL,
    as_of       TIMESTAMPTZ NOT NULL,
    dry_run     BOOLEAN NOT NULL,
    counts      JSONB NOT NULL
);
CREATE INDEX purge_runs_started_at ON purge_runs (started_at);

CREATE INDEX login_failures_failed_at ON login_failures (failed_at);

ALTER TABLE access_log DROP CONSTRAINT access_log_action_check;
ALTER TABLE access_log ADD CONSTRAINT access_log_action_check CHECK (action IN
    ('login', 'login_failed', 'logout', 'dossier_view', 'prefecture_view', 'dossier_search',
     'alert_acknowledged', 'departments_changed', 'purge'));
