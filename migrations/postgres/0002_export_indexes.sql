-- Covering indexes for the two exports: an index-only scan reads a few dozen bytes per dossier
-- instead of the whole row with its champs and raw JSON (1,000,000 dossiers: ~1 s each).

CREATE INDEX dossiers_validity_check ON dossiers (ds_id)
    INCLUDE (procedure_id, siret, prenom, nom, date_de_naissance, date_de_debut_apt, date_de_fin_apt)
    WHERE status = 'closed';

CREATE INDEX dossiers_stats ON dossiers (created_at)
    INCLUDE (status, nationalite, initiated_at, processed_at, updated_at)
    WHERE deleted_on_ds_at IS NULL;
