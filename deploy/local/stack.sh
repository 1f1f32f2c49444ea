#!/usr/bin/env bash
# The local stack: Apache Kafka (KRaft), PostgreSQL, Redis and Zipkin as this project's own
# processes on loopback, with their data under .local/ (ignored by git).
#
#   stack.sh install   install what is missing (Debian packages, jars, Python env); idempotent
#   stack.sh up        install, then start every part that is not running and wait for it
#   stack.sh down      stop what this project started (by its pid files)
#   stack.sh status    one line per part; exit 1 if any part is down
#
# Ports and places are environment variables (defaults below), so two checkouts can coexist.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/deploy/local"
# shellcheck source=deploy/debian-packages.sh
source "$ROOT/deploy/debian-packages.sh"
STATE=${GONGHUI_STATE_DIR:-$ROOT/.local}
RUN="$STATE/run"
LOGS="$STATE/logs"
JARS="$STATE/jars"

KAFKA_PORT=${GONGHUI_KAFKA_PORT:-19092}
KAFKA_CONTROLLER_PORT=${GONGHUI_KAFKA_CONTROLLER_PORT:-19093}
PG_PORT=${GONGHUI_PG_PORT:-15432}
REDIS_PORT=${GONGHUI_REDIS_PORT:-16379}
ZIPKIN_PORT=${GONGHUI_ZIPKIN_PORT:-9411}
KAFKA_HEAP=${GONGHUI_KAFKA_HEAP:-768m}
ZIPKIN_HEAP=${GONGHUI_ZIPKIN_HEAP:-2g}
DATABASES=(membership aid legal skills notify)
# Each Kafka principal's SCRAM password, made once, readable by its owner only; none is committed.
CREDENTIALS="$STATE/kafka/credentials.json"
PARTNERS="$HERE/partners.json"

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$HERE/pom.xml")
export UV_PYTHON_DOWNLOADS=never

say() { printf '%s\n' "$*"; }
fail() { printf 'stack: %s\n' "$*" >&2; exit 1; }

# ---------------------------------------------------------------- install

pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

install_packages() {
  # kcat: a partner's client that is not ours (the hostile-partner test)
  need_commands "$LOGS/apt.log" "$(pg_bin)/postgres:postgresql" redis-server \
    java:openjdk-17-jre-headless mvn:maven kcat || fail "installing Debian packages failed"
}

install_jars() {
  local stamp="$JARS/.pom.sha256" want
  want=$(sha256sum "$HERE/pom.xml" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] \
    && [ -f "$JARS/kafka/kafka_2.13-$KAFKA_VERSION.jar" ] && [ -f "$JARS/zipkin/zipkin-server-exec.jar" ]; then
    return 0
  fi
  say "fetching Kafka $KAFKA_VERSION and Zipkin jars with mvn (cached in ~/.m2)"
  rm -rf "$JARS/kafka" "$JARS/zipkin"
  mvn -B -q -f "$HERE/pom.xml" -Dstack.dir="$JARS" generate-resources >"$LOGS/mvn.log" 2>&1 \
    || fail "mvn could not fetch the jars, see $LOGS/mvn.log"
  echo "$want" >"$stamp"
}

install_python() {
  if ! command -v uv >/dev/null; then
    say "installing uv from PyPI"
    python3 -m pip install -q uv >"$LOGS/pip.log" 2>&1 || fail "pip install uv failed, see $LOGS/pip.log"
  fi
  (cd "$ROOT" && uv sync --all-packages --frozen --compile-bytecode -q) || fail "uv sync failed"
}

cmd_install() {
  mkdir -p "$RUN" "$LOGS" "$JARS"
  install_packages
  install_jars
  install_python
}

# ---------------------------------------------------------------- processes

pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

credential() { # principal: its password in $CREDENTIALS, made if missing
  "$ROOT/.venv/bin/python" -c 'import sys; from pathlib import Path
from servicekit.kafka_identity import Credentials
print(Credentials(Path(sys.argv[1])).ensure([sys.argv[2]])[sys.argv[2]])' "$CREDENTIALS" "$1"
}

as_principal() { # principal, command...: run with the KAFKA_* settings of that principal
  local who=$1; shift
  KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:$KAFKA_PORT" KAFKA_SECURITY_PROTOCOL=SASL_PLAINTEXT \
    KAFKA_SASL_MECHANISM=SCRAM-SHA-512 KAFKA_SASL_USERNAME="$who" \
    KAFKA_SASL_PASSWORD="$(credential "$who")" "$@"
}

