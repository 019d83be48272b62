//! Tables out: a report or list as a typed table, written as .xlsx (rust_xlsxwriter in
//! constant-memory mode: rows stream to a temporary file, not to memory) or as CSV with a
//! UTF-8 BOM (Excel opens it as UTF-8). Headers in Chinese or English; numbers as numbers
//! (money and kWh with two decimals), instants in the tenant's time zone as Excel dates, the
//! header row frozen, and a sums row whose formulas carry their computed values.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;
use rust_decimal::prelude::ToPrimitive;
use rust_xlsxwriter::{Format, Formula, Workbook};

/// What a column holds, which decides its cell type and format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// Yuan, two decimals, summed when the table has sums.
    Money,
    /// kWh, two decimals, summed.
    Kwh,
    /// A count, summed.
    Count,
    /// A plain number (a ratio, a register), never summed.
    Number,
    /// An instant, shown in the tenant's zone.
    At,
    Day,
}

impl Kind {
    fn summed(self) -> bool {
        matches!(self, Kind::Money | Kind::Kwh | Kind::Count)
    }
}

#[derive(Debug, Clone)]
pub struct Column {
    pub zh: &'static str,
    pub en: &'static str,
    pub kind: Kind,
}

pub const fn col(zh: &'static str, en: &'static str, kind: Kind) -> Column {
    Column { zh, en, kind }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    Num(Decimal),
    Int(i64),
    At(DateTime<Utc>),
    Day(NaiveDate),
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell::Text(s)
    }
}

impl From<Option<String>> for Cell {
    fn from(s: Option<String>) -> Self {
        s.map_or(Cell::Empty, Cell::Text)
    }
}

/// A table to export: its title (the sheet and file name), columns and rows.
#[derive(Debug, Clone)]
pub struct Table {
    pub name: &'static str,
    pub title_zh: &'static str,
    pub title_en: &'static str,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// A last row with the sums of the summed columns.
    pub sums: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    pub fn parse(s: Option<&str>) -> Self {
        match s {
            Some(l) if l.to_ascii_lowercase().starts_with("en") => Lang::En,
            _ => Lang::Zh,
        }
    }
}

impl Table {
    pub fn title(&self, lang: Lang) -> &'static str {
        if lang == Lang::En { self.title_en } else { self.title_zh }
    }

    /// The exact sum of a column (decimal text for money and kWh).
    fn sum(&self, i: usize) -> Decimal {
        self.rows
            .iter()
            .filter_map(|r| match r.get(i) {
                Some(Cell::Num(d)) => Some(*d),
                Some(Cell::Int(n)) => Some(Decimal::from(*n)),
                _ => None,
            })
            .sum()
    }
}

fn local(tz: Tz, at: &DateTime<Utc>) -> chrono::NaiveDateTime {
    at.with_timezone(&tz).naive_local()
}

/// A spreadsheet column name (0 -> A, 26 -> AA).
fn column_name(mut i: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(char::from(b'A' + (i % 26) as u8));
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    out.iter().rev().collect()
}

/// The table as an .xlsx workbook.
pub fn xlsx(t: &Table, lang: Lang, tz: Tz) -> Result<Vec<u8>, String> {
    let title = t.title(lang);
    xlsx_rows(title, &t.columns, t.rows.iter().cloned(), t.sums, lang, tz)
}

