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

/// Builds a statement from SQL written with `$n` placeholders. On SQLite they become `?n`:
/// SQLite resolves `$name` parameters by a linear search over the names seen so far, which
/// made a 1,000-row insert (27,000 parameters) quadratic; `?n` is a direct index.
pub fn stmt(backend: DbBackend, sql: &str, args: Args) -> Statement {
    if backend == DbBackend::Sqlite {
        let mut out = String::with_capacity(sql.len());
        let mut chars = sql.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '$' && chars.peek().is_some_and(|n| n.is_ascii_digit()) {
                out.push('?');
            } else {
                out.push(c);
            }
        }
        return Statement::from_sql_and_values(backend, out, args.0);
    }
    Statement::from_sql_and_values(backend, sql, args.0)
}
