#!/usr/bin/env bash
# Builds the portal into web/dist when its sources changed since the last build: installs the
# locked npm packages (npm ci) when the lock file changed, then type-checks and bundles.
set -euo pipefail
cd "$(dirname "$0")/../web"

if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "== npm ci (web/)"
  npm ci --no-audit --no-fund --loglevel=error
fi

stale() {
  [ ! -f dist/index.html ] && return 0
  [ -n "$(find src public index.html package.json package-lock.json vite.config.ts tsconfig*.json -newer dist/index.html -print -quit 2>/dev/null)" ]
}

if stale; then
  echo "== building the portal (web/dist)"
  npm run build --silent
fi
