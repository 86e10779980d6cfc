-- A dossier's sync history (SPEC 6): when it was first copied, and what later syncs changed among
-- its status, its APT dates and its presence on DS; at most 20 changes kept per dossier.
ALTER TABLE dossiers ADD COLUMN first_synced_at TEXT;

CREATE TABLE dossier_changes (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ds_id       BIGINT NOT NULL,
    at          TEXT NOT NULL,
    what        TEXT NOT NULL CHECK (what IN ('status', 'apt', 'deleted', 'restored')),
    before      TEXT,
    after       TEXT
);
CREATE INDEX dossier_changes_ds_id ON dossier_changes (ds_id, id);
