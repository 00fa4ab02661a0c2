#!/usr/bin/env bash
# Checks the pack's native runtime dependencies before users hit them (issue 11, item 3b): LanceDB
# (@lancedb/lancedb, the vector store) and resvg-js (@resvg/resvg-js, which rasterises the review-report chart
# to PNG). Both are napi-rs modules with one prebuilt package per platform. Most users run n8n's Docker image
# (Alpine, musl libc, x64 or arm64); LanceDB's musl build has shipped broken before (0.27.x referenced a
# symbol nothing defines, so it failed to load on Alpine). Without Docker or Alpine here, the musl check is
# static, and the same for every module:
#   musl (x64 and arm64): fetches <package>-linux-<arch>-musl@<version> (@lancedb/lancedb-linux-x64-musl,
#     @resvg/resvg-js-linux-arm64-musl, ...) with `npm pack` (no install scripts) and reads each .node ELF
#     in it (lancedb.linux-<arch>-musl.node, resvgjs.linux-<arch>-musl.node) with readelf:
#       elf     - a 64-bit shared object for the right machine;
#       needed  - its NEEDED libraries are ones every n8n Alpine image has: musl's libc under any of the names
#                 musl's loader maps to itself (libc.so, libc.musl-<arch>.so.1, ld-musl-<arch>.so.1,
#                 libm/libdl/libpthread/librt/libutil/libxnet.so*), and libgcc_s.so.1 (Rust's unwinder needs
#                 it; Alpine's Node links it itself). libstdc++ is there too, but its API cannot be checked
#                 here, so it fails;
#       glibc   - no GLIBC_* versioned symbol reference or version requirement (but aarch64's libgcc_s
#                 versions two weakly referenced symbols GLIBC_2.0; those pass);
#       symbols - every non-weak undefined dynamic symbol is defined by Debian's musl libc.so (Debian 12 has musl
#                 1.2.3, current Alpine 1.2.5: a symbol new in 1.2.4+ would fail here, never pass wrongly),
#                 by libgcc_s (the exports of the host's gnu libgcc_s.so.1, version tags stripped) or by
#                 Node 24's N-API (napi_* / node_api_* exported by the Node 24 binary). Weak ones may stay
#                 unresolved. Debian's musl exists for the host architecture only, so the other
#                 architecture is checked against the host's musl symbol list (musl exports the same names
#                 on x86_64 and aarch64, bar a few x86-only calls such as iopl) - the line says so.
#   gnu load: requires the module from the repository's node_modules in the pinned Node 24 (the n8n runtime,
#     scripts/n8n-runtime.sh), checks that the linux gnu build is what loaded, and uses it for real:
#       @lancedb/lancedb - connect to a temp folder, create a table with vectors, count, vector-search, close;
#       @resvg/resvg-js  - render a 10x10 red rect to PNG with renderAsync (the worker pool the pack uses):
#                          PNG signature, 10x10 in the IHDR, and a red pixel.
#
# Usage: scripts/check-native-modules.sh [VERSION | PACKAGE@VERSION ...]
#   Each module is checked at its version in package-lock.json unless an argument names another:
#     VERSION                   LanceDB's version (the interface of the former check-lancedb-native.sh),
#                               e.g. 0.27.0
#     @lancedb/lancedb@VERSION  the same
#     @resvg/resvg-js@VERSION   resvg-js's version
#   A module checked at another version than the locked one gets its musl builds checked at that version and
#   its gnu load check skipped (only what node_modules holds can be loaded); the other modules are checked
#   as usual, at their locked versions.
# Environment:
#   NATIVE_REQUIRE_ALL=1          a musl package missing from the registry fails instead of being skipped
#                                 (the x64 one always fails when missing; arm64 is skipped by default
#                                 because the registry mirror CI uses lacks LanceDB's arm64 builds).
#                                 LANCEDB_NATIVE_REQUIRE_ALL=1, its former name, works too.
#   NODE24_BIN=/path/to/node      the Node 24 to use instead of the n8n runtime's
# Output: one line per check on stdout (PASS / FAIL / SKIP); exit 1 if any check failed.
# Needs readelf (binutils) and Debian's musl package; installs them with apt-get when missing and root.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"

log() { echo "[native-modules] $*" >&2; }
failed=0
pass() { echo "[native-modules] PASS $*"; }
fail() { echo "[native-modules] FAIL $*"; failed=1; }
skip() { echo "[native-modules] SKIP $*"; }

