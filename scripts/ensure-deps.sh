#!/usr/bin/env bash
# The repository's npm dependencies, installed when missing or older than package-lock.json, so that
# `npm run dev` and `npm test` work straight after a clone.
# `npm install`, not `npm ci`: the registry reachable here lacks LanceDB's builds for other platforms, which
# the lock file lists as optional; `npm ci` refuses that, `npm install` skips them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	echo '[deps] installing npm dependencies (npm install)' >&2
	npm install --no-audit --no-fund --loglevel=error
fi
