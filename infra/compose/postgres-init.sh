#!/bin/sh
# Runs once, when the PostgreSQL volume is new: the login `voltledger`, not a superuser,
# owning the database `voltledger`. Row-level security binds the tables' owner (FORCE), so
# this login is held by the tenant wall itself (docs/SECURITY.md). Its password is the one
# inside the `database_url` secret (gen-secrets.sh writes both).
set -eu
password="$(cat /run/secrets/db_password)"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres -v pw="$password" <<'SQL'
CREATE ROLE voltledger LOGIN PASSWORD :'pw';
CREATE DATABASE voltledger OWNER voltledger;
SQL