# --- the modules: npm package (its musl builds are <package>-linux-<arch>-musl) and the .node file glob ----
modules=(@lancedb/lancedb @resvg/resvg-js)
declare -A node_glob=([@lancedb/lancedb]='lancedb.linux-*-musl.node' [@resvg/resvg-js]='resvgjs.linux-*-musl.node')
declare -A lock_version version

version_pattern='^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$'
for module in "${modules[@]}"; do
	lock_version[$module]="$(node -p "require('./package-lock.json').packages['node_modules/$module'].version")"
	version[$module]="${lock_version[$module]}"
done
for arg in "$@"; do
	if [[ "$arg" =~ $version_pattern ]]; then
		version[@lancedb/lancedb]="$arg"
	elif [[ "$arg" == ?*@* ]] && [ -n "${node_glob[${arg%@*}]:-}" ] && [[ "${arg##*@}" =~ $version_pattern ]]; then
		version[${arg%@*}]="${arg##*@}"
	else
		log "not a version nor one of ${modules[*]} followed by @version: '$arg'"
		exit 2
	fi
done

tmp="$(mktemp -d)"
trap 'wait; rm -rf "$tmp"' EXIT

# --- musl packages: fetched in the background while the tools and Node 24 are set up ---------------------
# The folder one module's musl package for one architecture is unpacked into.
musl_dir() { echo "$tmp/musl/$(tr -c 'A-Za-z0-9.\n-' _ <<<"$1")-$2"; }
# Downloads a module's musl package for one architecture and unpacks its .node files into musl_dir; run in
# the background for every module and architecture at once (LanceDB's tarballs are 50-70 MB; unpacking is
# most of this script's time). Leaves the .node files, or a `status` file saying why there are none:
# "missing: ..." or "error: ...".
fetch_musl() {
	local module="$1" arch="$2" dir out
	local pkg="$module-linux-$arch-musl@${version[$module]}"
	dir="$(musl_dir "$module" "$arch")"
	mkdir -p "$dir"
	# npm pack only downloads the tarball and runs no scripts; --prefer-offline takes it from npm's
	# cache without asking the registry again when an earlier run fetched it. A "no such version" from a
	# stale cached package list is retried online.
	if ! out="$(cd "$dir" && npm pack --loglevel=error --prefer-offline --ignore-scripts "$pkg" 2>&1)" &&
		! { grep -qE 'E404|ETARGET' <<<"$out" && out="$(cd "$dir" && npm pack --loglevel=error --ignore-scripts "$pkg" 2>&1)"; }; then
		if grep -qE 'E404|ETARGET' <<<"$out"; then
			echo "missing: $pkg is not on the registry reachable here" >"$dir/status"
		else
			echo "error: npm pack $pkg failed: $(grep -m1 -E 'npm (error|ERR)' <<<"$out" || tail -n 1 <<<"$out")" >"$dir/status"
		fi
		return
	fi
	# Every .node file: check_musl picks the ones matching the module's glob and fails when none does.
	tar -xzf "$dir"/*.tgz -C "$dir" --wildcards '*.node' 2>/dev/null || true
	rm -f "$dir"/*.tgz
}

fetch_pids=()
for module in "${modules[@]}"; do
	for arch in x64 arm64; do
		fetch_musl "$module" "$arch" &
		fetch_pids+=($!)
	done
done

# --- tools: readelf and Debian's musl (its libc.so is the musl symbol list) -------------------------------
host_arch="$(uname -m)" # x86_64 or aarch64, the names musl uses
find_musl_libc() {
	local f
	for f in "/lib/$host_arch-linux-musl/libc.so" "/usr/lib/$host_arch-linux-musl/libc.so" \
		/usr/lib/musl/lib/libc.so "/lib/ld-musl-$host_arch.so.1"; do
		[ -f "$f" ] && { echo "$f"; return; }
	done
}
missing_pkgs=()
command -v readelf >/dev/null || missing_pkgs+=(binutils)
[ -n "$(find_musl_libc)" ] || missing_pkgs+=(musl)
if [ ${#missing_pkgs[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		log "installing Debian ${missing_pkgs[*]}"
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing_pkgs[@]}" >/dev/null
	else
		log "missing ${missing_pkgs[*]} (Debian: sudo apt-get install ${missing_pkgs[*]})"
		exit 1
	fi
fi
musl_libc="$(find_musl_libc)"
[ -n "$musl_libc" ] || { log "Debian's musl is installed but no musl libc.so was found"; exit 1; }

# Defined (exported) dynamic symbols of an ELF file, version tags stripped, sorted.
# readelf --dyn-syms -W columns: Num: Value Size Type Bind Vis Ndx Name
exported_symbols() {
	readelf --dyn-syms -W "$1" | awk 'NF >= 8 && $7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") {
		s = $8; sub(/@.*/, "", s); print s }' | LC_ALL=C sort -u
}
exported_symbols "$musl_libc" >"$tmp/musl.syms"

