//! Many rows in few statements: `UNNEST` of binary array parameters on PostgreSQL (one
//! constant statement, planned once), multi-row `VALUES` in small chunks on SQLite.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Value};

use super::sql::{Args, stmt};

/// One value of a bulk row.
#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Int(i64),
    Time(DateTime<Utc>),
    Null,
}

impl Cell {
    pub fn opt_text(v: Option<impl Into<String>>) -> Self {
        v.map_or(Cell::Null, |s| Cell::Text(s.into()))
    }

    pub fn opt_int(v: Option<i64>) -> Self {
        v.map_or(Cell::Null, Cell::Int)
    }

    fn value(&self) -> Value {
        match self {
            Cell::Text(s) => Value::from(s.clone()),
            Cell::Int(i) => Value::from(*i),
            Cell::Time(t) => Value::from(*t),
            Cell::Null => Value::from(None::<String>),
        }
    }

    /// This cell as an element of a binary PostgreSQL array of `ty`.
    fn element(&self, ty: Col) -> Value {
        match (ty, self) {
            (Col::Text, Cell::Text(s)) => Value::String(Some(s.clone())),
            (Col::Int, Cell::Int(i)) => Value::BigInt(Some(*i)),
            (Col::Time, Cell::Time(t)) => Value::ChronoDateTimeUtc(Some(*t)),
            (Col::Text, _) => Value::String(self.token()),
            (Col::Int, _) => Value::BigInt(None),
            (Col::Time, _) => Value::ChronoDateTimeUtc(None),
        }
    }

    fn token(&self) -> Option<String> {
        match self {
            Cell::Text(s) => Some(s.clone()),
            Cell::Int(i) => Some(i.to_string()),
            Cell::Time(t) => Some(t.format("%Y-%m-%d %H:%M:%S%.6f+00").to_string()),
            Cell::Null => None,
        }
    }
}

/// Column type, for the PostgreSQL array cast.
#[derive(Debug, Clone, Copy)]
pub enum Col {
    Text,
    Int,
    Time,
}

impl Col {
    fn array_type(self) -> sea_orm::sea_query::ArrayType {
        use sea_orm::sea_query::ArrayType;
        match self {
            Col::Text => ArrayType::String,
            Col::Int => ArrayType::BigInt,
            Col::Time => ArrayType::ChronoDateTimeUtc,
        }
    }

    /// One column of `rows` as an array parameter and its placeholder `$n`: binary when it has
    /// no NULL (no literal to build or parse), else an array literal sent as text (the binary
    /// binding cannot carry NULL elements). The placeholder's cast differs between the two, so
    /// the two shapes are two prepared statements and a cached one never sees the other's
    /// parameter type.
    fn column(self, rows: &[Vec<Cell>], i: usize, n: usize) -> (Value, String) {
        let cells = || rows.iter().map(move |r| r.get(i).unwrap_or(&Cell::Null));
        if cells().any(|c| matches!(c, Cell::Null)) {
            return (Value::from(pg_array(cells().map(Cell::token))), format!("${n}::text::{}", self.pg()));
        }
        (Value::Array(self.array_type(), Some(Box::new(cells().map(|c| c.element(self)).collect()))), format!("${n}::{}", self.pg()))
    }

    fn pg(self) -> &'static str {
        match self {
            Col::Text => "text[]",
            Col::Int => "int8[]",
            Col::Time => "timestamptz[]",
        }
    }
}

/// A PostgreSQL array literal; elements are quoted and `"`/`\` escaped, so any text is safe.
pub fn pg_array<I: IntoIterator<Item = Option<String>>>(items: I) -> String {
    let body: Vec<String> = items
        .into_iter()
        .map(|v| v.map_or_else(|| "NULL".to_string(), |s| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))))
        .collect();
    format!("{{{}}}", body.join(","))
}

/// The columns of `rows`, typed `types`, as `UNNEST` parameters `$1…`: the arguments and the
/// casts to write inside `UNNEST(…)` (PostgreSQL).
pub(crate) fn unnest_params(types: impl IntoIterator<Item = Col>, rows: &[Vec<Cell>]) -> (Args, String) {
    let mut args = Args::new();
    let mut casts = Vec::new();
    for (i, ty) in types.into_iter().enumerate() {
        let (value, cast) = ty.column(rows, i, i + 1);
        args.push(value);
        casts.push(cast);
    }
    (args, casts.join(", "))
}

