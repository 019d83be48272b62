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

    pub fn push(&mut self, v: Value) -> usize {
        self.0.push(v);
        self.0.len()
    }
}

pub fn stmt(backend: DbBackend, sql: &str, args: Args) -> Statement {
    Statement::from_sql_and_values(backend, sql, args.0)
}
