-- The admin's search ignores case and accents alike on both engines: each searched field has a
-- key folded by the back office (`domain::text::search_key`) when it writes the dossier, and
-- rows stored before are filled by `wif migrate`. Bytewise order ("C"), so that a prefix is a
-- range of the index.
ALTER TABLE dossiers ADD COLUMN nom_search TEXT COLLATE "C";
ALTER TABLE dossiers ADD COLUMN prenom_search TEXT COLLATE "C";
ALTER TABLE dossiers ADD COLUMN email_search TEXT COLLATE "C";

DROP INDEX dossiers_search_nom;
DROP INDEX dossiers_search_prenom;
DROP INDEX dossiers_search_email;

CREATE INDEX dossiers_nom_search ON dossiers (nom_search);
CREATE INDEX dossiers_prenom_search ON dossiers (prenom_search);
CREATE INDEX dossiers_email_search ON dossiers (email_search);
