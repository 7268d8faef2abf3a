#!/usr/bin/env bash
# Installs Oqto on a fresh Debian machine (run as root from a checkout):
#   - Debian packages it needs (bubblewrap; Node.js/npm to fetch Bun), Bun from npm
#   - the single `oqto` executable, built from this checkout, at /usr/local/bin/oqto
#   - pi (the coding agent, pinned) under /usr/local/lib/oqto/pi, where oqto finds it
#   - the unprivileged Linux user `oqto` that agents, terminals and file operations run as
set -euo pipefail
cd "$(dirname "$0")"

if [[ $(id -u) -ne 0 ]]; then
  echo "install.sh: run as root (it installs Debian packages and writes to /usr/local)" >&2
  exit 1
fi

OQTO_SKIP_BROWSER=1 bash scripts/setup-deps.sh

echo "install: building dist/oqto"
bun run build
install -m 0755 dist/oqto /usr/local/bin/oqto

PI_VERSION=$(bun -e 'console.log(require("./package.json").dependencies["@mariozechner/pi-coding-agent"])')
PI_DIR=/usr/local/lib/oqto/pi
echo "install: pi ${PI_VERSION} into ${PI_DIR}"
mkdir -p "${PI_DIR}"
cat > "${PI_DIR}/package.json" <<JSON
{ "name": "oqto-pi", "private": true, "dependencies": { "@mariozechner/pi-coding-agent": "${PI_VERSION}" } }
JSON
(cd "${PI_DIR}" && bun install --production --no-summary)

# Agents never run as root: serve, started as root, runs its runner as this user (--run-as oqto).
if ! id oqto >/dev/null 2>&1; then
  echo "install: creating the unprivileged user 'oqto' that agents run as"
  useradd --system --create-home --home-dir /home/oqto --user-group --shell /usr/sbin/nologin oqto
fi

echo
echo "Oqto $(/usr/local/bin/oqto version) is installed. Start it with: oqto serve --run-as oqto"
