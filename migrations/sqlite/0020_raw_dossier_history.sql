-- A dossier's history keeps raw values, read back typed and formatted by the pages: APT dates
-- as `début/fin` in ISO 8601 (an unknown one empty) instead of `DD/MM/YYYY – DD/MM/YYYY` (`?`),
-- statuses as their codes. The sync wrote codes already; a label, should a row hold one,
-- becomes its code too. A value of neither shape is left as it is: reading it says so.
UPDATE dossier_changes SET before = CASE
        WHEN before GLOB '[0-9][0-9]/[0-9][0-9]/[0-9][0-9][0-9][0-9] – [0-9][0-9]/[0-9][0-9]/[0-9][0-9][0-9][0-9]'
            THEN substr(before, 7, 4) || '-' || substr(before, 4, 2) || '-' || substr(before, 1, 2)
                || '/' || substr(before, 20, 4) || '-' || substr(before, 17, 2) || '-' || substr(before, 14, 2)
        WHEN before GLOB '[?] – [0-9][0-9]/[0-9][0-9]/[0-9][0-9][0-9][0-9]'
            THEN '/' || substr(before, 11, 4) || '-' || substr(before, 8, 2) || '-' || substr(before, 5, 2)
        WHEN before GLOB '[0-9][0-9]/[0-9][0-9]/[0-9][0-9][0-9][0-9] – [?]'
            THEN substr(before, 7, 4) || '-' || substr(before, 4, 2) || '-' || substr(before, 1, 2) || '/'
        ELSE before END
    WHERE what = 'apt';
UPDATE dossier_changes SET after = CASE
        WHEN after GLOB '[0-9][0-9]/[0-9][0-9]/[0-9][0-9][0-9][0-9] – [0-9][0-9]/[0-9][0-9]/[0-9][0-9][0-9][0-9]'
            THEN substr(after, 7, 4) || '-' || substr(after, 4, 2) || '-' || substr(after, 1, 2)
                || '/' || substr(after, 20, 4) || '-' || substr(after, 17, 2) || '-' || substr(after, 14, 2)
        WHEN after GLOB '[?] – [0-9][0-9]/[0-9][0-9]/[0-9][0-9][0-9][0-9]'
            THEN '/' || substr(after, 11, 4) || '-' || substr(after, 8, 2) || '-' || substr(after, 5, 2)
        WHEN after GLOB '[0-9][0-9]/[0-9][0-9]/[0-9][0-9][0-9][0-9] – [?]'
            THEN substr(after, 7, 4) || '-' || substr(after, 4, 2) || '-' || substr(after, 1, 2) || '/'
        ELSE after END
    WHERE what = 'apt';
UPDATE dossier_changes SET
    before = CASE before
        WHEN 'Brouillon' THEN 'draft'
        WHEN 'En construction' THEN 'initiated'
        WHEN 'En instruction' THEN 'received'
        WHEN 'Accepté' THEN 'closed'
        WHEN 'Refusé' THEN 'refused'
        WHEN 'Sans suite' THEN 'without_continuation'
        ELSE before END,
    after = CASE after
        WHEN 'Brouillon' THEN 'draft'
        WHEN 'En construction' THEN 'initiated'
        WHEN 'En instruction' THEN 'received'
        WHEN 'Accepté' THEN 'closed'
        WHEN 'Refusé' THEN 'refused'
        WHEN 'Sans suite' THEN 'without_continuation'
        ELSE after END
    WHERE what = 'status';
