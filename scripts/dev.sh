#!/usr/bin/env bash
# `npm run dev`: a local n8n 2.41.1 with this pack installed as a community package, the example
# workflows imported, an owner account ready to log in, and a mail catcher for approval emails.
# Ctrl-C stops everything this script started.
#
# Usage: scripts/dev.sh [--skip-build]   (--skip-build: install the dist/ already built)
# Settings (environment):
#   N8N_PORT (5678), N8N_RUNNERS_BROKER_PORT (N8N_PORT+1), SYMBIOTIC_SMTP_PORT (1025),
#   SYMBIOTIC_MAIL_WEB_PORT (1080), N8N_USER_FOLDER (${SYMBIOTIC_HOME:-$HOME/.n8n-symbiotic}),
#   SYMBIOTIC_OWNER_EMAIL / SYMBIOTIC_OWNER_PASSWORD (the login printed at start),
#   REDIS_URL, QDRANT_URL, OPENAI_BASE_URL, OPENAI_API_KEY (passed on to n8n and used in the
#   imported credentials; without them the pack uses LanceDB and in-process memory, and the examples
#   search by keywords: their ingest steps are then imported without the model credential),
#   SYMBIOTIC_WEBHOOK_TOKEN (the example webhooks' header token; by default made once in the user folder),
#   SYMBIOTIC_WORKFLOWS_DIR (workflows/): *.json are imported (and published when "active": true,
#   which needs an "id"); credentials/*.json (arrays of {id, name, type, data}) are imported with
#   ${VAR} / ${VAR:-fallback} placeholders filled from the environment (scripts/render-credentials.mjs).
set -euo pipefail

repo_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pack_args=()
for arg in "$@"; do
	case "$arg" in
		--skip-build) pack_args+=(--skip-build) ;;
		*) echo "dev: unknown argument '$arg' (known: --skip-build)" >&2; exit 2 ;;
	esac
done
started_at=$SECONDS

export N8N_USER_FOLDER="${N8N_USER_FOLDER:-${SYMBIOTIC_HOME:-$HOME/.n8n-symbiotic}}"
port="${N8N_PORT:-5678}"
broker_port="${N8N_RUNNERS_BROKER_PORT:-$((port + 1))}"
smtp_port="${SYMBIOTIC_SMTP_PORT:-1025}"
mail_web_port="${SYMBIOTIC_MAIL_WEB_PORT:-1080}"
owner_email="${SYMBIOTIC_OWNER_EMAIL:-owner@example.com}"
owner_password="${SYMBIOTIC_OWNER_PASSWORD:-Symbiotic-dev-2024}"

log() { echo "[dev] $*" >&2; }
# step TEXT: says what starts now; step_done: how long it took.
step_started=$SECONDS
step() { step_started=$SECONDS; log "$*"; }
step_done() { log "  … done in $((SECONDS - step_started)) s"; }

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$port" "$broker_port" "$smtp_port" "$mail_web_port"; do
	if port_in_use "$p"; then
		log "port $p on 127.0.0.1 is already in use (another n8n or mail catcher?). Stop it, or choose other ports:"
		log "  N8N_PORT=... N8N_RUNNERS_BROKER_PORT=... SYMBIOTIC_SMTP_PORT=... SYMBIOTIC_MAIL_WEB_PORT=... npm run dev"
		exit 1
	fi
done

log "state (n8n database, knowledge base, mails, secrets) lives in $N8N_USER_FOLDER, outside the repository"
step 'step 1/4: n8n runtime in ~/.cache/n8n-symbiotic (Node 24, n8n 2.41.1, maildev; first time only: 5-20 min, 2.8 GB)'
eval "$("$repo_dir/scripts/n8n-runtime.sh" --with-maildev)"
step_done
mkdir -p "$N8N_USER_FOLDER"
step 'step 2/4: this pack, built and installed like a community package (first time ~20 s-2 min, later ~7 s)'
"$repo_dir/scripts/pack-install.sh" "${pack_args[@]}"
step_done

# Node 24 first on PATH: the n8n CLI and its task runner child processes must run on it.
export PATH="$(dirname "$NODE_BIN"):$PATH"
n8n() { "$NODE_BIN" "$N8N_BIN" "$@"; }
# CLI commands print start-up noise; show their output only when they fail.
n8n_quiet() {
	local output
	if ! output="$(n8n "$@" 2>&1)"; then
		log "n8n $1 failed:"
		grep -v '^    at ' <<<"$output" | tail -n 20 >&2
		exit 1
	fi
}

