#!/usr/bin/env bash
# Measures the pack as n8n's Community Nodes screen installs it (issue 11, item 3a): builds it, installs it
# with scripts/pack-install.sh (n8n 2.41's own steps: npm pack, unpack, strip dev/peer/optional
# dependencies, `npm install` inside the package folder) into a temporary folder, prints the installed size
# of the package folder (its node_modules included) and its 10 biggest packages, and fails above a limit.
#
# Usage: scripts/install-size.sh [LIMIT_MB] [--skip-build]
#   LIMIT_MB     fail (exit 1) when the installed folder takes more than this many MiB (default 250)
#   --skip-build measure the current dist/ as it is (the caller already built it)
# Sizes are disk usage (du), in MiB. A package's own size leaves out the packages nested in it.
set -euo pipefail

repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
limit_mb=250
pack_args=()
for arg in "$@"; do
	case "$arg" in
		--skip-build) pack_args+=(--skip-build) ;;
		*[!0-9]* | '') echo "install-size: unknown argument '$arg' (usage: [LIMIT_MB] [--skip-build])" >&2; exit 2 ;;
		*) limit_mb="$arg" ;;
	esac
done

nodes_dir="$(mktemp -d "${TMPDIR:-/tmp}/symbiotic-install-size.XXXXXX")"
trap 'rm -rf "$nodes_dir"' EXIT

bash "$repo_dir/scripts/pack-install.sh" ${pack_args[@]+"${pack_args[@]}"} --nodes-dir "$nodes_dir"

package_name="$(cd "$repo_dir" && node -p "require('./package.json').name")"
package_dir="$nodes_dir/node_modules/$package_name"
[ -d "$package_dir" ] || { echo "install-size: nothing installed in $package_dir" >&2; exit 1; }

total_mb="$(du -sm "$package_dir" | cut -f1)"
echo "installed size of $package_name as n8n installs it: $total_mb MiB (limit $limit_mb MiB)"
echo "biggest packages (own size, nested packages not counted):"
find "$package_dir/node_modules" -regextype posix-extended -type f \
	-regex '.*/node_modules/(@[^/]+/)?[^/@]+/package\.json' -printf '%h\n' |
	while read -r dir; do
		printf '%s\t%s\n' "$(du -sm --exclude=node_modules "$dir" | cut -f1)" "${dir#"$package_dir"/}"
	done |
	sort -rn | awk 'NR <= 10' |  # not head: it would close the pipe early, and pipefail would fail on sort's SIGPIPE
	while IFS=$'\t' read -r mb path; do
		printf '  %6s MiB  %s\n' "$mb" "$(echo "$path" | sed -E 's#^node_modules/##; s#/node_modules/# > #g')"
	done

if [ "$total_mb" -gt "$limit_mb" ]; then
	echo "install-size: FAIL: $total_mb MiB is more than the limit of $limit_mb MiB" >&2
	exit 1
fi
echo "install-size: PASS ($total_mb MiB <= $limit_mb MiB)"
