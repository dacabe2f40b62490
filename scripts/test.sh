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

log "dotnet test Registration.slnx ${args[*]}"
exec dotnet test Registration.slnx "${args[@]}"
