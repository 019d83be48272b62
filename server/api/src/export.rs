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

    fn header(&self, lang: Lang, i: usize) -> &'static str {
        self.columns.get(i).map_or("", |c| if lang == Lang::En { c.en } else { c.zh })
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
    let e = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory().map_err(e)?;
    // Sheet names: at most 31 characters, none of []:*?/\.
    let name: String = t.title(lang).chars().filter(|c| !"[]:*?/\\".contains(*c)).take(31).collect();
    sheet.set_name(name).map_err(e)?;
    let head = Format::new().set_bold().set_background_color("#E8EEF7").set_border_bottom(rust_xlsxwriter::FormatBorder::Thin);
    let two = Format::new().set_num_format("#,##0.00");
    let count = Format::new().set_num_format("0");
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm:ss");
    let day = Format::new().set_num_format("yyyy-mm-dd");
    let bold_two = Format::new().set_bold().set_num_format("#,##0.00");
    let bold = Format::new().set_bold();
    for (i, c) in t.columns.iter().enumerate() {
        let width = match c.kind {
            Kind::At => 20.0,
            Kind::Day => 12.0,
            Kind::Text => 18.0,
            _ => 14.0,
        };
        sheet.set_column_width(i as u16, width).map_err(e)?;
        sheet.write_string_with_format(0, i as u16, t.header(lang, i), &head).map_err(e)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(e)?;
    for (r, row) in t.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (i, cell) in row.iter().enumerate() {
            let i = i as u16;
            let kind = t.columns.get(usize::from(i)).map_or(Kind::Text, |c| c.kind);
            match cell {
                Cell::Text(s) => {
                    sheet.write_string(r, i, s).map_err(e)?;
                }
                Cell::Num(d) => {
                    let f = if kind == Kind::Count { &count } else { &two };
                    sheet.write_number_with_format(r, i, d.to_f64().unwrap_or(0.0), f).map_err(e)?;
                }
                Cell::Int(n) => {
                    sheet.write_number_with_format(r, i, *n as f64, &count).map_err(e)?;
                }
                Cell::At(at) => {
                    sheet.write_datetime_with_format(r, i, local(tz, at), &when).map_err(e)?;
                }
                Cell::Day(d) => {
                    sheet.write_datetime_with_format(r, i, d.and_hms_opt(0, 0, 0).unwrap_or_default(), &day).map_err(e)?;
                }
                Cell::Empty => {}
            }
        }
    }
    if t.sums && !t.rows.is_empty() {
        let r = t.rows.len() as u32 + 1;
        sheet.write_string_with_format(r, 0, if lang == Lang::En { "Total" } else { "合计" }, &bold).map_err(e)?;
        for (i, c) in t.columns.iter().enumerate().skip(1) {
            if !c.kind.summed() {
                continue;
            }
            let letter = column_name(i);
            let total = t.sum(i);
            let formula = Formula::new(format!("=SUM({letter}2:{letter}{r})")).set_result(total.to_string());
            let f = if c.kind == Kind::Count { &bold } else { &bold_two };
            sheet.write_formula_with_format(r, i as u16, formula, f).map_err(e)?;
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
    let mut out = String::from("\u{feff}");
    let head: Vec<String> = (0..t.columns.len()).map(|i| field(t.header(lang, i))).collect();
    out += &head.join(",");
    out += "\r\n";
    for row in &t.rows {
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