/// `INSERT INTO table (cols) <rows> suffix`; `suffix` is an `ON CONFLICT` clause or empty.
/// Returns the rows affected.
pub async fn insert<C: ConnectionTrait>(
    db: &C,
    table: &str,
    cols: &[(&str, Col)],
    rows: &[Vec<Cell>],
    suffix: &str,
) -> Result<u64, sea_orm::DbErr> {
    if rows.is_empty() {
        return Ok(0);
    }
    let backend = db.get_database_backend();
    let names = cols.iter().map(|c| c.0).collect::<Vec<_>>().join(", ");
    if backend == DbBackend::Postgres {
        let (args, casts) = unnest_params(cols.iter().map(|c| c.1), rows);
        let sql = format!("INSERT INTO {table} ({names}) SELECT * FROM UNNEST({casts}) {suffix}");
        return Ok(db.execute_raw(stmt(backend, &sql, args)).await?.rows_affected());
    }
    let per = (900 / cols.len().max(1)).clamp(1, 16);
    let mut affected = 0;
    for chunk in rows.chunks(per) {
        let mut args = Args::new();
        let tuples: Vec<String> = chunk
            .iter()
            .map(|row| {
                let ph: Vec<String> = row.iter().map(|c| format!("${}", args.push(c.value()))).collect();
                format!("({})", ph.join(","))
            })
            .collect();
        let sql = format!("INSERT INTO {table} ({names}) VALUES {} {suffix}", tuples.join(","));
        affected += db.execute_raw(stmt(backend, &sql, args)).await?.rows_affected();
    }
    Ok(affected)
}

/// `UPDATE table SET <set cols> WHERE <key cols>` for many rows: `UPDATE … FROM UNNEST` on
/// PostgreSQL, one statement per row on SQLite (cheap inside its single write transaction).
pub async fn update<C: ConnectionTrait>(
    db: &C,
    table: &str,
    keys: &[(&str, Col)],
    set: &[(&str, Col)],
    rows: &[Vec<Cell>],
) -> Result<(), sea_orm::DbErr> {
    if rows.is_empty() {
        return Ok(());
    }
    let backend = db.get_database_backend();
    let all: Vec<(&str, Col)> = keys.iter().chain(set.iter()).copied().collect();
    if backend == DbBackend::Postgres {
        let (args, casts) = unnest_params(all.iter().map(|c| c.1), rows);
        let names = all.iter().map(|c| c.0).collect::<Vec<_>>().join(", ");
        let assign = set.iter().map(|(c, _)| format!("{c} = u.{c}")).collect::<Vec<_>>().join(", ");
        let on = keys.iter().map(|(c, _)| format!("t.{c} = u.{c}")).collect::<Vec<_>>().join(" AND ");
        let sql = format!("UPDATE {table} AS t SET {assign} FROM UNNEST({casts}) AS u({names}) WHERE {on}");
        db.execute_raw(stmt(backend, &sql, args)).await?;
        return Ok(());
    }
    let assign = set.iter().enumerate().map(|(i, (c, _))| format!("{c} = ${}", keys.len() + i + 1)).collect::<Vec<_>>().join(", ");
    let on = keys.iter().enumerate().map(|(i, (c, _))| format!("{c} = ${}", i + 1)).collect::<Vec<_>>().join(" AND ");
    let sql = format!("UPDATE {table} SET {assign} WHERE {on}");
    for row in rows {
        let mut args = Args::new();
        for c in row {
            args.push(c.value());
        }
        db.execute_raw(stmt(backend, &sql, args)).await?;
    }
    Ok(())
}

/// The ids a statement is about, as a row source `k(id)` to drive a join from, and the join
/// keyword that keeps it the outer loop: `UNNEST` of one array on PostgreSQL (index lookups
/// whatever the table statistics say), `json_each` of one JSON array on SQLite with
/// `CROSS JOIN` (SQLite's way to fix the join order; a plain join scanned the table per id).
/// Arguments start at `$first`.
pub fn id_source(backend: DbBackend, ids: &[String], first: usize) -> (String, &'static str, Args) {
    let mut args = Args::new();
    if backend == DbBackend::Postgres {
        let items = ids.iter().map(|i| Value::String(Some(i.clone()))).collect();
        args.push(Value::Array(sea_orm::sea_query::ArrayType::String, Some(Box::new(items))));
        return (format!("UNNEST(${first}::text[]) AS k(id)"), "JOIN", args);
    }
    args.push(Value::from(serde_json::Value::from(ids.to_vec()).to_string()));
    (format!("(SELECT value AS id FROM json_each(${first})) AS k"), "CROSS JOIN", args)
}
