#!/usr/bin/env bash
# Installs what building and testing Oqto needs on a fresh Debian machine (run as root):
# Debian packages (bubblewrap, chromium, Node.js/npm, iproute2, unzip when missing), Bun from npm, and the
# project's npm dependencies from the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v npm >/dev/null || missing+=(nodejs npm)
if [[ "${OQTO_SKIP_BROWSER:-0}" != 1 && ! -x /usr/bin/chromium ]]; then missing+=(chromium); fi
command -v git >/dev/null || missing+=(git)
# The tests' own tools: the sandbox attacks try `ip link add`; the zip tests read archives back.
command -v ip >/dev/null || missing+=(iproute2)
command -v unzip >/dev/null || missing+=(unzip)
command -v curl >/dev/null || missing+=(curl) # the REST tests follow an event stream with curl -N
# tests/install/ checks install.sh with it.
command -v shellcheck >/dev/null || missing+=(shellcheck)
if ((${#missing[@]} > 0)); then
  echo "setup: installing Debian packages: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v bun >/dev/null; then
  echo "setup: installing bun from npm"
  npm install -g bun@1.4.5
fi

echo "setup: bun $(bun --version); installing npm dependencies"
bun install --frozen-lockfile
