-- DS webhooks (SPEC 12): each event once per (démarche, sequence), for deduplication and the
-- activity shown on the Synchronisation page.
CREATE TABLE webhook_events (
    procedure_id    BIGINT NOT NULL,
    sequence        BIGINT NOT NULL,
    event_type      TEXT NOT NULL,
    dossier_number  BIGINT,
    event_at        TEXT       ,
    received_at     TEXT        NOT NULL,
    PRIMARY KEY (procedure_id, sequence)
);
CREATE INDEX webhook_events_received_at ON webhook_events (received_at);
