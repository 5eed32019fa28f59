#!/usr/bin/env bash
# Make sure the real PostgreSQL and Redis the suite talks to are up on this machine.
# Honours DATABASE_URL / REDIS_URL: when they point elsewhere we leave them alone.
set -uo pipefail

if [ -z "${DATABASE_URL:-}" ]; then
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && [ -d /etc/postgresql ]; then
      echo "starting PostgreSQL"
      pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    else
      echo "PostgreSQL is not answering on 127.0.0.1:5432; start it or set DATABASE_URL" >&2
      exit 1
    fi
  fi
fi

if [ -z "${REDIS_URL:-}" ]; then
  if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    if command -v redis-server >/dev/null; then
      echo "starting Redis"
      redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
      sleep 0.5
    else
      echo "Redis is not answering on 127.0.0.1:6379; start it or set REDIS_URL" >&2
      exit 1
    fi
  fi
fi

# Debian packages that some tests drive, as "command package" pairs. They are installed
# when missing and we are root; otherwise the tests that need them skip with a reason
# (or fail when CI is set).
debian_tools=(
  "promtool prometheus"
  "chromium chromium"
)
missing=()
for pair in "${debian_tools[@]}"; do
  read -r cmd pkg <<<"$pair"
  command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian packages: ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "missing Debian packages (tests that need them will skip): ${missing[*]}" >&2
  fi
fi
exit 0
