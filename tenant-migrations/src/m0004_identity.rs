//! People and walls: roles, operators and their property scope, sessions with rotating
//! refresh tokens, park-platform clients, WeChat mini-program logins bound to customers,
//! and the audit log.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const UP: &[&str] = &[
    "CREATE TABLE roles (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        permissions TEXT NOT NULL,
        builtin INTEGER NOT NULL DEFAULT 0,
        created_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, name)
    )",
    "CREATE TABLE operators (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        username TEXT NOT NULL,
        display_name TEXT NOT NULL DEFAULT '',
        password_hash TEXT NOT NULL,
        role_id TEXT NOT NULL,
        all_properties INTEGER NOT NULL DEFAULT 1,
        status TEXT NOT NULL DEFAULT 'ACTIVE',
        password_changed_at {ts} NOT NULL,
        last_login_at {ts},
        created_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, username),
        FOREIGN KEY (tenant_id, role_id) REFERENCES roles (tenant_id, id)
    )",
    "CREATE TABLE operator_properties (
        tenant_id TEXT NOT NULL,
        operator_id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        PRIMARY KEY (tenant_id, operator_id, property_id),
        FOREIGN KEY (tenant_id, operator_id) REFERENCES operators (tenant_id, id),
        FOREIGN KEY (tenant_id, property_id) REFERENCES properties (tenant_id, id)
    )",
    "CREATE TABLE sessions (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        principal_kind TEXT NOT NULL,
        principal_id TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        user_agent TEXT NOT NULL DEFAULT '',
        created_at {ts} NOT NULL,
        last_used_at {ts} NOT NULL,
        expires_at {ts} NOT NULL,
        revoked_at {ts},
        revoked_reason TEXT,
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE INDEX sessions_principal ON sessions (tenant_id, principal_kind, principal_id)",
    "CREATE TABLE refresh_tokens (
        token_hash TEXT NOT NULL PRIMARY KEY,
        tenant_id TEXT NOT NULL,
        session_id TEXT NOT NULL,
        issued_at {ts} NOT NULL,
        used_at {ts},
        FOREIGN KEY (tenant_id, session_id) REFERENCES sessions (tenant_id, id)
    )",
    "CREATE TABLE park_clients (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        client_id TEXT NOT NULL UNIQUE,
        secret_hash TEXT NOT NULL,
        scopes TEXT NOT NULL,
        property_ids TEXT NOT NULL,
        created_at {ts} NOT NULL,
        rotated_at {ts},
        revoked_at {ts},
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE TABLE wechat_apps (
        tenant_id TEXT NOT NULL PRIMARY KEY REFERENCES tenants (id),
        app_id TEXT NOT NULL UNIQUE,
        wrapped_secret TEXT NOT NULL,
        api_base TEXT NOT NULL,
        updated_at {ts} NOT NULL
    )",
    "CREATE TABLE customer_logins (
        tenant_id TEXT NOT NULL,
        openid TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        bound_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, openid),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
    )",
    "CREATE TABLE audit_log (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        at {ts} NOT NULL,
        actor_kind TEXT NOT NULL,
        actor_id TEXT NOT NULL,
        actor_name TEXT NOT NULL,
        action TEXT NOT NULL,
        target_id TEXT,
        input TEXT NOT NULL,
        before_state TEXT,
        after_state TEXT,
        outcome TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE INDEX audit_log_at ON audit_log (tenant_id, at)",
    "CREATE TABLE wechat_templates (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        alarm_kind TEXT NOT NULL,
        template_id TEXT NOT NULL,
        fields TEXT NOT NULL,
        page TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (tenant_id, alarm_kind)
    )",
    "CREATE TABLE subscription_quotas (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        openid TEXT NOT NULL,
        template_id TEXT NOT NULL,
        remaining INTEGER NOT NULL,
        updated_at {ts} NOT NULL,
        PRIMARY KEY (tenant_id, openid, template_id)
    )",
    "ALTER TABLE notifications ADD COLUMN channel TEXT NOT NULL DEFAULT 'SMS'",
];

/// PostgreSQL only: the second wall. A role for the application without superuser rights,
/// and on every table with a `tenant_id` the policy `tenant_wall`: a transaction that names a
/// tenant (`SELECT set_config('voltledger.tenant', …, true)`) sees and writes only its rows;
/// platform work (ingestion routing, sweeps) names none. FORCE makes it bind the owner too.
/// A later migration that adds a tenant table runs `voltledger_tenant_wall()` again.
const POSTGRES_WALL: &[&str] = &[
    "DO $$ BEGIN
        CREATE ROLE voltledger_app NOLOGIN;
     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
               WHEN insufficient_privilege THEN RAISE NOTICE 'cannot create role voltledger_app; run as a non-superuser owner instead';
     END $$",
    "DO $$ BEGIN
        EXECUTE format('GRANT voltledger_app TO %I', current_user);
        EXECUTE format('GRANT USAGE ON SCHEMA %I TO voltledger_app', current_schema());
        EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA %I TO voltledger_app', current_schema());
        EXECUTE format('ALTER DEFAULT PRIVILEGES IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO voltledger_app', current_schema());
     EXCEPTION WHEN undefined_object OR insufficient_privilege OR invalid_grant_operation THEN RAISE NOTICE 'voltledger_app not granted';
     END $$",
    "CREATE OR REPLACE FUNCTION voltledger_tenant_wall() RETURNS void LANGUAGE plpgsql AS $$
     DECLARE t text;
     BEGIN
        FOR t IN SELECT c.table_name FROM information_schema.columns c
                 JOIN pg_class k ON k.relname = c.table_name AND k.relnamespace = current_schema()::regnamespace
                 WHERE c.column_name = 'tenant_id' AND c.table_schema = current_schema() AND k.relkind = 'r' AND NOT k.relrowsecurity
        LOOP
            EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY', t);
            EXECUTE format('ALTER TABLE %I FORCE ROW LEVEL SECURITY', t);
            EXECUTE format($p$CREATE POLICY tenant_wall ON %I
                USING (COALESCE(current_setting('voltledger.tenant', true), '') = '' OR tenant_id = current_setting('voltledger.tenant', true))
                WITH CHECK (COALESCE(current_setting('voltledger.tenant', true), '') = '' OR tenant_id = current_setting('voltledger.tenant', true))$p$, t);
        END LOOP;
     END $$",
    "SELECT voltledger_tenant_wall()",
];

const DOWN: &[&str] = &[
    "ALTER TABLE notifications DROP COLUMN channel",
    "DROP TABLE subscription_quotas",
    "DROP TABLE wechat_templates",
    "DROP TABLE audit_log",
    "DROP TABLE customer_logins",
    "DROP TABLE wechat_apps",
    "DROP TABLE park_clients",
    "DROP TABLE refresh_tokens",
    "DROP TABLE sessions",
    "DROP TABLE operator_properties",
    "DROP TABLE operators",
    "DROP TABLE roles",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, UP).await?;
        crate::apply_on_postgres(manager, POSTGRES_WALL).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, DOWN).await
    }
}