probe() {
  if [ "$1" = kafka ]; then
    as_principal broker "$ROOT/.venv/bin/python" "$HERE/probe.py" "$@"
  else
    "$ROOT/.venv/bin/python" "$HERE/probe.py" "$@"
  fi
}

wait_for() { # name, log, seconds, probe args...
  local name=$1 log=$2 secs=$3; shift 3
  local deadline=$((SECONDS + secs))
  until probe "$@" >/dev/null 2>&1; do
    if [ $SECONDS -ge $deadline ]; then
      fail "$name did not answer within ${secs}s; its log: $log"
    fi
    sleep 0.5
  done
}

start_kafka() {
  local pidf="$RUN/kafka.pid" log="$LOGS/kafka.log" data="$STATE/kafka/data" conf="$STATE/kafka/server.properties"
  if pid_alive "$pidf"; then return 0; fi
  mkdir -p "$data"
  local broker_password; broker_password=$(credential broker)
  (umask 077; sed -e "s|@KAFKA_PORT@|$KAFKA_PORT|g" -e "s|@KAFKA_CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@KAFKA_BROKER_PASSWORD@|$broker_password|g" \
      -e "s|@KAFKA_DATA@|$data|g" "$HERE/kafka.properties.in" >"$conf")
  local cp="$JARS/kafka/*"
  local jvm=(java -Xms256m "-Xmx$KAFKA_HEAP" -XX:+UseG1GC -Djava.awt.headless=true
             "-Dlog4j2.configurationFile=$HERE/kafka-log4j2.xml" -cp "$cp")
  if [ -f "$data/meta.properties" ] && [ ! -f "$data/.scram-broker" ]; then
    say "Kafka's local data predates SASL everywhere (no broker credential): formatting it anew"
    rm -rf "$data"; mkdir -p "$data"
  fi
  if [ ! -f "$data/meta.properties" ]; then
    [ -f "$STATE/kafka/cluster.id" ] || "${jvm[@]}" kafka.tools.StorageTool random-uuid | tail -n 1 >"$STATE/kafka/cluster.id"
    "${jvm[@]}" kafka.tools.StorageTool format -t "$(cat "$STATE/kafka/cluster.id")" -c "$conf" \
      --add-scram "SCRAM-SHA-512=[name=broker,password=$broker_password]" \
      >"$LOGS/kafka-format.log" 2>&1 || fail "formatting Kafka storage failed, see $LOGS/kafka-format.log"
    touch "$data/.scram-broker"
  fi
  nohup "${jvm[@]}" kafka.Kafka "$conf" >"$log" 2>&1 &
  echo $! >"$pidf"
  wait_for kafka "$log" 90 kafka "127.0.0.1:$KAFKA_PORT"
}

pg_home() {
  # postgres refuses to run as root; its data dir must be reachable by the postgres user.
  local dir="$STATE/postgres"
  mkdir -p "$dir"
  if runuser -u postgres -- test -x "$dir"; then echo "$dir"; return; fi
  dir="/var/lib/gonghui/$(echo "$ROOT" | sha256sum | cut -c1-12)/postgres"
  mkdir -p "$dir"
  echo "$dir"
}

as_postgres() { # home, command...: run as the postgres user from a directory it can read
  local home=$1; shift
  (cd "$home" && runuser -u postgres -- "$@")
}

start_postgres() {
  local home data log bin
  home=$(pg_home); data="$home/data"; log="$home/postgres.log"; bin=$(pg_bin)
  chown postgres: "$home"
  ln -sfn "$log" "$LOGS/postgres.log"  # the server writes where the postgres user can
  if [ ! -f "$data/PG_VERSION" ]; then
    as_postgres "$home" "$bin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$LOGS/postgres-initdb.log" 2>&1 || fail "initdb failed, see $LOGS/postgres-initdb.log"
  fi
  echo "$data" >"$RUN/postgres.datadir"
  if ! as_postgres "$home" "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_postgres "$home" "$bin/pg_ctl" -D "$data" -l "$log" -w -t 60 start \
      -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $home -c max_connections=200 -c fsync=on -c shared_preload_libraries=pg_stat_statements" \
      >/dev/null || fail "postgres did not start; its log: $log"
  fi
  wait_for postgres "$log" 60 postgres "127.0.0.1:$PG_PORT"
  local db
  for db in "${DATABASES[@]}"; do
    if ! psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1; then
      psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $db" >/dev/null
    fi
  done
}

