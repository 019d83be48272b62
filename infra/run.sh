#!/usr/bin/env bash
# The one command that runs the product on a fresh machine: it builds the portal (web/,
# installing Node.js and npm from Debian's packages when they are absent), then starts the
# release server with the demo tenant, the simulator, the payment and SMS stand-ins and the
# portal at http://127.0.0.1:8080/. Arguments go to `voltledger serve` (e.g. --http 0.0.0.0:8080).
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=infra/node.sh
. infra/node.sh
ensure_node
bash infra/build-web.sh

# VOLTLEDGER_PROFILE=dev runs the debug build (what the browser tests in CI use).
PROFILE="${VOLTLEDGER_PROFILE:-release}"
exec cargo run --profile "$PROFILE" --locked --bin voltledger -- serve --web-dir web/dist "$@"
