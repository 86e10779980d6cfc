-- A monthly report's e-mail is sent once per (month, département, recipient), whatever its
-- subject says: the subject is for people and may be reworded. Both are empty on other e-mails;
-- a report's `report_department` is empty for the national one.
ALTER TABLE emails ADD COLUMN report_month TEXT;
ALTER TABLE emails ADD COLUMN report_department TEXT;
CREATE INDEX emails_report_month ON emails (report_month) WHERE report_month IS NOT NULL;

-- The reports recorded before: their key is read back from the only subject they ever had,
-- « Work in France : rapport mensuel de octobre 2026 (75 - Paris) », national when the place
-- is « France entière ». Without it, the next run would send every report of a month again.
WITH parsed AS (
    SELECT id,
           substr(rest, 1, instr(rest, ' (') - 1) AS label,
           substr(rest, instr(rest, ' (') + 2, length(rest) - instr(rest, ' (') - 2) AS place
    FROM (SELECT id, substr(subject, 37) AS rest FROM emails
          WHERE kind = 'monthly_report'
            AND subject LIKE 'Work in France : rapport mensuel de % (%)') AS reports
), keyed AS (
    SELECT id, place,
           substr(label, instr(label, ' ') + 1) || '-' ||
           CASE substr(label, 1, instr(label, ' ') - 1)
               WHEN 'janvier' THEN '01' WHEN 'février' THEN '02' WHEN 'mars' THEN '03'
               WHEN 'avril' THEN '04' WHEN 'mai' THEN '05' WHEN 'juin' THEN '06'
               WHEN 'juillet' THEN '07' WHEN 'août' THEN '08' WHEN 'septembre' THEN '09'
               WHEN 'octobre' THEN '10' WHEN 'novembre' THEN '11' WHEN 'décembre' THEN '12'
           END AS month
    FROM parsed
)
UPDATE emails
SET report_month = keyed.month,
    report_department = CASE WHEN keyed.place = 'France entière' THEN NULL ELSE keyed.place END
FROM keyed
WHERE emails.id = keyed.id AND keyed.month IS NOT NULL;
