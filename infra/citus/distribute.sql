-- Distributes VoltLedger's schema by tenant on Citus (issue 21, part 6).
--
-- Run on the coordinator, connected to the application's database, after `voltledger
-- migrate` created the schema and before any data is written; and again after a migration
-- that adds a table (it only touches tables not yet distributed):
--
--   psql "$VOLTLEDGER__DATABASE__URL" -v ON_ERROR_STOP=1 -f infra/citus/distribute.sql
--
-- Every table with a `tenant_id` column is distributed by it, all co-located, so a tenant's
-- rows (readings, ledger, orders, …) live on one shard group and its transactions stay on
-- one node. Tables without `tenant_id` (the platform's own: tenants, platform operators and
-- sessions, the platform audit, merchant owners, the payment provider, job leases) and
-- `global_keys` (keys unique across tenants) are reference tables, copied to every node.
-- The catalog test `every_unique_index_of_a_tenant_table_leads_with_tenant_id`
-- (tests/it/production.rs) keeps the schema distributable: every unique index of a tenant
-- table leads with `tenant_id`, and so does every foreign key between tenant tables.

CREATE EXTENSION IF NOT EXISTS citus;

DO $$
DECLARE
    t text;
BEGIN
    -- Reference tables first: distributed tables hold foreign keys to `tenants`.
    FOR t IN
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
          AND c.relname NOT IN ('seaql_migrations')
          AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)
          AND (c.relname = 'global_keys'
               OR NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
        ORDER BY (c.relname <> 'tenants'), c.relname
    LOOP
        RAISE NOTICE 'reference table %', t;
        PERFORM create_reference_table(t);
    END LOOP;

    FOR t IN
        SELECT c.relname FROM pg_class c
        WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = 'r'
          AND c.relname NOT IN ('global_keys', 'seaql_migrations')
          AND NOT EXISTS (SELECT 1 FROM pg_dist_partition p WHERE p.logicalrelid = c.oid)
          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
        ORDER BY c.relname
    LOOP
        RAISE NOTICE 'distributed by tenant_id: %', t;
        PERFORM create_distributed_table(t, 'tenant_id', colocate_with => 'default');
    END LOOP;
END $$;