libgcc_s="$( (ldconfig -p 2>/dev/null | awk '$1 == "libgcc_s.so.1" { print $NF; exit }') || true)"
[ -n "$libgcc_s" ] || libgcc_s="$(find /lib /usr/lib -maxdepth 2 -path '*-linux-gnu/libgcc_s.so.1' -print -quit 2>/dev/null || true)"
if [ -n "$libgcc_s" ]; then exported_symbols "$libgcc_s" >"$tmp/libgcc_s.syms"; else : >"$tmp/libgcc_s.syms"; log "no libgcc_s.so.1 found: its symbols count as missing"; fi

# --- Node 24: its exported N-API is the N-API list, and it runs the gnu load checks ----------------------
cache_dir="${SYMBIOTIC_CACHE:-$HOME/.cache/n8n-symbiotic}"
node_bin="${NODE24_BIN:-}"
if [ -z "$node_bin" ]; then
	if [ -f "$cache_dir/node-24/.installed" ]; then
		# Already there: use it directly instead of waiting on the runtime lock while n8n itself installs.
		node_bin="$cache_dir/node-24/node_modules/.bin/node"
	else
		node_bin="$(bash scripts/n8n-runtime.sh | sed -n 's/^NODE_BIN=//p')"
	fi
fi
node_version="$("$node_bin" --version)"
[[ "$node_version" == v24.* ]] || { log "$node_bin is Node $node_version, not 24"; exit 1; }
node_real="$(readlink -f "$node_bin")"
napi_source="Node $node_version's exports"
grep -E '^(napi|node_api)_' <(exported_symbols "$node_real") >"$tmp/napi.syms" || true
if [ ! -s "$tmp/napi.syms" ]; then
	# A node binary without a dynamic symbol table: take the N-API from the headers next to it.
	headers="$(find "$(dirname "$(dirname "$node_real")")" "$cache_dir/node-24" -path '*/include/node/node_api.h' -print -quit 2>/dev/null || true)"
	[ -n "$headers" ] || { log "no N-API list: $node_real exports no napi_* and no include/node/node_api.h is near it"; exit 1; }
	grep -ohE '\b(napi|node_api)_[a-z0-9_]+\(' "$headers" "$(dirname "$headers")/js_native_api.h" | tr -d '(' | LC_ALL=C sort -u >"$tmp/napi.syms"
	napi_source="Node 24 headers"
fi

# --- musl builds: the checks ---------------------------------------------------------------------------------------
# check_musl MODULE ARCH: the checks of every .node file matching the module's glob in its musl package.
check_musl() {
	local module="$1" arch="$2" ver="${version[$1]}" dir status node_files node_file
	local pkg="$module-linux-$arch-musl@$ver"
	dir="$(musl_dir "$module" "$arch")"
	if [ -f "$dir/status" ]; then
		status="$(cat "$dir/status")"
		if [[ "$status" == missing:* ]] && [ "$arch" != x64 ] &&
			[ "${NATIVE_REQUIRE_ALL:-${LANCEDB_NATIVE_REQUIRE_ALL:-0}}" != 1 ]; then
			skip "all     $module $arch-musl $ver: ${status#missing: } (NATIVE_REQUIRE_ALL=1 makes this fail)"
		else
			fail "all     $module $arch-musl $ver: ${status#*: }"
		fi
		return
	fi
	node_files="$(find "$dir" -name "${node_glob[$module]}" | LC_ALL=C sort)"
	[ -n "$node_files" ] || { fail "all     $module $arch-musl $ver: no ${node_glob[$module]} in $pkg"; return; }
	while IFS= read -r node_file; do
		check_musl_elf "$arch" "$module $arch-musl $ver ($(basename "$node_file"))" "$node_file"
	done <<<"$node_files"
}

