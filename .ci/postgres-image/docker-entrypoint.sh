#!/bin/sh
# Entrypoint of erp-rehearsal/postgres:15, built by .ci/build-postgres-image.sh from Debian packages
# because no registry (and so no official image) is reachable. It honours the official image's
# contract that @testcontainers/postgresql relies on: POSTGRES_USER (default postgres),
# POSTGRES_PASSWORD (required), POSTGRES_DB (default: the user), PGDATA, and `postgres [args...]`.
set -eu

# Like the official image: `docker run IMAGE -c fsync=off` means `postgres -c fsync=off`.
if [ "${1#-}" != "$1" ]; then
  set -- postgres "$@"
fi

if [ "$1" != postgres ]; then
  exec "$@"
fi

# initdb and postgres refuse to run as root: prepare the directories, then re-exec as postgres.
# setpriv execs without forking, so postgres stays PID 1 and receives docker's stop signal.
if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 700 "$PGDATA"
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
  POSTGRES_USER=${POSTGRES_USER:-postgres}
  POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}

  # The password goes through a file, never argv (visible in ps).
  pwfile=$(mktemp)
  printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
  # C.UTF-8 is built into glibc, so UTF8 databases work without the locales package.
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"

  echo "listen_addresses = '*'" >>"$PGDATA/postgresql.conf"
  cat >"$PGDATA/pg_hba.conf" <<'EOF'
# TYPE  DATABASE  USER  ADDRESS    METHOD
local   all       all              trust
host    all       all   0.0.0.0/0  scram-sha-256
host    all       all   ::/0       scram-sha-256
EOF

  if [ "$POSTGRES_DB" != postgres ]; then
    # A socket-only server: TCP health checks must not see the cluster before it is ready.
    pg_ctl -D "$PGDATA" -o "-c listen_addresses=''" -w start >/dev/null
    # psql quotes the name itself (:"db"): no SQL injection through POSTGRES_DB.
    echo 'CREATE DATABASE :"db";' |
      psql -v ON_ERROR_STOP=1 -v db="$POSTGRES_DB" --username="$POSTGRES_USER" --dbname=postgres --quiet
    pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  fi
  echo "docker-entrypoint: initialised $PGDATA (user $POSTGRES_USER, database $POSTGRES_DB)"
fi

exec "$@"
