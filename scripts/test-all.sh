#!/usr/bin/env bash
# Sets up a fresh Debian machine and runs the whole test suite: type check, lint, build of the
# single binary, and every test (real pi, real SQLite, real sockets, real Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/setup-deps.sh

# As root the tests run Oqto's code as real unprivileged users (serve --run-as), who must be able
# to read it: a checkout they cannot reach (one under /root, say) is tested from a readable copy.
if [[ $(id -u) == 0 ]] && ! setpriv --reuid=65534 --regid=65534 --clear-groups -- test -r "$PWD/src/cli/main.ts"; then
  copy=/var/tmp/oqto-test-tree
  echo "setup: other users cannot read $PWD; testing a copy in $copy (screenshots land in $copy/test-output)"
  rm -rf "$copy"
  mkdir -p "$copy"
  tar -C "$PWD" --exclude=./.git -cf - . | tar -C "$copy" -xf -
  chmod -R a+rX "$copy"
  cd "$copy"
fi

echo "== typecheck"; bun run typecheck
echo "== lint"; bun run lint
echo "== build"; bun run build
echo "== tests"; bun run test