/// Rows as an .xlsx workbook, written as they come (constant memory: the rows stream to a
/// temporary file, not to memory; sums are kept as the rows pass), for exports too large to
/// hold as a [`Table`].
pub fn xlsx_rows(
    title: &str,
    columns: &[Column],
    rows: impl Iterator<Item = Vec<Cell>>,
    sums: bool,
    lang: Lang,
    tz: Tz,
) -> Result<Vec<u8>, String> {
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory().map_err(e)?;
    // Sheet names: at most 31 characters, none of []:*?/\.
    let name: String = title.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    sheet.set_name(name).map_err(e)?;
    let head = Format::new().set_bold().set_background_color("#E8EEF7").set_border_bottom(rust_xlsxwriter::FormatBorder::Thin);
    let two = Format::new().set_num_format("#,##0.00");
    let count = Format::new().set_num_format("0");
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let day = Format::new().set_num_format("yyyy-mm-dd");
    let bold_two = Format::new().set_bold().set_num_format("#,##0.00");
    let bold = Format::new().set_bold();
    for (i, c) in columns.iter().enumerate() {
        let width = match c.kind {
            Kind::At => 20.0,
            Kind::Day => 12.0,
            Kind::Text => 18.0,
            _ => 14.0,
        };
        sheet.set_column_width(i as u16, width).map_err(e)?;
        sheet.write_string_with_format(0, i as u16, if lang == Lang::En { c.en } else { c.zh }, &head).map_err(e)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(e)?;
    let mut totals = vec![Decimal::ZERO; columns.len()];
    let mut r: u32 = 0;
    for row in rows {
        r += 1;
        if r >= 1_048_575 {
            return Err("more rows than a worksheet holds (1,048,575)".into());
        }
        for (i, cell) in row.iter().enumerate() {
            let kind = columns.get(i).map_or(Kind::Text, |c| c.kind);
            let i16 = i as u16;
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, i16, s).map_err(e)?;
                }
                Cell::Num(d) => {
                    let f = if kind == Kind::Count { &count } else { &two };
                    sheet.write_number_with_format(r, i16, d.to_f64().unwrap_or(0.0), f).map_err(e)?;
                    if let Some(t) = totals.get_mut(i) {
                        *t += *d;
                    }
                }
                Cell::Int(n) => {
                    sheet.write_number_with_format(r, i16, *n as f64, &count).map_err(e)?;
                    if let Some(t) = totals.get_mut(i) {
                        *t += Decimal::from(*n);
                    }
                }
                Cell::At(at) => {
                    sheet.write_datetime_with_format(r, i16, local(tz, at), &when).map_err(e)?;
                }
                Cell::Day(d) => {
                    sheet.write_datetime_with_format(r, i16, d.and_hms_opt(0, 0, 0).unwrap_or_default(), &day).map_err(e)?;
                }
                Cell::Empty => {}
            }
        }
    }
    if sums && r > 0 {
        let last = r + 1;
        sheet.write_string_with_format(last, 0, if lang == Lang::En { "Total" } else { "合计" }, &bold).map_err(e)?;
        for (i, c) in columns.iter().enumerate().skip(1) {
            if !c.kind.summed() {
                continue;
            }
            let letter = column_name(i);
            let formula = Formula::new(format!("=SUM({letter}2:{letter}{last})")).set_result(totals[i].to_string());
            let f = if c.kind == Kind::Count { &bold } else { &bold_two };
            sheet.write_formula_with_format(last, i as u16, formula, f).map_err(e)?;
        }
    }
    book.save_to_buffer().map_err(e)
}

/// A CSV field: quoted, and a leading formula character neutralised (spreadsheet injection).
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) && s.parse::<Decimal>().is_err() { format!("'{s}") } else { s.to_string() };
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// The table as CSV with a UTF-8 BOM; numbers as exact decimal text, instants local.
pub fn csv(t: &Table, lang: Lang, tz: Tz) -> String {
    let mut out = csv_head(&t.columns, lang);
    out += &csv_rows(&t.rows, tz);
    if t.sums && !t.rows.is_empty() {
        let cells: Vec<String> = t
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| match (i, c.kind.summed()) {
                (0, _) => field(if lang == Lang::En { "Total" } else { "合计" }),
                (_, true) => t.sum(i).to_string(),
                _ => String::new(),
            })
            .collect();
        out += &cells.join(",");
        out += "\r\n";
    }
    out
}

/// A CSV's BOM and header line.
pub fn csv_head(columns: &[Column], lang: Lang) -> String {
    let head: Vec<String> = columns.iter().map(|c| field(if lang == Lang::En { c.en } else { c.zh })).collect();
    format!("\u{feff}{}\r\n", head.join(","))
}

/// CSV lines of rows (for streaming a large export batch by batch).
pub fn csv_rows(rows: &[Vec<Cell>], tz: Tz) -> String {
    let mut out = String::new();
    for row in rows {
        let cells: Vec<String> = row
            .iter()
            .map(|c| match c {
                Cell::Text(s) => field(s),
                Cell::Num(d) => d.to_string(),
                Cell::Int(n) => n.to_string(),
                Cell::At(at) => local(tz, at).format("%Y-%m-%d %H:%M:%S").to_string(),
                Cell::Day(d) => d.to_string(),
                Cell::Empty => String::new(),
            })
            .collect();
        out += &cells.join(",");
        out += "\r\n";
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn column_names_run_past_z() {
        assert_eq!(
            (column_name(0), column_name(25), column_name(26), column_name(27), column_name(701)),
            ("A".into(), "Z".into(), "AA".into(), "AB".into(), "ZZ".into())
        );
    }

    #[test]
    fn csv_quotes_neutralises_formulas_and_sums_exactly() {
        let t = Table {
            name: "t",
            title_zh: "表",
            title_en: "Table",
            columns: vec![col("名称", "Name", Kind::Text), col("金额", "Amount", Kind::Money)],
            rows: vec![
                vec![Cell::Text("=HYPERLINK(\"x\")".into()), Cell::Num(Decimal::new(10, 2))],
                vec![Cell::Text("a \"b\"".into()), Cell::Num(Decimal::new(20, 2))],
            ],
            sums: true,
        };
        let out = csv(&t, Lang::En, chrono_tz::Asia::Shanghai);
        assert_eq!(out, "\u{feff}\"Name\",\"Amount\"\r\n\"'=HYPERLINK(\"\"x\"\")\",0.10\r\n\"a \"\"b\"\"\",0.20\r\n\"Total\",0.30\r\n");
        let bytes = xlsx(&t, Lang::Zh, chrono_tz::Asia::Shanghai).unwrap_or_default();
        assert!(bytes.starts_with(b"PK"), "an xlsx is a zip");
    }
}
