-- The monthly reports (SPEC 10) read a month's decisions from this index alone: an index-only
-- scan of a few dozen bytes per dossier instead of a heap page each (rows carry their champs and
-- raw JSON). Their queries repeat the condition below word for word.
CREATE INDEX dossiers_reports ON dossiers (processed_at)
    INCLUDE (status, department, nationalite, initiated_at, date_de_debut_apt, date_de_fin_apt,
             ds_id, procedure_id)
    WHERE deleted_on_ds_at IS NULL AND status IN ('closed', 'refused', 'without_continuation');