# check_musl_elf ARCH LABEL FILE: the elf, needed, glibc and symbols checks of one musl .node file.
check_musl_elf() {
	local arch="$1" label="$2" node_file="$3" elf_arch machine
	case "$arch" in
		x64) elf_arch=x86_64 machine='Advanced Micro Devices X86-64' ;;
		arm64) elf_arch=aarch64 machine='AArch64' ;;
	esac

	# elf
	local header
	header="$(readelf -h "$node_file")"
	if grep -q 'Class:.*ELF64' <<<"$header" && grep -q "Machine:.*$machine" <<<"$header" && grep -q 'Type:.*DYN' <<<"$header"; then
		pass "elf     $label: 64-bit shared object for $elf_arch"
	else
		fail "elf     $label: not a 64-bit $elf_arch shared object: $(grep -E 'Class|Machine|Type' <<<"$header" | tr -s ' ' | tr '\n' ';')"
	fi

	# needed
	local needed bad_needed
	needed="$(readelf -d -W "$node_file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')"
	bad_needed="$(grep -vE "^(lib(c|m|dl|pthread|rt|util|xnet)\.so(\.[0-9]+)*|libc\.musl-$elf_arch\.so\.1|ld-musl-$elf_arch\.so\.1|libgcc_s\.so\.1)$" <<<"$needed" || true)"
	if [ -z "$bad_needed" ]; then
		pass "needed  $label: $(tr '\n' ' ' <<<"$needed")- all in n8n's Alpine image"
	else
		fail "needed  $label: libraries n8n's Alpine image lacks or that cannot be checked: $(tr '\n' ' ' <<<"$bad_needed")"
	fi

	# glibc: a non-weak reference to a GLIBC_* symbol version, or a GLIBC_* version required of a library
	# other than libgcc_s, marks a glibc build. aarch64's libgcc_s versions __register_frame_info and
	# __deregister_frame_info as GLIBC_2.0 (seen in the arm64 musl builds of lancedb 0.26.2 and resvg-js
	# 2.6.2); crtbegin references them weakly, so a weak GLIBC_* reference served by libgcc_s passes (musl's
	# loader ignores symbol versions anyway).
	local dynsyms glibc_refs weak_glibc
	dynsyms="$(readelf --dyn-syms -W "$node_file")"
	glibc_refs="$( {
		awk 'NF >= 8 && $7 == "UND" && $5 != "WEAK" && $8 ~ /@GLIBC_/ { print $8 }' <<<"$dynsyms"
		readelf -V -W "$node_file" | awk '/File:/ { file = $0; sub(/.*File: /, "", file); sub(/ .*/, "", file) } /Name: GLIBC_/ && file != "libgcc_s.so.1" { print $3 " of " file }'
	} | LC_ALL=C sort -u || true)"
	weak_glibc="$(awk 'NF >= 8 && $7 == "UND" && $5 == "WEAK" && $8 ~ /@GLIBC_/ { print $8 }' <<<"$dynsyms" | LC_ALL=C sort -u | tr '\n' ' ')"
	if [ -z "$glibc_refs" ]; then
		pass "glibc   $label: no GLIBC-versioned symbol or version requirement${weak_glibc:+ (weak, from libgcc_s: $weak_glibc)}"
	else
		fail "glibc   $label: glibc references: $(head -n 20 <<<"$glibc_refs" | tr '\n' ' ')"
	fi

	# symbols
	local work="$node_file.syms" missing n_und n_weak n_musl n_gcc n_napi musl_note=''
	awk 'NF >= 8 && $7 == "UND" && $5 == "GLOBAL" { s = $8; sub(/@.*/, "", s); print s }' <<<"$dynsyms" | LC_ALL=C sort -u >"$work.undefined"
	n_und=$(wc -l <"$work.undefined")
	n_weak=$(awk 'NF >= 8 && $7 == "UND" && $5 == "WEAK"' <<<"$dynsyms" | wc -l)
	n_musl=$(LC_ALL=C comm -12 "$work.undefined" "$tmp/musl.syms" | wc -l)
	LC_ALL=C comm -23 "$work.undefined" "$tmp/musl.syms" >"$work.rest1"
	n_gcc=$(LC_ALL=C comm -12 "$work.rest1" "$tmp/libgcc_s.syms" | wc -l)
	LC_ALL=C comm -23 "$work.rest1" "$tmp/libgcc_s.syms" >"$work.rest2"
	n_napi=$(LC_ALL=C comm -12 "$work.rest2" "$tmp/napi.syms" | wc -l)
	missing="$(LC_ALL=C comm -23 "$work.rest2" "$tmp/napi.syms")"
	[ "$elf_arch" = "$host_arch" ] || musl_note=" (musl symbol list of $host_arch: Debian has no $elf_arch musl on this host)"
	if [ -z "$missing" ]; then
		pass "symbols $label: all $n_und undefined resolve - $n_musl musl libc$musl_note, $n_gcc libgcc_s, $n_napi N-API ($napi_source); $n_weak weak allowed"
	else
		fail "symbols $label: $(wc -l <<<"$missing") of $n_und undefined symbols are defined by neither musl libc$musl_note, libgcc_s nor N-API ($napi_source): $(head -n 40 <<<"$missing" | tr '\n' ' ')"
	fi
}

