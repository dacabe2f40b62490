#!/usr/bin/env bash
# Runs the benchmark (bench/Registration.Bench) against local PostgreSQL and RabbitMQ.
#
#   ./scripts/bench.sh --quick                 # every scenario, short (about two minutes)
#   ./scripts/bench.sh                         # the full run behind docs/benchmarks.md
#   ./scripts/bench.sh register --work-factor 11 --concurrency 1,2,4
#
# Same service set-up as scripts/test.sh; the API and the worker run from Release builds as
# child processes of the benchmark, which also hosts a fake email provider.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/services.sh
source scripts/lib/services.sh

if [[ -z ${TEST_POSTGRES:-} || -z ${TEST_RABBITMQ:-} ]]; then
  ensure_services
  ensure_postgres_role_and_database registration_test registration_test --createdb
  ensure_rabbitmq_user registration_test registration_test
  export TEST_POSTGRES="${TEST_POSTGRES:-Host=127.0.0.1;Port=$POSTGRES_PORT;Username=registration_test;Password=registration_test;Database=registration_test}"
  export TEST_RABBITMQ="${TEST_RABBITMQ:-amqp://registration_test:registration_test@127.0.0.1:$RABBITMQ_PORT/}"
fi

log "dotnet build -c Release (API, worker, benchmark)"
dotnet build -c Release --nologo -v quiet services/Registration.Api/Registration.Api.csproj
dotnet build -c Release --nologo -v quiet services/Notification.Worker/Notification.Worker.csproj
dotnet build -c Release --nologo -v quiet bench/Registration.Bench/Registration.Bench.csproj

log "bench $*"
exec dotnet bench/Registration.Bench/bin/Release/net10.0/Registration.Bench.dll "$@"
