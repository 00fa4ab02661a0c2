# Sourced by the install scripts. with_progress WHAT COMMAND...: runs COMMAND, saying every 30 s through the
# caller's `log` that WHAT is still going, so a newcomer watching a silent npm install knows it is not stuck.
with_progress() {
	local what="$1" started ticker status=0
	shift
	started=$(date +%s)
	(while sleep 30; do log "  … still $what ($(($(date +%s) - started)) s so far)"; done) >&2 &
	ticker=$!
	"$@" || status=$?
	kill "$ticker" 2>/dev/null || true
	wait "$ticker" 2>/dev/null || true
	return "$status"
}
