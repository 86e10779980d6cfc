//! The national table of a report as CSV for French spreadsheets: UTF-8 with a byte order
//! mark, `;` between fields, CRLF line ends, decimals with a comma. Text cells cannot be
//! formulas: see `text_cell`, the one rule for every CSV file the program writes.

use super::{COLUMNS, counts, decimal, department_name};
use crate::domain::report::{Figures, Report};

pub const CONTENT_TYPE: &str = "text/csv; charset=utf-8";

/// The file's bytes: the header, one line per département, then the total.
pub fn national_table(report: &Report) -> Vec<u8> {
    let mut out = String::from("\u{feff}");
    line(&mut out, COLUMNS.iter().map(|c| (*c).to_owned()));
    for row in &report.departments {
        let name = department_name(row.department.as_deref());
        line(&mut out, values(name, &row.figures));
    }
    line(&mut out, values("Total", &report.total));
    out.into_bytes()
}

fn values(name: &str, figures: &Figures) -> impl Iterator<Item = String> {
    let median = figures.median_days().map(decimal).unwrap_or_default();
    std::iter::once(text_cell(name))
        .chain(counts(figures).into_iter().map(|n| n.to_string()))
        .chain(std::iter::once(median))
}

fn line(out: &mut String, fields: impl Iterator<Item = String>) {
    let fields: Vec<String> = fields.map(|f| quoted(&f)).collect();
    out.push_str(&fields.join(";"));
    out.push_str("\r\n");
}

/// A text cell that a spreadsheet will show as text, never run as a formula (OWASP's « CSV
/// injection » rule): a leading `=`, `+`, `-`, `@`, tab or carriage return gets a `'` before
/// it. Départements and nationalities come from applicants, so every text cell goes through
/// this; counts do not (never negative, and `'` would turn them into text).
pub fn text_cell(text: &str) -> String {
    match text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        true => format!("'{text}"),
        false => text.to_owned(),
    }
}

/// A field in double quotes when it holds a separator, a quote or a line break.
fn quoted(field: &str) -> String {
    match field.contains([';', '"', '\n', '\r']) {
        true => format!("\"{}\"", field.replace('"', "\"\"")),
        false => field.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Status;
    use crate::domain::report::{AptLength, ReportBuilder};

    #[test]
    fn the_table_is_for_french_spreadsheets() {
        let mut builder =
            ReportBuilder::new("2026-10".parse().unwrap(), ["13 ; \"Sud\"".to_owned()]);
        builder.add_decisions(Some("75 - Paris"), Status::Closed, AptLength::Unknown, 2);
        builder.add_processing_days(Some("75 - Paris"), 3, 1);
        builder.add_processing_days(Some("75 - Paris"), 4, 1);
        let text = String::from_utf8(national_table(&builder.finish())).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert!(lines[0].starts_with("\u{feff}Département;Acceptés, APT ≤ 3 mois;"));
        assert_eq!(lines[1], "\"13 ; \"\"Sud\"\"\";0;0;0;0;0;0;0;");
        assert_eq!(lines[2], "75 - Paris;0;0;2;2;0;0;2;3,5");
        assert_eq!(lines[3], "Total;0;0;2;2;0;0;2;3,5");
        assert_eq!(lines[4], "");
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn text_cells_are_never_formulas() {
        for (hostile, written) in [
            (
                "=HYPERLINK(\"http://evil.example\",\"clic\")",
                "'=HYPERLINK(\"http://evil.example\",\"clic\")",
            ),
            ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
            ("\t=1+1", "'\t=1+1"),
            ("\r=1+1", "'\r=1+1"),
            ("=", "'="),
        ] {
            assert_eq!(text_cell(hostile), written, "{hostile}");
        }
        for harmless in [
            "75 - Paris",
            "2A - Corse-du-Sud",
            "",
            "'=déjà",
            " =1+1",
            "Total",
        ] {
            assert_eq!(text_cell(harmless), harmless);
        }
    }

    /// Every text cell of the table, and the numbers left as they are.
    #[test]
    fn the_table_has_no_formula() {
        let hostile = [
            "=1+1",
            "+33 Hérault",
            "-2+3",
            "@SUM(A1)",
            "\t=2",
            "=A1;\"x\"",
        ];
        let mut builder =
            ReportBuilder::new("2026-10".parse().unwrap(), hostile.map(str::to_owned));
        builder.add_decisions(Some("-2+3"), Status::Refused, AptLength::Unknown, 4);
        let text = String::from_utf8(national_table(&builder.finish())).unwrap();
        let lines: Vec<&str> = text.split("\r\n").collect();
        let names: Vec<&str> = lines[1..7]
            .iter()
            .map(|l| l.rsplitn(9, ';').last().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "'\t=2",
                "'+33 Hérault",
                "'-2+3",
                "'=1+1",
                "\"'=A1;\"\"x\"\"\"",
                "'@SUM(A1)"
            ]
        );
        assert_eq!(lines[3], "'-2+3;0;0;0;0;4;0;4;");
        assert_eq!(lines[7], "Total;0;0;0;0;4;0;4;");
    }
}