owner_hash="$(cd "$N8N_RUNTIME_DIR" && SYMBIOTIC_OWNER_PASSWORD="$owner_password" \
	"$NODE_BIN" -e "process.stdout.write(require('bcryptjs').hashSync(process.env.SYMBIOTIC_OWNER_PASSWORD, 10))")"

export N8N_PORT="$port"
export N8N_LISTEN_ADDRESS=127.0.0.1
export N8N_HOST=localhost
export N8N_RUNNERS_BROKER_PORT="$broker_port"
# N8N_WEBHOOK_URL: n8n 2.41 calls WEBHOOK_URL deprecated (a WEBHOOK_URL set by you is carried over).
export N8N_WEBHOOK_URL="${N8N_WEBHOOK_URL:-${WEBHOOK_URL:-http://localhost:$port/}}"
unset WEBHOOK_URL
export N8N_EDITOR_BASE_URL="${N8N_EDITOR_BASE_URL:-http://localhost:$port/}"
# A quiet local start: no telemetry, update or "what's new" checks, templates, banners, nor the MCP server
# registry download from api.n8n.io (each logs a stack trace on a machine without internet).
export N8N_DIAGNOSTICS_ENABLED=false
export N8N_VERSION_NOTIFICATIONS_WHATS_NEW_ENABLED=false
export N8N_TEMPLATES_ENABLED=false
export N8N_HIRING_BANNER_ENABLED=false
export N8N_DYNAMIC_BANNERS_ENABLED=false
export N8N_DISABLED_MODULES="${N8N_DISABLED_MODULES-mcp-registry}"
# Settings n8n 2.41 lists under "deprecations related to your n8n setup" until they are explicit: this pack is an
# unverified community package; the other three take the future defaults n8n announces.
export N8N_UNVERIFIED_PACKAGES_ENABLED=true
export N8N_RUNNERS_TASK_TIMEOUT="${N8N_RUNNERS_TASK_TIMEOUT:-60}"
export N8N_COMPRESSION_NODE_MAX_DECOMPRESSED_SIZE_BYTES="${N8N_COMPRESSION_NODE_MAX_DECOMPRESSED_SIZE_BYTES:-268435456}"
export N8N_COMPRESSION_NODE_MAX_ZIP_ENTRIES="${N8N_COMPRESSION_NODE_MAX_ZIP_ENTRIES:-1000}"
# As in n8n's Docker image: outside production mode n8n adds stack traces to some error answers, and a
# reviewer opening a late approval link must never see one.
export NODE_ENV="${NODE_ENV:-production}"
# glibc gives each thread of LanceDB's pool its own malloc arena; two arenas kept n8n's RSS at 1.2 GB instead of
# 2.1 GB after 124,000 chunks (bench/searchAtScale.ts). n8n's Alpine image uses musl's allocator instead.
export MALLOC_ARENA_MAX="${MALLOC_ARENA_MAX:-2}"
export N8N_VERSION_NOTIFICATIONS_ENABLED=false
export N8N_PERSONALIZATION_ENABLED=false
export N8N_INSTANCE_OWNER_MANAGED_BY_ENV=true
export N8N_INSTANCE_OWNER_EMAIL="$owner_email"
export N8N_INSTANCE_OWNER_FIRST_NAME=Symbiotic
export N8N_INSTANCE_OWNER_LAST_NAME=Owner
export N8N_INSTANCE_OWNER_PASSWORD_HASH="$owner_hash"
# Values the example credentials can use as ${SYMBIOTIC_SMTP_HOST} / ${SYMBIOTIC_SMTP_PORT} (maildev).
export SYMBIOTIC_SMTP_HOST=127.0.0.1 SYMBIOTIC_SMTP_PORT="$smtp_port"

# The approval links' signing secret: made once per user folder and kept, so links already sent stay valid
# across restarts; never shipped in the repo.
secret_file="$N8N_USER_FOLDER/.symbiotic-approval-secret"
if [ ! -s "$secret_file" ]; then
	(umask 077 && "$NODE_BIN" -e "process.stdout.write(require('crypto').randomBytes(48).toString('base64'))" >"$secret_file")
fi
export SYMBIOTIC_APPROVAL_SECRET="${SYMBIOTIC_APPROVAL_SECRET:-$(cat "$secret_file")}"

