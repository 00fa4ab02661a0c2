#!/usr/bin/env bash
# Builds this pack and installs it into an n8n user folder the way n8n 2.41's own community
# install does (CommunityPackagesService.downloadPackage): `npm pack`, unpack into
# `<user folder>/.n8n/nodes/node_modules/<name>`, drop dev/peer/optional dependencies from its
# package.json, `npm install` its dependencies inside it without install scripts, and record it in
# `.n8n/nodes/package.json`. n8n then loads it at start and names node types
# `n8n-nodes-symbiotic.<node>`, exactly as users get them.
#
# Usage: scripts/pack-install.sh [--skip-build] [--nodes-dir DIR]
#   --nodes-dir  install into DIR instead of "$N8N_USER_FOLDER/.n8n/nodes"
#                (N8N_USER_FOLDER defaults to ${SYMBIOTIC_HOME:-$HOME/.n8n-symbiotic})
#   --skip-build pack the current dist/ as it is (the caller already built it)
# The install is skipped when the packed content equals the last installed one, so a second
# run costs a build and a pack (seconds) instead of a dependency install.
set -euo pipefail

repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
nodes_dir="${N8N_USER_FOLDER:-${SYMBIOTIC_HOME:-$HOME/.n8n-symbiotic}}/.n8n/nodes"
skip_build=false

while [ $# -gt 0 ]; do
	case "$1" in
		--skip-build) skip_build=true ;;
		--nodes-dir) nodes_dir="${2:?--nodes-dir needs a folder}"; shift ;;
		*) echo "pack-install: unknown argument '$1' (known: --skip-build, --nodes-dir DIR)" >&2; exit 2 ;;
	esac
	shift
done

log() { echo "[pack-install] $*" >&2; }

# shellcheck source=scripts/progress.sh
source "$(dirname "${BASH_SOURCE[0]}")/progress.sh"

work_dir="$(mktemp -d)"
trap 'rm -rf "$work_dir"' EXIT

if ! $skip_build; then
	log 'building the pack (npm run build: TypeScript to dist/, about 10-30 s)'
	build_started=$SECONDS
	# n8n-node draws a spinner; keep it in a log and show the log only when the build fails.
	build() { (cd "$repo_dir" && npm run build >"$work_dir/build.log" 2>&1); }
	if ! with_progress 'building' build; then
		log 'build failed; fix the errors below, then rerun:'
		grep -E 'error|Error' "$work_dir/build.log" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g' | head -n 40 >&2
		exit 1
	fi
	log "  … built in $((SECONDS - build_started)) s"
fi
[ -d "$repo_dir/dist" ] || { log "no dist/ folder in $repo_dir: run 'npm run build' first"; exit 1; }

node_count="$(cd "$repo_dir" && node -p "(require('./package.json').n8n.nodes || []).length")"
[ "$node_count" -gt 0 ] || log 'package.json lists no nodes yet: installing the pack anyway (n8n will show none of its nodes)'

tgz_name="$(cd "$repo_dir" && npm pack --silent --pack-destination "$work_dir" | tail -n 1)"
tgz="$work_dir/$tgz_name"

# The tarball's bytes change with mtimes; hash the unpacked content instead.
mkdir "$work_dir/content"
tar -xzf "$tgz" -C "$work_dir/content"
content_hash="$(cd "$work_dir/content" && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
stamp="$nodes_dir/.symbiotic-pack-hash"

# One install at a time per folder (a dev server and a test run may share the e2e folder).
mkdir -p "$nodes_dir"
exec 9>"$nodes_dir/.install.lock"
flock 9

package_name="$(node -p "require('$work_dir/content/package/package.json').name")"
package_dir="$nodes_dir/node_modules/$package_name"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$content_hash" ] && [ -d "$package_dir" ]; then
	log "pack unchanged; already installed in $package_dir"
	exit 0
fi

mkdir -p "$nodes_dir/node_modules"
[ -f "$nodes_dir/package.json" ] || echo '{ "name": "installed-nodes", "private": true, "dependencies": {} }' >"$nodes_dir/package.json"

# Strip the manifest as n8n does before installing; keep the installed dependencies when they
# did not change (a code-only change then installs in a second).
deps_hash_of() { node -e "const p = require(process.argv[1]); process.stdout.write(JSON.stringify(p.dependencies || {}))" "$1" | sha256sum | cut -d' ' -f1; }
node -e "
	const fs = require('fs');
	const file = process.argv[1];
	const { devDependencies, peerDependencies, optionalDependencies, ...manifest } = JSON.parse(fs.readFileSync(file, 'utf8'));
	fs.writeFileSync(file, JSON.stringify(manifest, null, 2));
" "$work_dir/content/package/package.json"
kept_modules=''
if [ -d "$package_dir/node_modules" ] && [ -f "$package_dir/package.json" ] \
	&& [ "$(deps_hash_of "$package_dir/package.json")" = "$(deps_hash_of "$work_dir/content/package/package.json")" ]; then
	kept_modules="$work_dir/kept-node_modules"
	mv "$package_dir/node_modules" "$kept_modules"
fi
rm -rf "$package_dir"
mv "$work_dir/content/package" "$package_dir"

started=$SECONDS
if [ -n "$kept_modules" ]; then
	mv "$kept_modules" "$package_dir/node_modules"
	log "dependencies unchanged; updated the pack's files in $package_dir"
else
	log "installing the pack's dependencies into $package_dir as n8n's community install does"
	log "  (~210 packages, ~710 MB, most of it LanceDB's native build and its optional embedding stack: about 25 s with a warm npm cache, 1-3 min without)"
	# The flags n8n 2.41 itself uses (CommunityPackagesService.downloadPackage): notably no install
	# scripts, so every native part must come prebuilt in an npm package (LanceDB's does).
	install_dependencies() {
		(cd "$package_dir" && npm install --audit=false --fund=false --bin-links=false --install-strategy=shallow \
			--ignore-scripts=true --package-lock=false --loglevel=error >&2)
	}
	with_progress "installing the pack's dependencies" install_dependencies
fi
node -e "
	const fs = require('fs');
	const [file, name, version] = process.argv.slice(1);
	const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
	manifest.dependencies = { ...manifest.dependencies, [name]: version };
	fs.writeFileSync(file, JSON.stringify(manifest, null, 2));
" "$nodes_dir/package.json" "$package_name" "$(node -p "require('$package_dir/package.json').version")"
echo "$content_hash" >"$stamp"
log "installed in $((SECONDS - started)) s"
