#!/bin/sh
# Entry point of the CI stand-in image (Dockerfile.services): one service per container.
#   postgres   PostgreSQL 15 with POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB, password auth
#   redis      redis-server (append-only file in /data)
#   mongodb    SecantusDB's MongoDB wire server on 27017, data in /data/db (no authentication)
#   s3         SeaweedFS `weed mini` with the S3 gateway on 8333; AWS_* is its only identity
#   health NAME   exit 0 when that service answers (the compose health checks)
set -eu
service="${1:?usage: fepflow-ci-service postgres|redis|mongodb|s3|health NAME}"
shift
case "$service" in
  postgres)
    export PGDATA=/var/lib/postgresql/data
    mkdir -p "$PGDATA" /run/postgresql
    chown -R postgres:postgres "$PGDATA" /run/postgresql
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
      printf '%s\n' "$POSTGRES_PASSWORD" > /tmp/pwfile
      chown postgres /tmp/pwfile
      setpriv --reuid=postgres --regid=postgres --init-groups initdb -D "$PGDATA" \
        --username="$POSTGRES_USER" --pwfile=/tmp/pwfile --auth-local=trust --auth-host=scram-sha-256 >/dev/null
      rm -f /tmp/pwfile
      echo "host all all 0.0.0.0/0 scram-sha-256" >> "$PGDATA/pg_hba.conf"
      setpriv --reuid=postgres --regid=postgres --init-groups \
        postgres --single -D "$PGDATA" -j postgres <<SQL >/dev/null
CREATE DATABASE "$POSTGRES_DB" OWNER "$POSTGRES_USER";
SQL
    fi
    exec setpriv --reuid=postgres --regid=postgres --init-groups postgres -D "$PGDATA" -c listen_addresses='*'
    ;;
  redis)
    mkdir -p /data && cd /data
    exec redis-server --appendonly yes --protected-mode no --bind 0.0.0.0 "$@"
    ;;
  mongodb)
    mkdir -p /data/db
    exec secantusd-py --host 0.0.0.0 --port 27017 --storage-path /data/db --log-level WARNING "$@"
    ;;
  s3)
    mkdir -p /data
    exec weed mini -dir=/data -ip=127.0.0.1 -ip.bind=0.0.0.0 -s3.port=8333 -admin.ui=false -webdav=false \
      -s3.port.iceberg=0 -s3.port.lance=0 -master.telemetry=false "$@"
    ;;
  health)
    case "${1:?health of which service?}" in
      postgres) exec pg_isready -q -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" ;;
      redis) [ "$(redis-cli ping)" = PONG ] ;;
      mongodb) exec python -c "import pymongo; pymongo.MongoClient('mongodb://127.0.0.1:27017/', serverSelectionTimeoutMS=3000).admin.command('ping')" ;;
      s3) exec python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8333/healthz', timeout=3)" ;;
      *) echo "unknown service $1" >&2; exit 2 ;;
    esac
    ;;
  *)
    exec "$service" "$@"
    ;;
esac
