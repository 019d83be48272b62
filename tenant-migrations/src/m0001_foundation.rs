//! Foundation tables: tenants, sites, people, devices, credentials, readings, live state.

use sea_orm_migration::prelude::*;

use crate::Dialect;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0001_foundation"
    }
}

const VALUES: &str = "
    energy_total_x100 BIGINT,
    energy_t1_x100 BIGINT,
    energy_t2_x100 BIGINT,
    energy_t3_x100 BIGINT,
    energy_t4_x100 BIGINT,
    reverse_energy_x100 BIGINT,
    voltage_a_x10 BIGINT,
    voltage_b_x10 BIGINT,
    voltage_c_x10 BIGINT,
    current_a_x1000 BIGINT,
    current_b_x1000 BIGINT,
    current_c_x1000 BIGINT,
    active_power_x10000 BIGINT,
    reactive_power_x10000 BIGINT,
    power_factor_x1000 BIGINT,
    frequency_x100 BIGINT,
    max_demand_x10000 BIGINT,
    remaining_amount_x100 BIGINT,
    overdraft_amount_x100 BIGINT,
    status_word_3 INTEGER,
    phase_faults_a INTEGER,
    phase_faults_b INTEGER,
    phase_faults_c INTEGER";

const UP: &[&str] = &[
    "CREATE TABLE tenants (
        id TEXT NOT NULL PRIMARY KEY,
        name TEXT NOT NULL,
        slug TEXT NOT NULL UNIQUE,
        time_zone TEXT NOT NULL DEFAULT 'Asia/Shanghai',
        reading_interval_s INTEGER NOT NULL DEFAULT 1800,
        lost_after_intervals INTEGER NOT NULL DEFAULT 3,
        status TEXT NOT NULL DEFAULT 'ACTIVE',
        created_at {ts} NOT NULL
    )",
    "CREATE TABLE properties (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        address TEXT NOT NULL DEFAULT '',
        created_at {ts} NOT NULL,
        retired_at {ts},
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE TABLE areas (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        name TEXT NOT NULL,
        floor_area_m2_x100 BIGINT,
        created_at {ts} NOT NULL,
        retired_at {ts},
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, property_id) REFERENCES properties (tenant_id, id)
    )",
    "CREATE TABLE customers (
        tenant_id TEXT NOT NULL REFERENCES tenants (id),
        id TEXT NOT NULL,
        name TEXT NOT NULL,
        phone TEXT NOT NULL DEFAULT '',
        shop_no TEXT NOT NULL DEFAULT '',
        created_at {ts} NOT NULL,
        retired_at {ts},
        PRIMARY KEY (tenant_id, id)
    )",
    "CREATE TABLE accounts (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        customer_id TEXT NOT NULL,
        number TEXT NOT NULL,
        balance_x100 BIGINT NOT NULL DEFAULT 0,
        state TEXT NOT NULL DEFAULT 'OPEN',
        created_at {ts} NOT NULL,
        closed_at {ts},
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, number),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id)
    )",
    "CREATE TABLE gateways (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        serial TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        link_state TEXT NOT NULL DEFAULT 'NEVER_SEEN',
        last_seen_at {ts},
        created_at {ts} NOT NULL,
        retired_at {ts},
        PRIMARY KEY (tenant_id, id),
        UNIQUE (tenant_id, serial),
        FOREIGN KEY (tenant_id, property_id) REFERENCES properties (tenant_id, id)
    )",
    "CREATE TABLE meters (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        property_id TEXT NOT NULL,
        area_id TEXT,
        customer_id TEXT,
        account_id TEXT,
        gateway_id TEXT,
        address TEXT NOT NULL,
        model TEXT NOT NULL DEFAULT '',
        phases INTEGER NOT NULL,
        pt_ratio INTEGER NOT NULL DEFAULT 1,
        ct_ratio INTEGER NOT NULL DEFAULT 1,
        link_type TEXT NOT NULL,
        billing_mode TEXT NOT NULL DEFAULT 'PLATFORM_PREPAID',
        state TEXT NOT NULL DEFAULT 'ACTIVE',
        shop_no TEXT NOT NULL DEFAULT '',
        created_at {ts} NOT NULL,
        retired_at {ts},
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, property_id) REFERENCES properties (tenant_id, id),
        FOREIGN KEY (tenant_id, area_id) REFERENCES areas (tenant_id, id),
        FOREIGN KEY (tenant_id, customer_id) REFERENCES customers (tenant_id, id),
        FOREIGN KEY (tenant_id, account_id) REFERENCES accounts (tenant_id, id),
        FOREIGN KEY (tenant_id, gateway_id) REFERENCES gateways (tenant_id, id)
    )",
    "CREATE UNIQUE INDEX meters_address ON meters (tenant_id, address) WHERE retired_at IS NULL",
    "CREATE INDEX meters_area ON meters (tenant_id, area_id)",
    "CREATE INDEX meters_gateway ON meters (tenant_id, gateway_id)",
    "CREATE TABLE device_credentials (
        tenant_id TEXT NOT NULL,
        id TEXT NOT NULL,
        username TEXT NOT NULL,
        secret_hash TEXT NOT NULL,
        broker_hash TEXT NOT NULL DEFAULT '',
        meter_id TEXT,
        gateway_id TEXT,
        created_at {ts} NOT NULL,
        revoked_at {ts},
        PRIMARY KEY (tenant_id, id),
        FOREIGN KEY (tenant_id, meter_id) REFERENCES meters (tenant_id, id),
        FOREIGN KEY (tenant_id, gateway_id) REFERENCES gateways (tenant_id, id)
    )",
    "CREATE UNIQUE INDEX device_credentials_username ON device_credentials (username)",
    "CREATE TABLE readings (
        tenant_id TEXT NOT NULL,
        meter_id TEXT NOT NULL,
        read_at {ts} NOT NULL,
        received_at {ts} NOT NULL,
        {values},
        PRIMARY KEY (tenant_id, meter_id, read_at)
    )",
    "CREATE TABLE meter_live (
        tenant_id TEXT NOT NULL,
        meter_id TEXT NOT NULL,
        read_at {ts},
        last_seen_at {ts},
        link_state TEXT NOT NULL DEFAULT 'NEVER_SEEN',
        {values},
        PRIMARY KEY (tenant_id, meter_id),
        FOREIGN KEY (tenant_id, meter_id) REFERENCES meters (tenant_id, id)
    )",
];

const DOWN: &[&str] = &[
    "DROP TABLE meter_live",
    "DROP TABLE readings",
    "DROP TABLE device_credentials",
    "DROP TABLE meters",
    "DROP TABLE gateways",
    "DROP TABLE accounts",
    "DROP TABLE customers",
    "DROP TABLE areas",
    "DROP TABLE properties",
    "DROP TABLE tenants",
];

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let dialect = Dialect::of(manager);
        let db = manager.get_connection();
        for ddl in UP {
            db.execute_unprepared(&dialect.render(&ddl.replace("{values}", VALUES.trim_start()))).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        crate::apply(manager, DOWN).await
    }
}
