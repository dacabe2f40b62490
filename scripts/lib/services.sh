# shellcheck shell=bash
# Local PostgreSQL and RabbitMQ for scripts/run.sh, scripts/test.sh and friends, on
# Debian/Ubuntu without Docker. Source this file, then:
#
#   ensure_services                                   # install if missing, start if stopped
#   ensure_postgres_role_and_database NAME PASSWORD [--createdb]
#   ensure_rabbitmq_user NAME PASSWORD                # administrator, full rights on "/"
#
# Everything is idempotent: a second run finds the servers running and changes nothing.
# Machines without systemd as PID 1 (containers, CI sandboxes) don't start services on
# install, so the servers are started directly rather than through the init system.

SERVICES_TIMEOUT="${SERVICES_TIMEOUT:-60}" # seconds, for every wait below
POSTGRES_PORT=""                           # set by ensure_services
RABBITMQ_PORT=5672
RABBITMQ_MANAGEMENT_PORT=15672

# rabbitmqctl and friends live in /usr/sbin, which a non-root PATH may lack.
case ":$PATH:" in *:/usr/sbin:*) ;; *) PATH="$PATH:/usr/sbin:/sbin" ;; esac

log() { printf '==> %s\n' "$*" >&2; }
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Without a terminal (CI) sudo must not wait for a password nobody will type.
sudo_flags=()
[[ -t 0 ]] || sudo_flags=(-n)