# --- gnu builds load and work in Node 24 -----------------------------------------------------------------
# One script for every module: it loads the module from the repository, checks that a linux gnu build is the
# native file that loaded, and runs the module's use below; the line it prints ends up in the PASS line.
cat >"$tmp/gnu-load.cjs" <<-'EOF'
	const path = require('node:path');
	const [name, repo, dir] = process.argv.slice(2);
	const uses = {
		// A real round trip in a temp folder: create a table with vectors, count, vector-search.
		'@lancedb/lancedb': async (lancedb) => {
			const db = await lancedb.connect(dir);
			const rows = Array.from({ length: 8 }, (_, i) => ({ id: i, text: `row ${i}`, vector: [i, (i * 2) % 5, 1, -i] }));
			const table = await db.createTable('roundtrip', rows);
			const count = await table.countRows();
			const hits = await table.vectorSearch([3, 1, 1, -3]).limit(3).toArray();
			table.close();
			db.close();
			if (count !== rows.length) throw new Error(`countRows gave ${count}, expected ${rows.length}`);
			if (hits.length !== 3 || hits[0].id !== 3) throw new Error(`vector search gave ids ${hits.map((h) => h.id)}, expected 3 first`);
			return `${count} rows written, nearest ids ${hits.map((h) => h.id).join(',')}`;
		},
		// A 10x10 red rect rendered the way lib/evaluation/reviewChart.ts renders: renderAsync, no system fonts.
		'@resvg/resvg-js': async (resvg) => {
			const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#ff0000"/></svg>';
			const image = await resvg.renderAsync(svg, { font: { loadSystemFonts: false } });
			const png = image.asPng();
			const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
			if (!Buffer.isBuffer(png) || !png.subarray(0, 8).equals(signature)) throw new Error('asPng() gave no PNG signature');
			if (png.toString('latin1', 12, 16) !== 'IHDR') throw new Error('the PNG does not start with an IHDR chunk');
			const [width, height] = [png.readUInt32BE(16), png.readUInt32BE(20)];
			if (width !== 10 || height !== 10) throw new Error(`the PNG is ${width}x${height}, expected 10x10`);
			const pixel = [...image.pixels.subarray(0, 4)];
			if (pixel.join(',') !== '255,0,0,255') throw new Error(`the first pixel is rgba(${pixel}), expected rgba(255,0,0,255)`);
			return `10x10 rect rendered to a ${png.length}-byte PNG, ${width}x${height}, first pixel rgba(${pixel})`;
		},
	};
	(async () => {
		const loaded = require(require.resolve(name, { paths: [repo] }));
		const native = Object.keys(require.cache).find((f) => f.endsWith('.node')) || '(unknown)';
		if (!/linux-(x64|arm64)-gnu/.test(native)) throw new Error(`loaded ${native}, not a linux gnu build`);
		console.log(`${path.basename(native)}: ${await uses[name](loaded)}`);
	})().catch((e) => {
		console.error((e && e.stack) || e);
		process.exit(1);
	});
EOF

# gnu_load MODULE: loads and uses the module in Node 24, or says why it cannot.
gnu_load() {
	local module="$1" lock="${lock_version[$1]}" installed out
	installed="$(node -p "try { require('./node_modules/$module/package.json').version } catch { '' }")"
	if [ "${version[$module]}" != "$lock" ]; then
		skip "gnu load $module: checking ${version[$module]}, but node_modules holds the locked $lock"
	elif [ "$installed" != "$lock" ]; then
		fail "gnu load $module: node_modules/$module is '${installed:-missing}', package-lock.json says $lock (run scripts/ensure-deps.sh)"
	elif out="$(env -u NAPI_RS_NATIVE_LIBRARY_PATH NAPI_RS_ENFORCE_VERSION_CHECK=1 \
		timeout 120 "$node_bin" "$tmp/gnu-load.cjs" "$module" "$repo" "$tmp/gnu-load-$(tr -c 'A-Za-z0-9\n' _ <<<"$module")" 2>&1)"; then
		pass "gnu load $module $lock in Node $node_version: $out"
	else
		fail "gnu load $module $lock in Node $node_version: failed to load or work:"
		tail -n 20 <<<"$out" | sed "s/^/    /"
	fi
}

for module in "${modules[@]}"; do
	gnu_load "$module"
done

wait "${fetch_pids[@]}" || true
for module in "${modules[@]}"; do
	check_musl "$module" x64
	check_musl "$module" arm64
done

exit "$failed"
