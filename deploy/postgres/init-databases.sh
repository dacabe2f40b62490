#!/usr/bin/env bash
# Runs once, when the postgres container starts on an empty volume (the image runs every
# script in /docker-entrypoint-initdb.d). One role per client, each with what it needs only:
#
#   registration       owns database `registration`: the API's tables (users, activation_codes,
#                      outbox_messages) in schema public, created by its migrations at start-up.
#   notification       may create schemas in `registration`: the worker creates and owns schema
#                      `notification` and has no right on the API's tables.
#   registration_test  CREATEDB: the `tests` service creates and drops a database per test class.
#
# Changing a password in deploy/.env later does not reach an existing volume: run
# `docker compose -f deploy/docker-compose.yml down -v` to start over, or ALTER ROLE by hand.
set -euo pipefail

# Passwords go through psql variables (:'name' quotes them as SQL literals), never into the SQL text.
psql --no-psqlrc -v ON_ERROR_STOP=1 \
  --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v registration_password="$REGISTRATION_DB_PASSWORD" \
  -v notification_password="$NOTIFICATION_DB_PASSWORD" \
  -v test_password="$TEST_DB_PASSWORD" <<'SQL'
CREATE ROLE registration LOGIN PASSWORD :'registration_password';
CREATE DATABASE registration OWNER registration;

CREATE ROLE notification LOGIN PASSWORD :'notification_password';
GRANT CONNECT, CREATE ON DATABASE registration TO notification;

CREATE ROLE registration_test LOGIN CREATEDB PASSWORD :'test_password';
CREATE DATABASE registration_test OWNER registration_test;
SQL
