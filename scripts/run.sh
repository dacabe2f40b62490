#!/usr/bin/env bash
# Runs Registration.Api (http://localhost:8000, docs at /docs) and Notification.Worker
# (emails printed to the console) against local PostgreSQL and RabbitMQ, until Ctrl-C.
#
# On Debian/Ubuntu it installs PostgreSQL and RabbitMQ when missing and starts them when
# stopped (see scripts/lib/services.sh). Settings below can be overridden from the caller's
# environment, e.g. `Admin__ApiKey=secret ./scripts/run.sh`.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

ensure_services
ensure_postgres_role_and_database registration registration
ensure_rabbitmq_user registration registration

export ConnectionStrings__Postgres="${ConnectionStrings__Postgres:-Host=127.0.0.1;Port=$POSTGRES_PORT;Username=registration;Password=registration;Database=registration}"
export RabbitMq__Host="${RabbitMq__Host:-localhost}"
export RabbitMq__Port="${RabbitMq__Port:-$RABBITMQ_PORT}"
export RabbitMq__VirtualHost="${RabbitMq__VirtualHost:-/}"
export RabbitMq__Username="${RabbitMq__Username:-registration}"
export RabbitMq__Password="${RabbitMq__Password:-registration}"
export ASPNETCORE_ENVIRONMENT="${ASPNETCORE_ENVIRONMENT:-Development}"
export DOTNET_ENVIRONMENT="${DOTNET_ENVIRONMENT:-Development}"

# Build once: two concurrent `dotnet run` builds of the same shared projects would collide.
log "dotnet build Registration.slnx"
dotnet build Registration.slnx --nologo -v quiet

pids=()
# start NAME COMMAND...: runs COMMAND in a session of its own (so one kill reaches `dotnet run`
# and the app it started) with every output line prefixed by [NAME].
start() {
  local name=$1
  shift
  # sed ignores Ctrl-C so that it still prints the app's last lines while it shuts down.
  setsid "$@" > >(
    trap '' INT
    exec sed -u "s/^/[$name] /"
  ) 2>&1 </dev/null &
  pids+=("$!")
}

# shellcheck disable=SC2317 # only reached through the traps below
stop() {
  trap - INT TERM EXIT
  log "stopping"
  local pid deadline=$((SECONDS + 15))
  for pid in "${pids[@]}"; do
    kill -TERM -- "-$pid" 2>/dev/null || true
  done
  # Give them time for a graceful shutdown, then make sure nothing is left behind.
  for pid in "${pids[@]}"; do
    while kill -0 -- "-$pid" 2>/dev/null && ((SECONDS < deadline)); do
      sleep 0.2
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM
trap stop EXIT

start api env ASPNETCORE_URLS="${ASPNETCORE_URLS:-http://localhost:8000}" \
  Admin__ApiKey="${Admin__ApiKey:-dev-admin-key}" \
  dotnet run --no-build --no-launch-profile --project services/Registration.Api
start worker env Email__Provider="${Email__Provider:-Console}" \
  dotnet run --no-build --no-launch-profile --project services/Notification.Worker

log "API on ${ASPNETCORE_URLS:-http://localhost:8000} (docs at /docs, admin key '${Admin__ApiKey:-dev-admin-key}'); Ctrl-C stops both"
# Whichever stops first (a crash, say) takes the other down with it.
status=0
wait -n "${pids[@]}" || status=$?
exit "$status"
