# Sourced by infra/run.sh and .ci/run: puts a Node.js of at least 20.19 (the portal's build
# tools need it) and npm on PATH. Uses the machine's when new enough; otherwise installs
# Debian's npm when npm is absent, then Node.js 22 from the npm registry (the `node` package
# carries the official binaries) into a cache outside the clone.

node_ok() {
  command -v node >/dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)'
}

ensure_node() {
  node_ok && command -v npm >/dev/null && return 0
  local sudo=""
  if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo="sudo"; fi
  if ! command -v npm >/dev/null; then
    echo "== installing npm and Node.js (Debian packages)"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm
  fi
  node_ok && return 0
  local dir="${VOLTLEDGER_NODE_DIR:-$HOME/.cache/voltledger/node22}"
  if [ ! -x "$dir/node_modules/.bin/node" ]; then
    echo "== Node.js $(node --version 2>/dev/null || echo absent) is too old for the portal's tools; installing Node.js 22 from the npm registry"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error node@22
  fi
  export PATH="$dir/node_modules/.bin:$PATH"
  node_ok || { echo "no usable Node.js (need 20.19 or newer)" >&2; return 1; }
}
