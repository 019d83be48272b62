#!/usr/bin/env bash
# The one command that runs the product on a fresh machine: it builds the portal (web/,
# installing Node.js and npm from Debian's packages when they are absent), then starts the
# release server with the demo tenant, the simulator, the payment and SMS stand-ins and the
# portal at http://127.0.0.1:8080/. Arguments go to `voltledger serve` (e.g. --http 0.0.0.0:8080).
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then SUDO="sudo"; fi

if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "== installing Node.js and npm (Debian packages)"
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
fi

bash infra/build-web.sh

exec cargo run --release --locked --bin voltledger -- serve --web-dir web/dist "$@"
