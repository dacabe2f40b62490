#!/usr/bin/env bash
# Runs the whole test suite against local PostgreSQL and RabbitMQ.
#
#   ./scripts/test.sh                      # every test
#   ./scripts/test.sh --filter Activation  # extra arguments go to `dotnet test`
#   ./scripts/test.sh --explore            # the property tests only, random seeds, more inputs
#
# --explore sets TEST_EXPLORE=1: each property test draws a random seed instead of its fixed one and
# runs TEST_EXPLORE_MULTIPLIER (default 10) times its CI inputs; the seed is printed with each test
# and in a failure, and TEST_SEED=<seed> ./scripts/test.sh --filter <test> replays it (tests/README.md).
#
# After the tests, two checks by outside tools on what the tests left in TestResults/ (each skipped,
# saying so, when its tool is not installed, e.g. in the compose `tests` container):
#   - the API's OpenAPI document: `redocly lint` with its recommended rules, 0 errors (needs Node.js:
#     npx fetches the pinned @redocly/cli from the npm registry once);
#   - a scrape of the API's /metrics after real traffic: `promtool check metrics` (Debian: prometheus).
#
# On Debian/Ubuntu it installs PostgreSQL and RabbitMQ when missing, starts them when
# stopped, and points the tests at them through TEST_POSTGRES and TEST_RABBITMQ. When the
# caller already set both (e.g. the `tests` service of deploy/docker-compose.yml), it
# touches no service and just runs the tests.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

if [[ -n ${TEST_POSTGRES:-} && -n ${TEST_RABBITMQ:-} ]]; then
  log "TEST_POSTGRES and TEST_RABBITMQ set by the caller: using those services"
else
  ensure_services
  ensure_postgres_role_and_database registration_test registration_test --createdb
  ensure_rabbitmq_user registration_test registration_test
  export TEST_POSTGRES="${TEST_POSTGRES:-Host=127.0.0.1;Port=$POSTGRES_PORT;Username=registration_test;Password=registration_test;Database=registration_test}"
  export TEST_RABBITMQ="${TEST_RABBITMQ:-amqp://registration_test:registration_test@127.0.0.1:$RABBITMQ_PORT/}"
fi

args=()
explore=0
for arg in "$@"; do
  if [[ $arg == --explore ]]; then explore=1; else args+=("$arg"); fi
done
if ((explore)); then
  export TEST_EXPLORE=1
  log "explore: property tests with random seeds, ${TEST_EXPLORE_MULTIPLIER:-10} x their CI inputs${TEST_SEED:+, starting from TEST_SEED=$TEST_SEED}; each test prints its seed"
  [[ " ${args[*]} " == *" --filter "* ]] || args+=(--filter "Category=Property")
  # The seeds are in the tests' own output, which the console logger shows at this verbosity.
  args+=(--logger "console;verbosity=detailed")
fi

REDOCLY_CLI="@redocly/cli@2.77.0" # pinned: later releases need Node.js 22

# can_check WHAT FILE TOOL INSTALL: true when the tests left FILE and TOOL is installed; else says why not.
can_check() {
  local what=$1 file=$2 tool=$3 install=$4
  if [[ ! -f $file ]]; then
    log "$what skipped: no $file (the test that leaves it did not run)"
  elif ! command -v "$tool" >/dev/null 2>&1; then
    log "$what skipped: it needs $tool ($install), which is not installed here"
  else
    return 0
  fi
  return 1
}

# lint_openapi: the document OpenApiDocumentTests left, against redocly's recommended rules.
lint_openapi() {
  local document=TestResults/openapi-v1.json
  can_check "OpenAPI lint" "$document" npx "Node.js" || return 0
  log "npx $REDOCLY_CLI lint $document (recommended rules)"
  npx --yes "$REDOCLY_CLI" lint --extends=recommended --format=stylish "$document" 2>&1 | grep -v '[║╔╚]' ||
    { log "OpenAPI lint: errors above"; return 1; }
}

# check_metrics: the /metrics scrape MetricsTests left, against promtool's rules.
check_metrics() {
  local scrape=TestResults/metrics-api.txt findings
  can_check "promtool check" "$scrape" promtool "Debian package prometheus" || return 0
  log "promtool check metrics < $scrape"
  findings=$(promtool check metrics <"$scrape" 2>&1) && return 0
  # Not ours to rename: the .NET runtime's instruments (dotnet.*.count) and MassTransit's (milliseconds).
  findings=$(grep -Ev '^(dotnet_[a-z_]*_count non-histogram|messaging_masstransit_[a-z_]*_milliseconds use base unit)' <<<"$findings" || true)
  if [[ -n $findings ]]; then
    printf '%s\n' "$findings" >&2
    log "promtool check metrics: findings above"
    return 1
  fi
  log "promtool: findings only on the .NET runtime's and MassTransit's own instrument names, which are not ours"
}

rm -f TestResults/openapi-v1.json TestResults/metrics-api.txt
log "dotnet test Registration.slnx ${args[*]}"
status=0
dotnet test Registration.slnx "${args[@]}" || status=$?
if ((explore == 0)); then
  lint_openapi || status=1
  check_metrics || status=1
fi
exit "$status"
