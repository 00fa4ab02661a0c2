#!/usr/bin/env bash
# What the tests need beside npm packages: Debian's Chromium (approval pages and n8n canvases are driven
# headless through playwright-core), Redis at 127.0.0.1:6379 (memory, approval decisions, queue mode) and
# PostgreSQL (n8n in queue mode). Installs and starts what is missing when run as root on Debian; otherwise
# says what to do. Instant when everything is there.
set -euo pipefail

log() { echo "[prerequisites] $*" >&2; }
as_root() { [ "$(id -u)" = 0 ]; }

if ! command -v chromium >/dev/null; then
	if as_root && command -v apt-get >/dev/null; then
		log 'installing Debian chromium'
		apt-get update -qq
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
	else
		log 'chromium is missing: install it (Debian: sudo apt-get install chromium)'
		exit 1
	fi
fi

if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
	if command -v redis-server >/dev/null; then
		log 'starting Redis on 127.0.0.1:6379'
		as_root && mkdir -p /var/lib/redis /var/log/redis
		redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
			--dir "$(as_root && echo /var/lib/redis || echo /tmp)" --logfile "$(as_root && echo /var/log/redis/ci.log || echo /tmp/redis-symbiotic.log)"
	else
		log 'Redis is not running on 127.0.0.1:6379 and redis-server is not installed (Debian: apt-get install redis-server)'
		exit 1
	fi
fi

if command -v pg_isready >/dev/null && ! pg_isready -q -h 127.0.0.1 -p 5432; then
	if as_root && command -v pg_ctlcluster >/dev/null; then
		log 'starting PostgreSQL'
		pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
	fi
fi

for _ in $(seq 1 30); do
	redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break
	sleep 1
done
redis-cli -h 127.0.0.1 ping >/dev/null
