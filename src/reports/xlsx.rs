//! The report as an XLSX workbook: a « Synthèse » sheet (the national table and the
//! nationalities), then one sheet per département (its figures, nationalities and refused
//! dossiers). Every sheet has a bold title row and a bold header row, both frozen.

use std::collections::HashSet;

use rust_xlsxwriter::{Format, Url, Workbook, Worksheet, XlsxError};

use super::{COLUMNS, ReportError, counts, department_name, length_label, month_label};
use crate::config::DsSettings;
use crate::domain::report::{AptLength, Figures, Report, TOP_NATIONALITIES};

pub const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The first row of data, under the title and the headers.
const FIRST_ROW: u32 = 2;

/// The first column of the nationality rankings, right of the figures.
const SUMMARY_RANKING: u16 = COLUMNS.len() as u16 + 1;
const SHEET_RANKING: u16 = 3;
/// The refused dossiers' columns of a département's sheet.
const SHEET_REFUSED: u16 = SHEET_RANKING + 8;

impl From<XlsxError> for ReportError {
    fn from(error: XlsxError) -> ReportError {
        ReportError::Workbook(error.to_string())
    }
}

/// The workbook's bytes.
pub fn workbook(report: &Report, ds: &DsSettings) -> Result<Vec<u8>, ReportError> {
    let bold = Format::new().set_bold();
    let mut workbook = Workbook::new();
    let mut names = SheetNames::default();

    let sheet = workbook.add_worksheet();
    sheet.set_name(names.unique("Synthèse"))?;
    let title = format!(
        "Work in France : dossiers décidés en {} ({} au {})",
        month_label(report.month),
        report.month.first_day().format("%d/%m/%Y"),
        report.month.last_day().format("%d/%m/%Y"),
    );
    sheet.write_string_with_format(0, 0, title, &bold)?;
    for (col, label) in COLUMNS.iter().enumerate() {
        sheet.write_string_with_format(1, col as u16, *label, &bold)?;
    }
    let mut row = FIRST_ROW;
    for line in &report.departments {
        sheet.write_string(row, 0, cell(department_name(line.department.as_deref())))?;
        figures_row(sheet, row, &line.figures, None)?;
        row += 1;
    }
    sheet.write_string_with_format(row, 0, "Total", &bold)?;
    figures_row(sheet, row, &report.total, Some(&bold))?;
    rankings(sheet, SUMMARY_RANKING, &report.total, &bold)?;
    sheet.set_column_width(0, 28)?;
    for col in 1..COLUMNS.len() as u16 {
        sheet.set_column_width(col, 16)?;
    }
    sheet.set_freeze_panes(FIRST_ROW, 1)?;

    for line in &report.departments {
        let name = department_name(line.department.as_deref());
        let sheet = workbook.add_worksheet();
        sheet.set_name(names.unique(name))?;
        department_sheet(sheet, report, name, &line.figures, ds, &bold)?;
    }
    Ok(workbook.save_to_buffer()?)
}

/// The counts and the median of `figures` in the columns 1 to 8 of `row`.
fn figures_row(
    sheet: &mut Worksheet,
    row: u32,
    figures: &Figures,
    format: Option<&Format>,
) -> Result<(), XlsxError> {
    let plain = Format::new();
    let format = format.unwrap_or(&plain);
    for (i, n) in counts(figures).into_iter().enumerate() {
        sheet.write_number_with_format(row, i as u16 + 1, n as f64, format)?;
    }
    if let Some(median) = figures.median_days() {
        sheet.write_number_with_format(row, COLUMNS.len() as u16 - 1, median, format)?;
    }
    Ok(())
}

/// The ten most frequent nationalities of each APT length, side by side from column `first`.
fn rankings(
    sheet: &mut Worksheet,
    first: u16,
    figures: &Figures,
    bold: &Format,
) -> Result<(), XlsxError> {
    sheet.write_string_with_format(1, first, "Rang", bold)?;
    sheet.set_column_width(first, 6)?;
    for rank in 0..TOP_NATIONALITIES {
        sheet.write_number(FIRST_ROW + rank as u32, first, rank as f64 + 1.0)?;
    }
    for (i, length) in AptLength::ALL.into_iter().enumerate() {
        let col = first + 1 + 2 * i as u16;
        let header = format!("Nationalité (acceptés, {})", length_label(length));
        sheet.write_string_with_format(1, col, header, bold)?;
        sheet.write_string_with_format(1, col + 1, "Acceptés", bold)?;
        sheet.set_column_width(col, 30)?;
        sheet.set_column_width(col + 1, 10)?;
        for (rank, (name, n)) in figures.top_nationalities(length).into_iter().enumerate() {
            let row = FIRST_ROW + rank as u32;
            sheet.write_string(row, col, cell(name))?;
            sheet.write_number(row, col + 1, n as f64)?;
        }
    }
    Ok(())
}

