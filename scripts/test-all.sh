#!/usr/bin/env bash
# Sets up a fresh Debian machine and runs the whole test suite: type check, lint, build of the
# single binary, and every test (real pi, real SQLite, real sockets, real Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-deps.sh

echo "== typecheck"; bun run typecheck
echo "== lint"; bun run lint
echo "== build"; bun run build
echo "== tests"; bun run test
