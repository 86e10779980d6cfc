-- Personal data kept for a stated time (SPEC 14). An erased dossier keeps its statistical record
-- (`erased_at` says when the rest went); an accepted dossier deleted on DS whose APT has not ended
-- first keeps only what the validity check needs (`reduced_at`).
ALTER TABLE dossiers ADD COLUMN erased_at TEXT;
ALTER TABLE dossiers ADD COLUMN reduced_at TEXT;

-- What falls due, found without reading every dossier.
CREATE INDEX dossiers_retention_decided ON dossiers (processed_at)
    WHERE erased_at IS NULL AND status IN ('closed', 'refused', 'without_continuation');
CREATE INDEX dossiers_retention_deleted ON dossiers (deleted_on_ds_at)
    WHERE erased_at IS NULL AND deleted_on_ds_at IS NOT NULL;

-- An erased dossier leaves validity_check.json: its covering index says so.
DROP INDEX dossiers_validity_check;
CREATE INDEX dossiers_validity_check ON dossiers
    (ds_id, procedure_id, siret, prenom, nom, date_de_naissance, date_de_debut_apt, date_de_fin_apt)
    WHERE status = 'closed' AND erased_at IS NULL;

-- Each run of `wif purge`, with its counts per kind of data (never the erased values).
CREATE TABLE purge_runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    as_of       TEXT NOT NULL,
    dry_run     BOOLEAN NOT NULL,
    counts      TEXT NOT NULL
);
CREATE INDEX purge_runs_started_at ON purge_runs (started_at);

CREATE INDEX login_failures_failed_at ON login_failures (failed_at);

-- SQLite cannot change a CHECK: the access log is remade to accept the purge's line.
CREATE TABLE access_log_new (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT        NOT NULL,
    user_id     BIGINT REFERENCES users (id) ON DELETE SET NULL,
    username    TEXT NOT NULL,
    action      TEXT NOT NULL CHECK (action IN ('login', 'login_failed', 'logout', 'dossier_view',
                                                'prefecture_view', 'dossier_search',
                                                'alert_acknowledged', 'departments_changed',
                                                'purge')),
    ds_id       BIGINT,
    address     TEXT NOT NULL,
    detail      TEXT
);
INSERT INTO access_log_new (id, at, user_id, username, action, ds_id, address, detail)
    SELECT id, at, user_id, username, action, ds_id, address, detail FROM access_log;
DROP TABLE access_log;
ALTER TABLE access_log_new RENAME TO access_log;
CREATE INDEX access_log_at ON access_log (at);