as_root() {
  if [[ $EUID -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "${sudo_flags[@]}" "$@"
  else
    die "need root for '$*': run as root or install sudo"
  fi
}

# Run as a system user (postgres), from / so that psql does not warn about an
# unreadable working directory.
as_user() {
  local user=$1
  shift
  if [[ $EUID -eq 0 ]]; then
    (cd / && runuser -u "$user" -- "$@")
  else
    (cd / && sudo "${sudo_flags[@]}" -u "$user" -- "$@")
  fi
}

# wait_until DESCRIPTION COMMAND...: retry COMMAND every second, at most SERVICES_TIMEOUT s.
wait_until() {
  local what=$1
  shift
  local deadline=$((SECONDS + SERVICES_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      printf 'error: %s: not ready after %s s\n' "$what" "$SERVICES_TIMEOUT" >&2
      return 1
    fi
    sleep 1
  done
}

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

systemd_running() { [[ -d /run/systemd/system ]]; }

postgres_installed() {
  command -v pg_ctlcluster >/dev/null 2>&1 && compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null
}

rabbitmq_installed() { command -v rabbitmq-server >/dev/null 2>&1; }

ensure_packages() {
  local missing=()
  postgres_installed || missing+=(postgresql)
  rabbitmq_installed || missing+=(rabbitmq-server)
  # promtool checks deploy/prometheus/alerts.yml in tests/Deployment.Tests (Debian ships it in `prometheus`).
  command -v promtool >/dev/null 2>&1 || missing+=(prometheus)
  ((${#missing[@]} == 0)) && return 0

  command -v apt-get >/dev/null 2>&1 ||
    die "${missing[*]} not installed and no apt-get here: install them yourself, or set TEST_POSTGRES and TEST_RABBITMQ"
  log "installing ${missing[*]} with apt-get (once)"
  local apt_log
  apt_log=$(mktemp)
  # DPkg::Lock::Timeout: wait for a concurrent apt (e.g. unattended-upgrades) instead of failing.
  if ! as_root env DEBIAN_FRONTEND=noninteractive apt-get -q update >"$apt_log" 2>&1 ||
    ! as_root env DEBIAN_FRONTEND=noninteractive apt-get -q -y --no-install-recommends \
      -o DPkg::Lock::Timeout=120 install "${missing[@]}" >>"$apt_log" 2>&1; then
    tail -n 30 "$apt_log" >&2
    die "apt-get could not install ${missing[*]} (full log: $apt_log)"
  fi
  rm -f "$apt_log"
  postgres_installed || die "postgresql installed but no server binary under /usr/lib/postgresql"
  rabbitmq_installed || die "rabbitmq-server installed but not on PATH"
}

ensure_postgres() {
  # Prefer the cluster on the default port, else the first one; create one if there is none
  # (the package creates "main" on install unless createcluster.conf says otherwise).
  local cluster
  cluster=$(pg_lsclusters -h | awk '$3 == 5432' | head -n 1)
  [[ -n $cluster ]] || cluster=$(pg_lsclusters -h | head -n 1)
  if [[ -z $cluster ]]; then
    local version
    version=$(basename "$(dirname "$(dirname "$(compgen -G '/usr/lib/postgresql/*/bin/postgres' | sort -V | tail -n 1)")")")
    log "creating PostgreSQL $version cluster 'main' (UTF8, locale C.UTF-8)"
    # Explicitly UTF-8: without it initdb takes the machine's locale, and on a machine with none (a
    # container, a CI image) the cluster is SQL_ASCII, where every non-ASCII email fails.
    as_root pg_createcluster --encoding=UTF8 --locale=C.UTF-8 "$version" main >/dev/null
    cluster=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main"')
  fi

  local version name port status
  read -r version name port status _ <<<"$cluster"
  if [[ $status == online* ]]; then
    log "PostgreSQL $version/$name already running on port $port"
  else
    log "starting PostgreSQL $version/$name on port $port"
    # Under systemd pg_ctlcluster hands over to systemctl by itself.
    as_root pg_ctlcluster "$version" "$name" start ||
      die "PostgreSQL $version/$name did not start; see /var/log/postgresql/postgresql-$version-$name.log"
  fi
  wait_until "PostgreSQL on 127.0.0.1:$port" pg_isready -q -h 127.0.0.1 -p "$port" ||
    die "PostgreSQL does not accept connections; see /var/log/postgresql/postgresql-$version-$name.log"
  POSTGRES_PORT=$port
}

rabbitmq_node_up() { as_root rabbitmq-diagnostics -q ping >/dev/null 2>&1; }

ensure_rabbitmq() {
  if rabbitmq_node_up; then
    log "RabbitMQ already running"
  else
    # Enabled offline before the start, the management plugin comes up with the node
    # instead of costing a second round of plugin activation.
    as_root rabbitmq-plugins enable --offline rabbitmq_management >/dev/null ||
      die "could not enable the rabbitmq_management plugin"
    log "starting RabbitMQ"
    if systemd_running; then
      as_root systemctl start rabbitmq-server || die "systemctl start rabbitmq-server failed"
    else
      # -detached daemonises; stdio goes nowhere so a CI log pipe is not held open.
      as_root rabbitmq-server -detached </dev/null >/dev/null 2>&1 ||
        die "rabbitmq-server -detached failed; see /var/log/rabbitmq/"
    fi
  fi

  # The node registers with epmd a moment after -detached returns, and await_startup fails
  # at once while it is unknown: hence the retry around a short await_startup.
  wait_until "RabbitMQ node boot" as_root rabbitmqctl -q await_startup --timeout 10 ||
    die "RabbitMQ did not start; see /var/log/rabbitmq/"

  if ! port_open 127.0.0.1 "$RABBITMQ_MANAGEMENT_PORT"; then
    log "enabling the rabbitmq_management plugin"
    as_root rabbitmq-plugins enable rabbitmq_management >/dev/null ||
      die "could not enable the rabbitmq_management plugin"
  fi
  wait_until "RabbitMQ management API on 127.0.0.1:$RABBITMQ_MANAGEMENT_PORT" \
    port_open 127.0.0.1 "$RABBITMQ_MANAGEMENT_PORT" || die "RabbitMQ management API not listening"
  wait_until "RabbitMQ AMQP on 127.0.0.1:$RABBITMQ_PORT" port_open 127.0.0.1 "$RABBITMQ_PORT" ||
    die "RabbitMQ not listening for AMQP"
}

# Installs (when missing) and starts (when stopped) PostgreSQL and RabbitMQ.
ensure_services() {
  local started=$SECONDS
  ensure_packages
  ensure_postgres
  ensure_rabbitmq
  log "services ready in $((SECONDS - started)) s: PostgreSQL 127.0.0.1:$POSTGRES_PORT, RabbitMQ 127.0.0.1:$RABBITMQ_PORT (management :$RABBITMQ_MANAGEMENT_PORT)"
}

# ensure_postgres_role_and_database NAME PASSWORD [--createdb]
# A login role NAME with PASSWORD and a database NAME it owns, encoded UTF8 whatever the
# cluster's default (an existing cluster made on a machine without a locale is SQL_ASCII:
# hence template0, which any encoding may be copied from). The password is reset on every
# call so that a changed script never leaves a stale one behind.
ensure_postgres_role_and_database() {
  local name=$1 password=$2 createdb=NOCREATEDB
  [[ ${3:-} == --createdb ]] && createdb=CREATEDB
  # psql quotes the values (:'name' as a literal, :"name" as an identifier); CREATE has no
  # IF NOT EXISTS for roles and databases, hence the \gexec of a generated statement.
  if ! as_user postgres psql -X -q -v ON_ERROR_STOP=1 -p "$POSTGRES_PORT" -d postgres \
    -v name="$name" -v password="$password" >/dev/null <<SQL; then
SELECT format('CREATE ROLE %I', :'name')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
ALTER ROLE :"name" WITH LOGIN $createdb PASSWORD :'password';
SELECT format('CREATE DATABASE %I OWNER %I ENCODING %L LC_COLLATE %L LC_CTYPE %L TEMPLATE template0',
              :'name', :'name', 'UTF8', 'C.UTF-8', 'C.UTF-8')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
SQL
    die "could not create PostgreSQL role and database '$name'"
  fi
  local encoding
  encoding=$(as_user postgres psql -X -q -At -p "$POSTGRES_PORT" -d postgres -v name="$name" \
    <<<"SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE datname = :'name'")
  if [[ $encoding != UTF8 ]]; then
    die "database '$name' exists with encoding $encoding, not UTF8: the services refuse it. Drop it (dropdb $name, as postgres) and run this again"
  fi
  log "PostgreSQL role and database '$name' ready (UTF8)"
}

# ensure_rabbitmq_user NAME PASSWORD: an administrator (the management API needs the tag)
# with every permission on the default virtual host.
ensure_rabbitmq_user() {
  local name=$1 password=$2
  if ! as_root rabbitmqctl -q authenticate_user "$name" "$password" >/dev/null 2>&1; then
    as_root rabbitmqctl -q add_user "$name" "$password" >/dev/null 2>&1 ||
      as_root rabbitmqctl -q change_password "$name" "$password" >/dev/null ||
      die "could not create RabbitMQ user '$name'"
  fi
  as_root rabbitmqctl -q set_user_tags "$name" administrator >/dev/null ||
    die "could not tag RabbitMQ user '$name' as administrator"
  as_root rabbitmqctl -q set_permissions -p / "$name" '.*' '.*' '.*' >/dev/null ||
    die "could not grant RabbitMQ user '$name' permissions on /"
  log "RabbitMQ user '$name' ready"
}
