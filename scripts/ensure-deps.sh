#!/usr/bin/env bash
# The repository's npm dependencies, installed when missing or older than package-lock.json, so that
# `npm run dev` and `npm test` work straight after a clone.
# `npm install`, not `npm ci`: the registry reachable here lacks LanceDB's builds for other platforms, which
# the lock file lists as optional; `npm ci` refuses that, `npm install` skips them.
# `--no-save`: install what the lock file says without rewriting it, so the clone stays as it was checked out.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	started=$SECONDS
	echo '[deps] installing the npm dependencies of this repository (~1,100 packages; first time about 1-3 minutes)' >&2
	npm install --no-save --no-audit --no-fund --loglevel=error
	echo "[deps] … done in $((SECONDS - started)) s" >&2
fi
