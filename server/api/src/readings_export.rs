//! The readings export (抄表明细, issue 19): every reading of the meters in scope in a range,
//! up to a worksheet's million rows — streamed, never held: the database is paged by its
//! primary key per meter, rows go in batches over a bounded channel to a writer (rust_xlsxwriter
//! in constant-memory mode on a blocking thread, or CSV straight into the response body), so
//! memory stays flat whatever the size (docs/PERFORMANCE.md §11).

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use rust_decimal::Decimal;

use super::export::{Cell, Column, Kind, Lang, col, csv_head, csv_rows, xlsx_rows};
use domain::ids::*;
use store::{ExportReading, TenantStore};

/// Rows fetched per query and sent per batch.
const PAGE: u64 = 5_000;
/// Batches in flight between the database side and the writer.
const IN_FLIGHT: usize = 4;
/// The most rows a readings export writes (a worksheet holds 1,048,576 with its header).
pub const MAX_ROWS: i64 = 1_048_000;

/// What the export selects.
#[derive(Debug, Clone)]
pub struct Selection {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub property: Option<PropertyId>,
    pub area: Option<AreaId>,
    pub meter: Option<MeterId>,
}

pub fn columns() -> Vec<Column> {
    vec![
        col("表地址", "Meter address", Kind::Text),
        col("抄表时间", "Read at", Kind::At),
        col("正向有功总(kWh)", "Total (kWh)", Kind::Number),
        col("尖(kWh)", "Sharp (kWh)", Kind::Number),
        col("峰(kWh)", "Peak (kWh)", Kind::Number),
        col("平(kWh)", "Flat (kWh)", Kind::Number),
        col("谷(kWh)", "Valley (kWh)", Kind::Number),
        col("A相电压(V)", "Voltage A (V)", Kind::Number),
        col("B相电压(V)", "Voltage B (V)", Kind::Number),
        col("C相电压(V)", "Voltage C (V)", Kind::Number),
        col("A相电流(A)", "Current A (A)", Kind::Number),
        col("B相电流(A)", "Current B (A)", Kind::Number),
        col("C相电流(A)", "Current C (A)", Kind::Number),
        col("有功功率(kW)", "Active power (kW)", Kind::Number),
        col("功率因数", "Power factor", Kind::Number),
    ]
}

fn num(v: Option<i64>, places: u32) -> Cell {
    v.map_or(Cell::Empty, |n| Cell::Num(Decimal::new(n, places)))
}

pub fn row(address: &str, r: &ExportReading) -> Vec<Cell> {
    let mut cells = Vec::with_capacity(15);
    cells.push(Cell::Text(address.to_string()));
    cells.push(Cell::At(r.at));
    cells.extend(r.energy.iter().map(|e| num(*e, 2)));
    cells.extend(r.voltage.iter().map(|v| num(*v, 1)));
    cells.extend(r.current.iter().map(|c| num(*c, 3)));
    cells.push(num(r.active_power, 4));
    cells.push(num(r.power_factor, 3));
    cells
}

/// Checks the selection (range, size) before anything is written: `Err` is the client's
/// mistake, said in words.
pub async fn check(t: &TenantStore, s: &Selection) -> Result<i64, String> {
    if s.to <= s.from {
        return Err("to: must be after from".into());
    }
    if s.to - s.from > chrono::Duration::days(366) {
        return Err("to: at most a year after from".into());
    }
    let n = t.count_readings(s.from, s.to, s.property.as_ref(), s.area.as_ref(), s.meter.as_ref()).await.map_err(|e| e.to_string())?;
    if n > MAX_ROWS {
        return Err(format!("to: {n} readings, more than {MAX_ROWS} (a worksheet's rows): narrow the range"));
    }
    Ok(n)
}

