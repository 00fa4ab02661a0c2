#!/usr/bin/env bash
# Checks LanceDB's native builds before users hit them (issue 11, item 3b). Most users run n8n's Docker image
# (Alpine, musl libc, x64 or arm64); LanceDB's musl build has shipped broken before (0.27.x referenced a symbol
# nothing defines, so it failed to load on Alpine). Without Docker or Alpine here, the musl check is static:
#   musl (x64 and arm64): fetches @lancedb/lancedb-linux-<arch>-musl@<version> with `npm pack` (no install
#     scripts) and reads the .node ELF with readelf:
#       elf     - a 64-bit shared object for the right machine;
#       needed  - its NEEDED libraries are ones every n8n Alpine image has: musl's libc under any of the names
#                 musl's loader maps to itself (libc.so, libc.musl-<arch>.so.1, ld-musl-<arch>.so.1,
#                 libm/libdl/libpthread/librt/libutil/libxnet.so*), and libgcc_s.so.1, which Alpine's Node
#                 links itself (libstdc++ is there too, but its API cannot be checked here, so it fails);
#       glibc   - no GLIBC_* versioned symbol reference or version requirement (but aarch64's libgcc_s
#                 versions two weakly referenced symbols GLIBC_2.0; those pass);
#       symbols - every non-weak undefined dynamic symbol is defined by Debian's musl libc.so (Debian 12 has musl
#                 1.2.3, current Alpine 1.2.5: a symbol new in 1.2.4+ would fail here, never pass wrongly),
#                 by libgcc_s (the exports of the host's gnu libgcc_s.so.1, version tags stripped) or by
#                 Node 24's N-API (napi_* / node_api_* exported by the Node 24 binary). Weak ones may stay
#                 unresolved. Debian's musl exists for the host architecture only, so the other
#                 architecture is checked against the host's musl symbol list (musl exports the same names
#                 on x86_64 and aarch64, bar a few x86-only calls such as iopl) - the line says so.
#   gnu load: requires @lancedb/lancedb from the repository's node_modules in the pinned Node 24 (the n8n
#     runtime, scripts/n8n-runtime.sh) and does a real round trip: connect to a temp folder, create a table
#     with vectors, count, vector-search, close.
#
# Usage: scripts/check-lancedb-native.sh [VERSION]
#   VERSION defaults to the @lancedb/lancedb version in package-lock.json; another one (e.g. 0.27.0) checks
#   that release's musl builds and skips the gnu load check, which can only load what node_modules holds.
# Environment:
#   LANCEDB_NATIVE_REQUIRE_ALL=1  a musl package missing from the registry fails instead of being skipped
#                                 (the x64 one always fails when missing; arm64 is skipped by default
#                                 because the registry mirror CI uses lacks LanceDB's arm64 builds)
#   NODE24_BIN=/path/to/node      the Node 24 to use instead of the n8n runtime's
# Output: one line per check on stdout (PASS / FAIL / SKIP); exit 1 if any check failed.
# Needs readelf (binutils) and Debian's musl package; installs them with apt-get when missing and root.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo="$PWD"

log() { echo "[lancedb-native] $*" >&2; }
failed=0
pass() { echo "[lancedb-native] PASS $*"; }
fail() { echo "[lancedb-native] FAIL $*"; failed=1; }
skip() { echo "[lancedb-native] SKIP $*"; }

lock_version="$(node -p "require('./package-lock.json').packages['node_modules/@lancedb/lancedb'].version")"
version="${1:-$lock_version}"
[[ "$version" =~ ^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$ ]] || { log "not a version: '$version'"; exit 2; }

tmp="$(mktemp -d)"
trap 'wait; rm -rf "$tmp"' EXIT