# The example webhooks' token (Header Auth credential "Webhook token (SYMBIOTIC_WEBHOOK_TOKEN)"), kept the same
# way, so the printed curl lines and your own integrations keep working across restarts.
token_file="$N8N_USER_FOLDER/.symbiotic-webhook-token"
if [ ! -s "$token_file" ]; then
	(umask 077 && "$NODE_BIN" -e "process.stdout.write(require('crypto').randomBytes(32).toString('hex'))" >"$token_file")
fi
export SYMBIOTIC_WEBHOOK_TOKEN="${SYMBIOTIC_WEBHOOK_TOKEN:-$(cat "$token_file")}"

# With a model the examples search hybrid (Vector Search "Auto") and their ingest steps embed. Without one,
# Auto searches by keywords, and the steps that store (Ingest Document, Human Approval's remembering) are
# imported without the model credential so that they store for keyword search instead of failing on it.
search_mode=keyword
[ -n "${OPENAI_BASE_URL:-}" ] && search_mode=hybrid
lancedb_dir="$N8N_USER_FOLDER/.n8n/symbiotic-lancedb"
search_mode_file="$N8N_USER_FOLDER/.symbiotic-search-mode"
if [ -d "$lancedb_dir" ] && [ -f "$search_mode_file" ] && [ "$(cat "$search_mode_file")" != "$search_mode" ]; then
	log "the example knowledge base was built for $(cat "$search_mode_file") search; now it is $search_mode. Until it is rebuilt, storing"
	log "  into it fails and searches stay keyword. To rebuild: stop, rm -rf '$lancedb_dir', start, run Website → knowledge base."
fi
echo "$search_mode" >"$search_mode_file"

# Example workflows and credentials: import each again only when it changed, so edits made in the editor
# survive restarts until the shipped file (or, for credentials, the environment it is rendered from) changes.
import_stamps="$N8N_USER_FOLDER/.symbiotic-imports"
mkdir -p "$import_stamps"
# changed_since_import NAME CONTENT_FILE: whether CONTENT_FILE differs from what was imported under NAME.
changed_since_import() {
	local stamp="$import_stamps/$1.sha256" sum
	sum="$(sha256sum "$2" | cut -d' ' -f1)"
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$sum" ] && return 1
	echo "$sum" >"$stamp.pending"
}
mark_imported() {
	mv "$import_stamps/$1.sha256.pending" "$import_stamps/$1.sha256"
}

