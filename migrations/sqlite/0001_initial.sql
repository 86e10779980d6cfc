-- The first schema of the Rust back office. Timestamps are UTC, stored as RFC 3339 text.

CREATE TABLE procedures (
    id          BIGINT PRIMARY KEY,            -- the DS démarche number
    label       TEXT,
    kind        TEXT NOT NULL DEFAULT 'authorization'
                CHECK (kind IN ('authorization', 'introduction')),
    created_at  TEXT NOT NULL
);

CREATE TABLE dossiers (
    id                              INTEGER PRIMARY KEY AUTOINCREMENT,
    ds_id                           BIGINT NOT NULL UNIQUE,
    procedure_id                    BIGINT NOT NULL REFERENCES procedures (id),
    status                          TEXT NOT NULL,
    created_at                      TEXT,
    initiated_at                    TEXT,
    received_at                     TEXT,
    processed_at                    TEXT,
    updated_at                      TEXT,
    archived                        INTEGER NOT NULL DEFAULT 0,
    email                           TEXT,
    instructeurs                    TEXT NOT NULL DEFAULT '[]',
    siret                           TEXT,
    champs                          TEXT NOT NULL,
    department                      TEXT,
    nationalite                     TEXT,
    nom                             TEXT,
    prenom                          TEXT,
    date_de_naissance               TEXT,
    date_de_debut_apt               TEXT,
    date_de_fin_apt                 TEXT,
    date_dexpiration_titre_sejour   TEXT,
    warnings                        TEXT NOT NULL DEFAULT '[]',
    raw                             TEXT NOT NULL,
    api_version                     TEXT NOT NULL CHECK (api_version IN ('v1', 'v2')),
    deleted_on_ds_at                TEXT,
    synced_at                       TEXT NOT NULL
);

CREATE INDEX dossiers_procedure_id ON dossiers (procedure_id);
CREATE INDEX dossiers_status ON dossiers (status);
CREATE INDEX dossiers_department ON dossiers (department);
CREATE INDEX dossiers_created_at ON dossiers (created_at);
CREATE INDEX dossiers_nationalite ON dossiers (nationalite);
CREATE INDEX dossiers_nom ON dossiers (nom);
CREATE INDEX dossiers_date_de_debut_apt ON dossiers (date_de_debut_apt);
CREATE INDEX dossiers_date_de_fin_apt ON dossiers (date_de_fin_apt);
CREATE INDEX dossiers_date_dexpiration_titre_sejour ON dossiers (date_dexpiration_titre_sejour);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    username        TEXT NOT NULL UNIQUE,
    email           TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    is_superuser    INTEGER NOT NULL DEFAULT 0,
    is_active       INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    last_login_at   TEXT
);

CREATE TABLE sessions (
    id_hash         TEXT PRIMARY KEY,              -- SHA-256 of the cookie value, never the value
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token      TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    last_seen_at    TEXT NOT NULL,
    expires_at      TEXT NOT NULL
);

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE sync_runs (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at      TEXT NOT NULL,
    finished_at     TEXT,
    procedure_id    BIGINT,
    api_version     TEXT NOT NULL,
    requests        BIGINT NOT NULL DEFAULT 0,
    pages           BIGINT NOT NULL DEFAULT 0,
    seen            BIGINT NOT NULL DEFAULT 0,
    created         BIGINT NOT NULL DEFAULT 0,
    updated         BIGINT NOT NULL DEFAULT 0,
    unchanged       BIGINT NOT NULL DEFAULT 0,
    skipped         BIGINT NOT NULL DEFAULT 0,
    marked_deleted  BIGINT NOT NULL DEFAULT 0,
    outcome         TEXT NOT NULL DEFAULT 'running'
                    CHECK (outcome IN ('running', 'success', 'failure')),
    error           TEXT,
    skipped_details TEXT NOT NULL DEFAULT '[]'
);

CREATE INDEX sync_runs_started_at ON sync_runs (started_at);
