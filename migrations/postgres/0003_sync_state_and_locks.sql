-- Where each démarche's sync stands, so that an interrupted sync resumes where it stopped, and
-- named locks shared by every instance (two syncs never run at once).

CREATE TABLE sync_state (
    procedure_id    BIGINT NOT NULL,
    api_version     TEXT NOT NULL,
    since           TIMESTAMPTZ,   -- v2: `updatedSince` of the pass under way
    cursor          TEXT,          -- v2: the last `endCursor` stored
    pass_started_at TIMESTAMPTZ,   -- v2: when the pass under way began
    last_success_at TIMESTAMPTZ,
    PRIMARY KEY (procedure_id, api_version)
);

CREATE TABLE locks (
    name        TEXT PRIMARY KEY,
    holder      TEXT NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL   -- a crashed holder cannot keep a lock past this
);
