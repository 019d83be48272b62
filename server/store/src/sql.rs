//! Small helpers to write portable SQL: `$n` placeholders work on PostgreSQL and SQLite.

use chrono::{DateTime, Utc};
use sea_orm::{DbBackend, Statement, Value};

#[derive(Default)]
pub struct Args(pub Vec<Value>);

impl Args {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    pub fn s(mut self, v: impl Into<String>) -> Self {
        self.0.push(Value::from(v.into()));
        self
    }

    pub fn os(mut self, v: Option<impl Into<String>>) -> Self {
        self.0.push(Value::from(v.map(Into::into)));
        self
    }

    pub fn i(mut self, v: i64) -> Self {
        self.0.push(Value::from(v));
        self
    }

    pub fn oi(mut self, v: Option<i64>) -> Self {
        self.0.push(Value::from(v));
        self
    }

    pub fn t(mut self, v: DateTime<Utc>) -> Self {
        self.0.push(Value::from(v));
        self
    }

    pub fn ot(mut self, v: Option<DateTime<Utc>>) -> Self {
        self.0.push(Value::from(v));
        self
    }

    pub fn push(&mut self, v: Value) -> usize {
        self.0.push(v);
        self.0.len()
    }
}

/// Builds a statement from SQL written with `$n` placeholders. On SQLite they become `?`
/// when they appear once each and in order (`$1`, `$2`, …, the shape of every batch insert),
/// and `?n` otherwise.
///
/// SQLite resolves `$name` parameters by a linear search over the names seen so far, and
/// keeps `?n` parameters in the same list. sqlx asks SQLite for each parameter's name when it
/// binds (`sqlite3_bind_parameter_name`, a walk of that list), so a statement with P numbered
/// parameters cost P²/2 steps to bind: the top symbol of SQLite's thread in a profile of
/// ingestion (docs/PERFORMANCE.md §17). A plain `?` has no name; sqlx binds it by position.
///
/// The SQL passed here must not hold `$` and a digit outside a placeholder (in a literal or a
/// comment): with positional binding such a text would shift every later value. Values go in
/// as arguments, never spliced into the text.
pub fn stmt(backend: DbBackend, sql: &str, args: Args) -> Statement {
    if backend == DbBackend::Sqlite {
        return Statement::from_sql_and_values(backend, sqlite_placeholders(sql), args.0);
    }
    Statement::from_sql_and_values(backend, sql, args.0)
}

/// `$n` → `?` when the placeholders run `$1`, `$2`, … once each; otherwise `$n` → `?n`.
fn sqlite_placeholders(sql: &str) -> String {
    let bytes = sql.as_bytes();
    // Each placeholder: the byte range of its digits and its number.
    let mut found: Vec<(usize, usize, usize)> = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'$' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
            let start = i + 1;
            let mut end = start;
            while end < bytes.len() && bytes[end].is_ascii_digit() {
                end += 1;
            }
            let n = sql[start..end].parse::<usize>().unwrap_or(usize::MAX);
            found.push((start, end, n));
            i = end;
        } else {
            i += 1;
        }
    }
    let in_order = found.iter().enumerate().all(|(k, &(_, _, n))| n == k + 1);
    let mut out = String::with_capacity(sql.len());
    let mut at = 0;
    for &(start, end, _) in &found {
        out.push_str(&sql[at..start - 1]);
        out.push('?');
        if !in_order {
            out.push_str(&sql[start..end]);
        }
        at = end;
    }
    out.push_str(&sql[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::sqlite_placeholders;

    #[test]
    fn placeholders_in_order_once_each_become_positional() {
        assert_eq!(sqlite_placeholders("INSERT INTO t VALUES ($1,$2,$3),($4,$5,$6)"), "INSERT INTO t VALUES (?,?,?),(?,?,?)");
        let many: Vec<String> = (1..=1200).map(|n| format!("${n}")).collect();
        assert_eq!(sqlite_placeholders(&many.join(",")), vec!["?"; 1200].join(","));
        assert_eq!(sqlite_placeholders("SELECT 1"), "SELECT 1");
    }

    #[test]
    fn placeholders_repeated_or_out_of_order_keep_their_numbers() {
        // `$1` twice: positional binding would shift every later value.
        assert_eq!(
            sqlite_placeholders("SELECT a FROM t WHERE tenant_id = $1 AND id IN (SELECT id FROM u WHERE tenant_id = $1 AND k = $2)"),
            "SELECT a FROM t WHERE tenant_id = ?1 AND id IN (SELECT id FROM u WHERE tenant_id = ?1 AND k = ?2)"
        );
        assert_eq!(sqlite_placeholders("UPDATE t SET a = $2 WHERE id = $1"), "UPDATE t SET a = ?2 WHERE id = ?1");
        // Starting past 1, or skipping one.
        assert_eq!(sqlite_placeholders("x = $2"), "x = ?2");
        assert_eq!(sqlite_placeholders("x = $1 AND y = $3"), "x = ?1 AND y = ?3");
        // A `$` without a digit is not a placeholder.
        assert_eq!(sqlite_placeholders("x = '$a' AND y = $1"), "x = '$a' AND y = ?");
    }
}