shopt -s nullglob
workflows_dir="${SYMBIOTIC_WORKFLOWS_DIR:-$repo_dir/workflows}"
credential_files=("$workflows_dir"/credentials/*.json)
workflow_files=("$workflows_dir"/*.json)
[ ${#workflow_files[@]} -gt 0 ] || log "no workflows in $workflows_dir yet: nothing to import"
step 'step 3/4: example credentials and workflows into n8n (only what changed; a few seconds per n8n command)'
for file in "${credential_files[@]}"; do
	name="credentials-$(basename "$file")"
	rendered="$import_stamps/$name.rendered"
	(umask 077 && "$NODE_BIN" "$repo_dir/scripts/render-credentials.mjs" "$file" >"$rendered")
	if changed_since_import "$name" "$rendered"; then
		log "importing credentials $(basename "$file")"
		n8n_quiet import:credentials --input="$rendered"
		mark_imported "$name"
	fi
	rm -f "$rendered"
done
# prepare_workflow FILE: the workflow as imported; without a model, storing steps lose the model credential.
prepare_workflow() {
	"$NODE_BIN" -e "
		const workflow = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8'));
		if (process.argv[2] === 'keyword') {
			for (const node of workflow.nodes ?? []) {
				if (!/^n8n-nodes-symbiotic\.(ingestDocument|humanApproval)$/.test(node.type) || !node.credentials) continue;
				delete node.credentials.symbioticModelApi;
				if (Object.keys(node.credentials).length === 0) delete node.credentials;
			}
		}
		process.stdout.write(JSON.stringify(workflow, null, '\t'));
	" "$1" "$search_mode"
}
for file in "${workflow_files[@]}"; do
	name="workflow-$(basename "$file")"
	prepared="$import_stamps/$name.prepared.json"
	prepare_workflow "$file" >"$prepared"
	if changed_since_import "$name" "$prepared"; then
		log "importing workflow $(basename "$file")"
		n8n_quiet import:workflow --input="$prepared"
		# A workflow shipped with "active": true is published (2.x activation; needs a stable id).
		# Not `import:workflow --activeState=fromJson`: n8n 2.41 allows that only in queue mode.
		publish_id="$("$NODE_BIN" -p "const w = JSON.parse(require('fs').readFileSync(process.argv[1], 'utf8')); w.active && w.id ? w.id : ''" "$prepared")"
		[ -z "$publish_id" ] || n8n_quiet publish:workflow --id="$publish_id"
		mark_imported "$name"
	fi
	rm -f "$prepared"
done
step_done

child_pids=()
stop_all() {
	trap - INT TERM EXIT
	log 'stopping'
	for pid in "${child_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	wait 2>/dev/null || true
}
trap stop_all INT TERM EXIT

# Mails are kept in the user folder, so approval links sent before a restart are still in the inbox.
mkdir -p "$N8N_USER_FOLDER/maildev"
"$NODE_BIN" "$MAILDEV_BIN" --smtp "$smtp_port" --web "$mail_web_port" --ip 127.0.0.1 --web-ip 127.0.0.1 \
	--mail-directory "$N8N_USER_FOLDER/maildev" >"$N8N_USER_FOLDER/maildev.log" 2>&1 &
child_pids+=($!)

step 'step 4/4: starting n8n (10-60 s). Its own log follows; two warnings in it are expected and harmless here:'
log '  "Failed to start Python task runner" (Code nodes run JavaScript only) and "N8N_RUNNERS_MODE -> Internal task'
log '  runner mode is deprecated" (the built-in runner is fine for one local n8n).'
"$NODE_BIN" "$N8N_BIN" start &
n8n_pid=$!
child_pids+=($n8n_pid)

for _ in $(seq 1 180); do
	if curl -fsS "http://127.0.0.1:$port/healthz/readiness" >/dev/null 2>&1; then break; fi
	kill -0 "$n8n_pid" 2>/dev/null || { log 'n8n exited during start-up (see its output above)'; exit 1; }
	sleep 1
done
curl -fsS "http://127.0.0.1:$port/healthz/readiness" >/dev/null 2>&1 || { log 'n8n did not report ready (/healthz/readiness) within 180 s'; exit 1; }

base="http://localhost:$port/webhook"
auth="-H 'Authorization: Bearer $SYMBIOTIC_WEBHOOK_TOKEN'"
json="-H 'content-type: application/json'"
cat >&2 <<EOF

  n8n with n8n-nodes-symbiotic is running (ready in $((SECONDS - started_at)) s)
    editor:   http://localhost:$port/
    login:    $owner_email  /  $owner_password
    mail:     http://localhost:$mail_web_port/  (approval emails, kept across restarts; SMTP on 127.0.0.1:$smtp_port)
    data:     $N8N_USER_FOLDER
    model:    ${OPENAI_BASE_URL:-not set: set OPENAI_BASE_URL (and OPENAI_API_KEY) for the Generate steps}
    search:   $search_mode$([ "$search_mode" = keyword ] && echo ' (hybrid once OPENAI_BASE_URL is set)')
    vectors:  ${QDRANT_URL:-LanceDB on local disk (set QDRANT_URL for Qdrant)}
    memory:   ${REDIS_URL:-in-process (set REDIS_URL to keep it across restarts)}

  The example webhooks need the header  Authorization: Bearer $SYMBIOTIC_WEBHOOK_TOKEN
  (token kept in $token_file). Ready to paste:
    curl -X POST $base/website-to-knowledge-base $auth
    curl -X POST $base/brand-guide $auth $json -d '{"title": "Brand voice", "text": "We sound like a friendly coach: short sentences, active verbs, no jargon."}'
    curl -X POST $base/content-brief $auth $json -d '{"brief": "Announce our spring webinar"}'
    curl -X POST $base/new-lead $auth $json -d '{"email": "ada@acme.example", "name": "Ada", "company": "Acme", "message": "What does the Starter plan cost?"}'
    curl -X POST $base/support-chat $auth $json -d '{"sessionId": "ada@acme.example", "message": "What does the Starter plan cost?"}'
  (The website workflow reads the sitemap set in its Settings node: put yours there first.)
    sales assistant chat (public, needs a model): $base/5a1e0006-0000-4000-8000-000000000003/chat
  Measure it (in the editor): "Measure your knowledge base" → Execute "Set up the example", then "Measure now";
    "Weekly review report" → Execute "Send it now" (the chart of the content drafts' reviews, in the mail inbox).
  Press Ctrl-C to stop.

EOF

wait "$n8n_pid"