/// A département's sheet: its figures as (indicator, value), the rankings, the refused dossiers.
fn department_sheet(
    sheet: &mut Worksheet,
    report: &Report,
    name: &str,
    figures: &Figures,
    ds: &DsSettings,
    bold: &Format,
) -> Result<(), XlsxError> {
    let title = format!("{name} : dossiers décidés en {}", month_label(report.month));
    sheet.write_string_with_format(0, 0, cell(&title), bold)?;
    sheet.write_string_with_format(1, 0, "Indicateur", bold)?;
    sheet.write_string_with_format(1, 1, "Valeur", bold)?;
    for (i, n) in counts(figures).into_iter().enumerate() {
        let row = FIRST_ROW + i as u32;
        sheet.write_string(row, 0, COLUMNS[i + 1])?;
        sheet.write_number(row, 1, n as f64)?;
    }
    let median_row = FIRST_ROW + COLUMNS.len() as u32 - 2;
    sheet.write_string(median_row, 0, COLUMNS[COLUMNS.len() - 1])?;
    if let Some(median) = figures.median_days() {
        sheet.write_number(median_row, 1, median)?;
    }
    sheet.set_column_width(0, 42)?;
    sheet.set_column_width(1, 10)?;
    rankings(sheet, SHEET_RANKING, figures, bold)?;
    sheet.write_string_with_format(1, SHEET_REFUSED, "Dossier refusé", bold)?;
    sheet.write_string_with_format(1, SHEET_REFUSED + 1, "Sur démarches-simplifiées", bold)?;
    sheet.set_column_width(SHEET_REFUSED, 16)?;
    sheet.set_column_width(SHEET_REFUSED + 1, 60)?;
    for (i, dossier) in figures.refused_dossiers.iter().enumerate() {
        let row = FIRST_ROW + i as u32;
        let url = ds.dossier_url(dossier.procedure_id, dossier.ds_id);
        sheet.write_number(row, SHEET_REFUSED, dossier.ds_id as f64)?;
        sheet.write_url_with_text(row, SHEET_REFUSED + 1, Url::new(url.as_str()), url.as_str())?;
    }
    sheet.set_freeze_panes(FIRST_ROW, 0)?;
    Ok(())
}

/// Sheet names as Excel wants them: 1 to 31 characters (UTF-16 units), none of `[]:*?/\`, no
/// apostrophe at either end, not the reserved « History », each different from the others
/// whatever their case. Départements come from applicants and administrators: any text must
/// give a valid name, or the whole workbook could not be written.
struct SheetNames {
    taken: HashSet<String>,
}

impl Default for SheetNames {
    fn default() -> SheetNames {
        SheetNames {
            taken: HashSet::from(["history".to_owned()]),
        }
    }
}

impl SheetNames {
    fn unique(&mut self, wanted: &str) -> String {
        let cleaned: String = wanted
            .chars()
            .map(|c| match c {
                '[' | ']' | ':' | '*' | '?' | '/' | '\\' => '-',
                c if c.is_control() => ' ',
                c => c,
            })
            .collect();
        // Trimmed as one: `' 'x` loses its quotes and its space alike.
        let cleaned = cleaned.trim_matches(|c: char| c == '\'' || c.is_whitespace());
        let base = match cleaned.is_empty() {
            true => "Feuille",
            false => cleaned,
        };
        let mut n = 1;
        loop {
            let suffix = match n {
                1 => String::new(),
                n => format!(" ({n})"),
            };
            let name = format!("{}{suffix}", truncated(base, 31 - suffix.len()));
            if self.taken.insert(name.to_lowercase()) {
                return name;
            }
            n += 1;
        }
    }
}

/// The longest start of `text` of at most `units` UTF-16 units, without an apostrophe or a
/// space at its end.
fn truncated(text: &str, units: usize) -> &str {
    utf16_prefix(text, units).trim_end_matches(|c: char| c == '\'' || c.is_whitespace())
}

/// A cell's text within Excel's limit of 32,767 UTF-16 units: a longer département or
/// nationality is cut rather than failing the whole workbook.
fn cell(text: &str) -> &str {
    utf16_prefix(text, 32_767)
}

