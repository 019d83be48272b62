#!/bin/sh
# Writes the secrets infra/compose needs into ./secrets, one file each, never over an
# existing file (a new KEK would make every stored meter and payee key unreadable).
# Needs openssl. Run from this folder: sh gen-secrets.sh
set -eu
cd "$(dirname "$0")"
umask 077
mkdir -p secrets
chmod 700 secrets

new() { # name value
  if [ -e "secrets/$1" ]; then
    echo "secrets/$1 exists; kept"
  else
    printf '%s' "$2" > "secrets/$1"
    echo "secrets/$1 written"
  fi
}

new postgres_password "$(openssl rand -hex 24)"
new db_password "$(openssl rand -hex 24)"
# The URL carries the db_password (postgres-init.sh gives the login that password).
new database_url "postgres://voltledger:$(cat secrets/db_password)@postgres:5432/voltledger"
new jwt_secret "$(openssl rand -hex 32)"
new kek "$(openssl rand -hex 32)"
new internal_token "$(openssl rand -hex 24)"
new bridge_password "$(openssl rand -hex 24)"
new grafana_admin_password "$(openssl rand -hex 16)"

# The containers run as other users (voltledger 10001, postgres 999, grafana 472) and Compose
# mounts these files as they are: readable by all inside the directory, which only the
# owner may enter.
chmod 444 secrets/*

echo
echo "Copy secrets/kek to your secret manager now, apart from any database backup:"
echo "without it, a restored database cannot unwrap its meter and payee keys."
