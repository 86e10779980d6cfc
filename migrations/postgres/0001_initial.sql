-- The first schema of the Rust back office. Timestamps are UTC (TIMESTAMPTZ).

CREATE TABLE procedures (
    id          BIGINT PRIMARY KEY,            -- the DS démarche number
    label       TEXT,
    kind        TEXT NOT NULL DEFAULT 'authorization'
                CHECK (kind IN ('authorization', 'introduction')),
    created_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE dossiers (
    id                              BIGSERIAL PRIMARY KEY,
    ds_id                           BIGINT NOT NULL UNIQUE,
    procedure_id                    BIGINT NOT NULL REFERENCES procedures (id),
    status                          TEXT NOT NULL,
    created_at                      TIMESTAMPTZ,
    initiated_at                    TIMESTAMPTZ,
    received_at                     TIMESTAMPTZ,
    processed_at                    TIMESTAMPTZ,
    updated_at                      TIMESTAMPTZ,
    archived                        BOOLEAN NOT NULL DEFAULT FALSE,
    email                           TEXT,
    instructeurs                    JSONB NOT NULL DEFAULT '[]',
    siret                           TEXT,
    champs                          JSONB NOT NULL,
    department                      TEXT,
    nationalite                     TEXT,
    nom                             TEXT,
    prenom                          TEXT,
    date_de_naissance               DATE,
    date_de_debut_apt               DATE,
    date_de_fin_apt                 DATE,
    date_dexpiration_titre_sejour   DATE,
    warnings                        JSONB NOT NULL DEFAULT '[]',
    raw                             JSONB NOT NULL,
    api_version                     TEXT NOT NULL CHECK (api_version IN ('v1', 'v2')),
    deleted_on_ds_at                TIMESTAMPTZ,
    synced_at                       TIMESTAMPTZ NOT NULL
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
    id              BIGSERIAL PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    email           TEXT NOT NULL,
    password_hash   TEXT NOT NULL,
    is_superuser    BOOLEAN NOT NULL DEFAULT FALSE,
    is_active       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TIMESTAMPTZ NOT NULL,
    last_login_at   TIMESTAMPTZ
);

CREATE TABLE sessions (
    id_hash         TEXT PRIMARY KEY,              -- SHA-256 of the cookie value, never the value
    user_id         BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token      TEXT NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL,
    last_seen_at    TIMESTAMPTZ NOT NULL,
    expires_at      TIMESTAMPTZ NOT NULL
);

CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

CREATE TABLE sync_runs (
    id              BIGSERIAL PRIMARY KEY,
    started_at      TIMESTAMPTZ NOT NULL,
    finished_at     TIMESTAMPTZ,
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
    skipped_details JSONB NOT NULL DEFAULT '[]'
);

CREATE INDEX sync_runs_started_at ON sync_runs (started_at);