/// The longest start of `text` of at most `units` UTF-16 units.
fn utf16_prefix(text: &str, units: usize) -> &str {
    let mut used = 0;
    for (i, c) in text.char_indices() {
        used += c.len_utf16();
        if used > units {
            return &text[..i];
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// Every name Excel would accept, and no two alike whatever their case.
    fn assert_valid(names: &[String]) {
        let mut seen = HashSet::new();
        for name in names {
            rust_xlsxwriter::utility::check_sheet_name(name).unwrap();
            assert!(!name.eq_ignore_ascii_case("history"), "{name}");
            assert_eq!(name.trim(), name, "{name:?}");
            assert!(seen.insert(name.to_lowercase()), "{name} twice");
        }
    }

    #[test]
    fn sheet_names_are_valid_and_unique() {
        let mut names = SheetNames::default();
        assert_eq!(names.unique("Synthèse"), "Synthèse");
        assert_eq!(names.unique("75 - Paris"), "75 - Paris");
        assert_eq!(names.unique("75 - PARIS"), "75 - PARIS (2)");
        assert_eq!(
            names.unique("2A/2B : Corse [test]?"),
            "2A-2B - Corse -test--"
        );
        let long = "976 - Mayotte, collectivité départementale d'outre-mer";
        let first = names.unique(long);
        let second = names.unique(long);
        assert_eq!(first, "976 - Mayotte, collectivité dép");
        assert_eq!(second, "976 - Mayotte, collectivité (2)");
        assert_eq!(names.unique("'quoted'"), "quoted");
        assert_eq!(names.unique("?"), "-");
        assert_eq!(names.unique(" "), "Feuille");
    }

    /// Names an applicant or an administrator could type; `' 'x` once left a name starting
    /// with an apostrophe, and no workbook could be written.
    #[test]
    fn hostile_names_still_give_valid_sheets() {
        let forty = "x".repeat(40);
        let quote_at_31 = format!("{}'{}", "a".repeat(30), "b".repeat(9));
        let emoji = "😀".repeat(20);
        let hostile = [
            "' 'x",
            "'' ' '' y ' ''",
            "'",
            "''''",
            "",
            " \t\r\n ",
            "[]:*?/\\",
            "[a]",
            "a:b",
            "a/b",
            "a*b",
            "History",
            "HISTORY",
            "history ",
            "=1+1",
            "@SUM(A1)",
            forty.as_str(),
            forty.as_str(),
            forty.as_str(),
            quote_at_31.as_str(),
            emoji.as_str(),
            "Feuille",
            "x'",
            "x\u{1}y",
            "Synthèse",
        ];
        let mut names = SheetNames::default();
        let mut given = vec![names.unique("Synthèse")];
        given.extend(hostile.iter().map(|wanted| names.unique(wanted)));
        assert_valid(&given);
        let given = &given[1..];
        let by_wanted: HashMap<&str, &str> = hostile
            .iter()
            .zip(given)
            .map(|(w, n)| (*w, n.as_str()))
            .collect();
        assert_eq!(by_wanted["' 'x"], "x");
        assert_eq!(by_wanted["'' ' '' y ' ''"], "y");
        assert_eq!(by_wanted["[]:*?/\\"], "-------");
        assert_eq!(by_wanted["[a]"], "-a-");
        assert_eq!(by_wanted["=1+1"], "=1+1");
        assert_eq!(by_wanted["@SUM(A1)"], "@SUM(A1)");
        assert_eq!(by_wanted["x'"], "x (2)");
        assert_eq!(by_wanted["x\u{1}y"], "x y");
        assert_eq!(by_wanted["Synthèse"], "Synthèse (2)");
        // Empty once cleaned: a plain name, numbered.
        assert_eq!(
            given[2..6],
            ["Feuille", "Feuille (2)", "Feuille (3)", "Feuille (4)"]
        );
        assert_eq!(by_wanted["Feuille"], "Feuille (5)");
        // Cleaned alike, told apart by a number.
        assert_eq!(given[8..11], ["a-b", "a-b (2)", "a-b (3)"]);
        assert_eq!(given[11..14], ["History (2)", "HISTORY (3)", "history (4)"]);
        assert_eq!(given[16], "x".repeat(31));
        assert_eq!(given[17], format!("{} (2)", "x".repeat(27)));
        assert_eq!(given[18], format!("{} (3)", "x".repeat(27)));
        assert_eq!(given[19], "a".repeat(30), "no apostrophe left at the end");
        assert_eq!(given[20], "😀".repeat(15));
    }

    #[test]
    fn many_equal_names_stay_within_31_characters() {
        let mut names = SheetNames::default();
        let given: Vec<String> = (0..150).map(|_| names.unique(&"é".repeat(40))).collect();
        assert_valid(&given);
        assert_eq!(given[149], format!("{} (150)", "é".repeat(25)));
    }

    #[test]
    fn long_text_is_cut_to_what_a_cell_holds() {
        let long = "é".repeat(40_000);
        assert_eq!(cell(&long).chars().count(), 32_767);
        let astral = "😀".repeat(20_000);
        assert_eq!(cell(&astral).chars().count(), 16_383);
        assert_eq!(cell("75 - Paris"), "75 - Paris");
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(0, 0, cell(&long)).unwrap();
        sheet.write_string(1, 0, cell(&astral)).unwrap();
        assert!(
            sheet.write_string(2, 0, &long).is_err(),
            "Excel's limit moved"
        );
    }
}