# --- musl packages: fetched in the background while the tools and Node 24 are set up ---------------------
# Downloads and unpacks one musl package into $tmp/<arch>-musl; run in the background for both
# architectures at once (the tarballs are 50-70 MB; unpacking is most of this script's time).
# Leaves the .node file, or a `status` file saying why there is none: "missing: ..." or "error: ...".
fetch_musl() {
	local arch="$1" dir="$tmp/$1-musl" out
	local pkg="@lancedb/lancedb-linux-$arch-musl@$version"
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
	tar -xzf "$dir"/*.tgz -C "$dir" --wildcards '*.node' && rm -f "$dir"/*.tgz
}

fetch_musl x64 &
fetch_x64=$!
fetch_musl arm64 &
fetch_arm64=$!

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

# --- Node 24: its exported N-API is the N-API list, and it runs the gnu load check -----------------------
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

# --- musl builds: the checks -----------------------------------------------------------------------------------------
check_musl() {
	local arch="$1" elf_arch machine dir node_file status
	case "$arch" in
		x64) elf_arch=x86_64 machine='Advanced Micro Devices X86-64' ;;
		arm64) elf_arch=aarch64 machine='AArch64' ;;
	esac
	dir="$tmp/$arch-musl"
	if [ -f "$dir/status" ]; then
		status="$(cat "$dir/status")"
		if [[ "$status" == missing:* ]] && [ "$arch" != x64 ] && [ "${LANCEDB_NATIVE_REQUIRE_ALL:-0}" != 1 ]; then
			skip "all     $arch-musl $version: ${status#missing: } (LANCEDB_NATIVE_REQUIRE_ALL=1 makes this fail)"
		else
			fail "all     $arch-musl $version: ${status#*: }"
		fi
		return
	fi
	node_file="$(find "$dir" -name '*.node' -print -quit)"
	[ -n "$node_file" ] || { fail "all     $arch-musl $version: no .node file in @lancedb/lancedb-linux-$arch-musl@$version"; return; }
	local label
	label="$arch-musl $version ($(basename "$node_file"))"

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
	# __deregister_frame_info as GLIBC_2.0 (seen in lancedb 0.26.2's arm64 musl build); crtbegin references them weakly, so a weak
	# GLIBC_* reference served by libgcc_s passes (musl's loader ignores symbol versions anyway).
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
	local missing n_und n_weak n_musl n_gcc n_napi musl_note=''
	awk 'NF >= 8 && $7 == "UND" && $5 == "GLOBAL" { s = $8; sub(/@.*/, "", s); print s }' <<<"$dynsyms" | LC_ALL=C sort -u >"$dir/undefined"
	n_und=$(wc -l <"$dir/undefined")
	n_weak=$(awk 'NF >= 8 && $7 == "UND" && $5 == "WEAK"' <<<"$dynsyms" | wc -l)
	n_musl=$(LC_ALL=C comm -12 "$dir/undefined" "$tmp/musl.syms" | wc -l)
	LC_ALL=C comm -23 "$dir/undefined" "$tmp/musl.syms" >"$dir/rest1"
	n_gcc=$(LC_ALL=C comm -12 "$dir/rest1" "$tmp/libgcc_s.syms" | wc -l)
	LC_ALL=C comm -23 "$dir/rest1" "$tmp/libgcc_s.syms" >"$dir/rest2"
	n_napi=$(LC_ALL=C comm -12 "$dir/rest2" "$tmp/napi.syms" | wc -l)
	missing="$(LC_ALL=C comm -23 "$dir/rest2" "$tmp/napi.syms")"
	[ "$elf_arch" = "$host_arch" ] || musl_note=" (musl symbol list of $host_arch: Debian has no $elf_arch musl on this host)"
	if [ -z "$missing" ]; then
		pass "symbols $label: all $n_und undefined resolve - $n_musl musl libc$musl_note, $n_gcc libgcc_s, $n_napi N-API ($napi_source); $n_weak weak allowed"
	else
		fail "symbols $label: $(wc -l <<<"$missing") of $n_und undefined symbols are defined by neither musl libc$musl_note, libgcc_s nor N-API ($napi_source): $(head -n 40 <<<"$missing" | tr '\n' ' ')"
	fi
}

# --- gnu build loads in Node 24 ------------------------------------------------------------------------
installed="$(node -p "try { require('./node_modules/@lancedb/lancedb/package.json').version } catch { '' }")"
if [ "$version" != "$lock_version" ]; then
	skip "gnu load: checking $version, but node_modules holds the locked $lock_version"
elif [ "$installed" != "$lock_version" ]; then
	fail "gnu load: node_modules/@lancedb/lancedb is '${installed:-missing}', package-lock.json says $lock_version (run scripts/ensure-deps.sh)"
else
	cat >"$tmp/roundtrip.cjs" <<-'EOF'
		// Loads @lancedb/lancedb from the repository and does a real round trip in a temp folder.
		const path = require('node:path');
		const [repo, dir] = process.argv.slice(2);
		(async () => {
			const lancedb = require(require.resolve('@lancedb/lancedb', { paths: [repo] }));
			const native = Object.keys(require.cache).find((f) => f.endsWith('.node')) || '(unknown)';
			if (!/linux-(x64|arm64)-gnu/.test(native)) throw new Error(`loaded ${native}, not a linux gnu build`);
			const db = await lancedb.connect(dir);
			const rows = Array.from({ length: 8 }, (_, i) => ({ id: i, text: `row ${i}`, vector: [i, (i * 2) % 5, 1, -i] }));
			const table = await db.createTable('roundtrip', rows);
			const count = await table.countRows();
			const hits = await table.vectorSearch([3, 1, 1, -3]).limit(3).toArray();
			table.close();
			db.close();
			if (count !== rows.length) throw new Error(`countRows gave ${count}, expected ${rows.length}`);
			if (hits.length !== 3 || hits[0].id !== 3) throw new Error(`vector search gave ids ${hits.map((h) => h.id)}, expected 3 first`);
			console.log(`${path.basename(native)}: ${count} rows written, nearest ids ${hits.map((h) => h.id).join(',')}`);
		})().catch((e) => {
			console.error((e && e.stack) || e);
			process.exit(1);
		});
	EOF
	if out="$(env -u NAPI_RS_NATIVE_LIBRARY_PATH NAPI_RS_ENFORCE_VERSION_CHECK=1 \
		timeout 120 "$node_bin" "$tmp/roundtrip.cjs" "$repo" "$tmp/db" 2>&1)"; then
		pass "gnu load $lock_version in Node $node_version: $out"
	else
		fail "gnu load $lock_version in Node $node_version: @lancedb/lancedb failed to load or round-trip:"
		tail -n 20 <<<"$out" | sed "s/^/    /"
	fi
fi

wait "$fetch_x64" "$fetch_arm64" || true
check_musl x64
check_musl arm64

exit "$failed"