start_redis() {
  local pidf="$RUN/redis.pid" log="$LOGS/redis.log"
  if pid_alive "$pidf"; then return 0; fi
  mkdir -p "$STATE/redis"
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --pidfile "$pidf" \
    --logfile "$log" --dir "$STATE/redis" --appendonly yes --save "" >/dev/null \
    || fail "redis did not start; its log: $log"
  wait_for redis "$log" 30 redis "127.0.0.1:$REDIS_PORT"
}

start_zipkin() {
  local pidf="$RUN/zipkin.pid" log="$LOGS/zipkin.log"
  if pid_alive "$pidf"; then return 0; fi
  # Zipkin collects from Kafka when KAFKA_BOOTSTRAP_SERVERS is set; it gets spans over HTTP only.
  env -u KAFKA_BOOTSTRAP_SERVERS STORAGE_TYPE=mem MEM_MAX_SPANS="${GONGHUI_ZIPKIN_MAX_SPANS:-300000}" \
    nohup java -Xms128m "-Xmx$ZIPKIN_HEAP" -jar "$JARS/zipkin/zipkin-server-exec.jar" \
    "--armeria.ports[0].ip=127.0.0.1" "--armeria.ports[0].port=$ZIPKIN_PORT" \
    "--armeria.ports[0].protocols[0]=http" >"$log" 2>&1 &
  echo $! >"$pidf"
  wait_for zipkin "$log" 90 zipkin "127.0.0.1:$ZIPKIN_PORT"
}

cmd_up() {
  local started=$SECONDS
  cmd_install
  start_postgres
  start_redis
  start_kafka
  start_zipkin
  # SCRAM users and the registry's ACLs, granted by the broker's super user; then the operator
  # (who may manage topics through its ACLs) creates the topics
  (cd "$ROOT" && as_principal broker "$ROOT/.venv/bin/servicekit" acl apply --prune \
      --credentials "$CREDENTIALS" --partners "$PARTNERS" >/dev/null) \
    || fail "granting the registry's ACLs failed"
  (cd "$ROOT" && as_principal operator "$ROOT/.venv/bin/servicekit" topics create \
      --partners "$PARTNERS" >/dev/null) || fail "creating topics failed"
  say "stack up in $((SECONDS - started))s"
  cmd_status
}

stop_pidfile() { # name, pidfile
  local name=$1 pidf=$2 pid
  pid_alive "$pidf" || { rm -f "$pidf"; return 0; }
  pid=$(cat "$pidf")
  kill -TERM "$pid"
  for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  if kill -0 "$pid" 2>/dev/null; then say "$name did not stop in 30s, killing"; kill -KILL "$pid"; fi
  rm -f "$pidf"
  say "$name stopped"
}

cmd_down() {
  stop_pidfile zipkin "$RUN/zipkin.pid"
  stop_pidfile kafka "$RUN/kafka.pid"
  stop_pidfile redis "$RUN/redis.pid"
  if [ -f "$RUN/postgres.datadir" ] && [ -n "$(pg_bin)" ]; then
    local data; data=$(cat "$RUN/postgres.datadir")
    if as_postgres / "$(pg_bin)/pg_ctl" -D "$data" status >/dev/null 2>&1; then
      as_postgres / "$(pg_bin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null && say "postgres stopped"
    fi
  fi
}

cmd_status() {
  local down=0 line
  local parts=("kafka 127.0.0.1:$KAFKA_PORT" "postgres 127.0.0.1:$PG_PORT"
               "redis 127.0.0.1:$REDIS_PORT" "zipkin 127.0.0.1:$ZIPKIN_PORT")
  local part name addr
  for part in "${parts[@]}"; do
    name=${part% *}; addr=${part#* }
    if [ -x "$ROOT/.venv/bin/python" ] && line=$(probe "$name" "$addr" 2>/dev/null); then
      printf '%-9s up    %-22s %s\n' "$name" "$addr" "$line"
    else
      printf '%-9s DOWN  %-22s log: %s\n' "$name" "$addr" "$LOGS/$name.log"
      down=1
    fi
  done
  return $down
}

mkdir -p "$RUN" "$LOGS"
case "${1:-}" in
  install) cmd_install ;;
  up) cmd_up ;;
  down) cmd_down ;;
  status) cmd_status ;;
  *) echo "usage: $0 install|up|down|status" >&2; exit 2 ;;
esac