/// Feeds the selection's rows, batch by batch, into `tx` until done or the receiver is gone.
pub async fn produce(t: TenantStore, s: Selection, tx: tokio::sync::mpsc::Sender<Vec<Vec<Cell>>>) -> Result<usize, String> {
    let mut sent = 0usize;
    let meters = t.report_meters(s.property.as_ref(), s.area.as_ref()).await.map_err(|e| e.to_string())?;
    for m in meters.iter().filter(|m| s.meter.as_ref().is_none_or(|id| id.to_string() == m.id)) {
        let mut after = None;
        loop {
            let page = t.readings_page(&m.id, s.from, s.to, after, PAGE).await.map_err(|e| e.to_string())?;
            let Some(last) = page.last() else { break };
            after = Some(last.at);
            let full = page.len() as u64 == PAGE;
            sent += page.len();
            if tx.send(page.iter().map(|r| row(&m.address, r)).collect()).await.is_err() {
                return Ok(sent);
            }
            if !full {
                break;
            }
        }
    }
    Ok(sent)
}

/// The selection as an .xlsx workbook (the database side and the writer run side by side).
pub async fn xlsx(t: TenantStore, s: Selection, lang: Lang, tz: Tz) -> Result<Vec<u8>, String> {
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Vec<Cell>>>(IN_FLIGHT);
    let title = if lang == Lang::En { "Readings" } else { "抄表明细" };
    let writer = tokio::task::spawn_blocking(move || {
        let rows = std::iter::from_fn(move || rx.blocking_recv()).flatten();
        xlsx_rows(title, &columns(), rows, false, lang, tz)
    });
    let produced = produce(t, s, tx).await;
    let book = writer.await.map_err(|e| e.to_string())??;
    produced?;
    Ok(book)
}

/// The selection as CSV chunks (the header first), for a streaming response body.
pub fn csv_stream(
    t: TenantStore,
    s: Selection,
    lang: Lang,
    tz: Tz,
) -> impl futures::Stream<Item = Result<actix_web::web::Bytes, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<Vec<Cell>>>(IN_FLIGHT);
    let head = actix_web::web::Bytes::from(csv_head(&columns(), lang));
    tokio::spawn(async move {
        if let Err(e) = produce(t, s, tx).await {
            tracing::error!(cause = %e, "readings export failed midway");
        }
    });
    let body = futures::stream::unfold(rx, move |mut rx| async move {
        rx.recv().await.map(|batch| (Ok(actix_web::web::Bytes::from(csv_rows(&batch, tz))), rx))
    });
    futures::StreamExt::chain(futures::stream::once(async move { Ok(head) }), body)
}

/// The selection written to a file (an export job): rows counted into `done` as they are
/// written, the workbook or CSV streamed to disk, never held.
pub async fn to_file(
    t: TenantStore,
    s: Selection,
    csv: bool,
    lang: Lang,
    tz: Tz,
    done: std::sync::Arc<std::sync::atomic::AtomicU64>,
    path: std::path::PathBuf,
) -> Result<(), String> {
    use std::io::Write;
    use std::sync::atomic::Ordering;
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<Vec<Cell>>>(IN_FLIGHT);
    let title = if lang == Lang::En { "Readings" } else { "抄表明细" };
    let writer = tokio::task::spawn_blocking(move || -> Result<(), String> {
        let file = std::fs::File::create(&path).map_err(|e| e.to_string())?;
        if csv {
            let mut out = std::io::BufWriter::new(file);
            out.write_all(csv_head(&columns(), lang).as_bytes()).map_err(|e| e.to_string())?;
            while let Some(batch) = rx.blocking_recv() {
                out.write_all(csv_rows(&batch, tz).as_bytes()).map_err(|e| e.to_string())?;
                done.fetch_add(batch.len() as u64, Ordering::Relaxed);
            }
            out.flush().map_err(|e| e.to_string())
        } else {
            let rows = std::iter::from_fn(move || rx.blocking_recv()).flatten().inspect(|_| {
                done.fetch_add(1, Ordering::Relaxed);
            });
            let bytes = xlsx_rows(title, &columns(), rows, false, lang, tz)?;
            let mut out = file;
            out.write_all(&bytes).map_err(|e| e.to_string())
        }
    });
    let produced = produce(t, s, tx).await;
    writer.await.map_err(|e| e.to_string())??;
    produced.map(|_| ())
}
