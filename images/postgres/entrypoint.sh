#!/bin/bash
# municloud PostgreSQL entrypoint. Runs as user postgres. Contract: docs/postgres-image.md.
#   MC_PG_MODE=primary  empty data dir -> initdb + one database and role per service
#   MC_PG_MODE=standby  empty data dir -> base backup from MC_PG_PEER_HOST, then streaming
#   MC_PG_MODE=repo     pgBackRest repository: `pgbackrest server` (TLS) in the foreground
#   MC_PG_MODE=rebuild  one-off (failback): wipe the data dir, base backup from the peer, exit
#   MC_PG_MODE=rewind   one-off (failback): pg_rewind the data dir onto the peer's timeline, exit
#                       (exit 65 with the reason logged when a rewind is not possible)
# Configuration derived from env (listen, TLS, replication, archiving) is rewritten on every
# start, so a changed container definition takes effect on restart. Tuning and pg_hba.conf come
# from roles/postgres, copied to $ROLE_CONF_DIR (included last, hba_file points there: a reload
# applies a change); the backup repository's pgbackrest.conf and schedule from roles/pgbackrest in
# $ROLE_BR_DIR. Without those files (tests, labs) the env-derived fallback below is used.
set -euo pipefail

MODE="${MC_PG_MODE:-primary}"
PGDATA="${PGDATA:-/var/lib/postgresql/data}"
SECRETS="${MC_PG_SECRETS_DIR:-/run/secrets/postgres}"
TLS_SRC="${MC_PG_TLS_DIR:-/run/secrets/postgres-tls}"
TLS=/var/lib/postgresql/tls
PORT="${MC_PG_PORT:-5432}"
PEER_PORT="${MC_PG_PEER_PORT:-5432}"
APP_NAME="${MC_PG_APPLICATION_NAME:-$(hostname)}"
BR_PORT="${MC_PGBACKREST_PORT:-8432}"
ROLE_CONF_DIR=/etc/municloud/postgres
ROLE_BR_DIR=/etc/municloud/pgbackrest
AUDIT_SCHEMA=/usr/local/share/municloud/audit_schema.sql

log() { printf '%s mc-postgres[%s]: %s\n' "$(date -u +%FT%TZ)" "$MODE" "$*" >&2; }
die() { log "ERROR: $*"; exit 64; }
words() { echo "${1:-}" | tr ',' ' '; }

# The server key must be owned by postgres with mode 0600: copy the mounted files.
install_tls() {
  for f in ca.crt server.crt server.key; do
    [ -r "$TLS_SRC/$f" ] || die "TLS file $TLS_SRC/$f missing or unreadable (mount ca.crt, server.crt, server.key)"
  done
  mkdir -p "$TLS" && chmod 0700 "$TLS"
  install -m 0644 "$TLS_SRC/ca.crt" "$TLS/ca.crt"
  install -m 0644 "$TLS_SRC/server.crt" "$TLS/server.crt"
  install -m 0600 "$TLS_SRC/server.key" "$TLS/server.key"
}

secret() {  # secret NAME -> path of a readable secret file, or die naming it
  local f="$SECRETS/$1.password"
  [ -r "$f" ] && [ -s "$f" ] || die "secret file $f missing, empty or unreadable"
  echo "$f"
}

validate_names() {
  local n
  for n in $(words "${MC_PG_DATABASES:-}"); do
    [[ "$n" =~ ^[a-z][a-z0-9_]{0,56}$ ]] || die "MC_PG_DATABASES: invalid name '$n' (lower-case identifier, at most 57 characters: <name>_audit is its audit role)"
    case "$n" in postgres|replicator|template0|template1) die "MC_PG_DATABASES: reserved name '$n'";; esac
  done
  for n in $(words "${MC_PG_ALLOWED_NETWORKS:-}") $(words "${MC_PG_REPLICATION_NETWORKS:-}"); do
    [[ "$n" =~ ^[0-9a-fA-F:.]+/[0-9]{1,3}$ ]] || die "network '$n' is not a CIDR (MC_PG_ALLOWED_NETWORKS / MC_PG_REPLICATION_NETWORKS)"
  done
}

write_pgpass() {  # replication password for pg_basebackup / streaming, never on a command line
  local pw; pw="$(cat "$(secret replicator)")"
  umask 077
  printf '*:*:*:replicator:%s\n' "${pw//:/\\:}" > /var/lib/postgresql/.pgpass
}

write_hba() {
  local db net
  if [ -r "$ROLE_CONF_DIR/pg_hba.conf" ]; then  # roles/postgres: hba_file points at it (write_conf)
    log "client authentication from $ROLE_CONF_DIR/pg_hba.conf (roles/postgres)"
    return 0
  fi
  {
    echo "# Written by mc-postgres-entrypoint on every start; edit the container env instead."
    echo "local   all          postgres                 peer"
    echo "local   replication  postgres                 peer"
    for db in $(words "${MC_PG_DATABASES:-}"); do
      for net in $(words "${MC_PG_ALLOWED_NETWORKS:-}"); do
        echo "hostssl $db $db $net scram-sha-256"
      done
    done
    for net in $(words "${MC_PG_REPLICATION_NETWORKS:-}"); do
      echo "hostssl replication replicator $net scram-sha-256"
      echo "hostssl postgres replicator $net scram-sha-256"  # pg_rewind's source connection
    done
  } > "$PGDATA/pg_hba.conf"
}

write_conf() {
  local conninfo
  {
    echo "# Written by mc-postgres-entrypoint on every start (ALTER SYSTEM values override these)."
    echo "listen_addresses = '${MC_PG_LISTEN_ADDRESSES:-*}'"
    echo "port = $PORT"
    echo "ssl = on"
    echo "ssl_cert_file = '$TLS/server.crt'"
    echo "ssl_key_file = '$TLS/server.key'"
    echo "ssl_ca_file = '$TLS/ca.crt'"
    echo "ssl_min_protocol_version = 'TLSv1.2'"
    echo "password_encryption = 'scram-sha-256'"
    echo "wal_level = replica"
    echo "max_wal_senders = 10"
    echo "wal_keep_size = '${MC_PG_WAL_KEEP_SIZE:-256MB}'"
    echo "hot_standby = on"
    echo "hot_standby_feedback = on"
    echo "wal_log_hints = on"
    echo "synchronous_standby_names = '${MC_PG_SYNCHRONOUS_STANDBY_NAMES:-}'"
    if [ -n "${MC_PG_PEER_HOST:-}" ]; then
      conninfo="host=$MC_PG_PEER_HOST port=$PEER_PORT user=replicator passfile=/var/lib/postgresql/.pgpass"
      conninfo="$conninfo sslmode=verify-ca sslrootcert=$TLS/ca.crt application_name=$APP_NAME"
      echo "primary_conninfo = '$conninfo'"
    fi
    if [ -n "${MC_PGBACKREST_STANZA:-}" ]; then
      echo "archive_mode = on"
      echo "archive_command = 'pgbackrest --stanza=$MC_PGBACKREST_STANZA archive-push %p'"
      echo "archive_timeout = ${MC_PG_ARCHIVE_TIMEOUT:-60}"
      echo "restore_command = 'pgbackrest --stanza=$MC_PGBACKREST_STANZA archive-get %f \"%p\"'"
    else
      echo "archive_mode = off"
    fi
    if [ -r "$ROLE_CONF_DIR/pg_hba.conf" ]; then echo "hba_file = '$ROLE_CONF_DIR/pg_hba.conf'"; fi
    # last, so that the role's tuning wins; read again on reload
    if [ -r "$ROLE_CONF_DIR/postgresql.conf" ]; then echo "include_if_exists = '$ROLE_CONF_DIR/postgresql.conf'"; fi
  } > "$PGDATA/municloud.conf"
}

# pgBackRest on a database host: archive-push to the repository over TLS, and a TLS server of
# its own so the repository host can run backups (pgBackRest backs up from the repository host).
write_pgbackrest_client_conf() {
  [ -n "${MC_PGBACKREST_STANZA:-}" ] || return 0
  [[ "$MC_PGBACKREST_STANZA" =~ ^[a-z0-9_-]+$ ]] || die "MC_PGBACKREST_STANZA: invalid stanza '$MC_PGBACKREST_STANZA'"
  [ -n "${MC_PGBACKREST_REPO_HOST:-}" ] || die "MC_PGBACKREST_REPO_HOST must be set when MC_PGBACKREST_STANZA is"
  cat > /etc/pgbackrest/pgbackrest.conf <<CONF
# Written by mc-postgres-entrypoint.
[global]
repo1-host=$MC_PGBACKREST_REPO_HOST
repo1-host-type=tls
repo1-host-port=${MC_PGBACKREST_REPO_PORT:-8432}
repo1-host-ca-file=$TLS/ca.crt
repo1-host-cert-file=$TLS/server.crt
repo1-host-key-file=$TLS/server.key
tls-server-address=*
tls-server-port=$BR_PORT
tls-server-ca-file=$TLS/ca.crt
tls-server-cert-file=$TLS/server.crt
tls-server-key-file=$TLS/server.key
tls-server-auth=${MC_PGBACKREST_REPO_CN:-$MC_PGBACKREST_REPO_HOST}=$MC_PGBACKREST_STANZA
log-level-console=warn
log-level-file=info
archive-async=n

[$MC_PGBACKREST_STANZA]
pg1-path=$PGDATA
pg1-port=$PORT
pg1-socket-path=/var/run/postgresql
CONF
}

# Repository host: one stanza per database cluster; cipher passphrase only from the mounted
# include directory (PGBACKREST_CONFIG_INCLUDE_PATH), never from env.
write_pgbackrest_repo_conf() {
  local entry stanza host i
  ls "${PGBACKREST_CONFIG_INCLUDE_PATH}"/*.conf >/dev/null 2>&1 \
    || die "no cipher config in $PGBACKREST_CONFIG_INCLUDE_PATH (mount cipher.conf with repo1-cipher-pass)"
  if [ -r "$ROLE_BR_DIR/pgbackrest.conf" ]; then  # roles/pgbackrest; a link, so `docker exec pgbackrest` reads it too
    ln -sfn "$ROLE_BR_DIR/pgbackrest.conf" /etc/pgbackrest/pgbackrest.conf
    log "repository configuration from $ROLE_BR_DIR/pgbackrest.conf (roles/pgbackrest)"
    return 0
  fi
  {
    echo "# Written by mc-postgres-entrypoint (repo mode)."
    echo "[global]"
    echo "repo1-path=/var/lib/pgbackrest"
    echo "repo1-cipher-type=aes-256-cbc"
    echo "repo1-retention-full=${MC_PGBACKREST_RETENTION_FULL:-2}"
    echo "repo1-retention-diff=${MC_PGBACKREST_RETENTION_DIFF:-6}"
    echo "start-fast=y"
    echo "log-level-console=info"
    echo "log-level-file=info"
    echo "tls-server-address=*"
    echo "tls-server-port=$BR_PORT"
    echo "tls-server-ca-file=$TLS/ca.crt"
    echo "tls-server-cert-file=$TLS/server.crt"
    echo "tls-server-key-file=$TLS/server.key"
    # Each database host authenticates with its certificate CN = its host name.
    for entry in $(words "${MC_PGBACKREST_STANZAS:-}"); do
      stanza="${entry%%=*}"
      for host in $(echo "${entry#*=}" | tr '+' ' '); do
        echo "tls-server-auth=${host%%:*}=$stanza"
      done
    done
    for entry in $(words "${MC_PGBACKREST_STANZAS:-}"); do
      stanza="${entry%%=*}"
      [[ "$stanza" =~ ^[a-z0-9_-]+$ ]] || die "MC_PGBACKREST_STANZAS: invalid stanza '$stanza'"
      echo ""
      echo "[$stanza]"
      i=0
      for host in $(echo "${entry#*=}" | tr '+' ' '); do
        i=$((i + 1))
        echo "pg$i-host=${host%%:*}"
        echo "pg$i-host-type=tls"
        echo "pg$i-host-port=${BR_PORT}"
        echo "pg$i-host-ca-file=$TLS/ca.crt"
        echo "pg$i-host-cert-file=$TLS/server.crt"
        echo "pg$i-host-key-file=$TLS/server.key"
        echo "pg$i-path=$PGDATA"
        echo "pg$i-port=${host##*:}"
      done
    done
  } > /etc/pgbackrest/pgbackrest.conf
}

init_primary() {
  local pwfile db
  log "initialising a new cluster in $PGDATA (scram-sha-256, data checksums)"
  pwfile="$(secret postgres)"
  initdb -D "$PGDATA" --username=postgres --pwfile="$pwfile" --auth-local=peer \
    --auth-host=scram-sha-256 --data-checksums --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  echo "include_if_exists = 'municloud.conf'" >> "$PGDATA/postgresql.conf"
  pg_ctl -D "$PGDATA" -o "-c listen_addresses='' -c archive_mode=off" -w start >/dev/null
  {
    echo "\\set ON_ERROR_STOP on"
    echo "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC;"
    echo "REVOKE CONNECT ON DATABASE template1 FROM PUBLIC;"
    if [ -r "$SECRETS/replicator.password" ]; then
      echo "\\set pw \`cat $SECRETS/replicator.password\`"
      echo "SELECT format('CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD %L', :'pw') \\gexec"
      # pg_rewind (failback) reads the source's files through these functions, no superuser needed;
      # the replicator can already copy the whole data directory by a base backup
      echo "GRANT CONNECT ON DATABASE postgres TO replicator;"
      echo "GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean) TO replicator;"
      echo "GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO replicator;"
      echo "GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text) TO replicator;"
      echo "GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean) TO replicator;"
    fi
    for db in $(words "${MC_PG_DATABASES:-}"); do
      echo "\\set pw \`cat $(secret "$db")\`"
      echo "SELECT format('CREATE ROLE %I WITH LOGIN PASSWORD %L', '$db', :'pw') \\gexec"
      echo "CREATE ROLE ${db}_audit NOLOGIN;"
      echo "CREATE DATABASE $db OWNER $db;"
      echo "REVOKE CONNECT, TEMPORARY ON DATABASE $db FROM PUBLIC;"
      echo "GRANT CONNECT ON DATABASE $db TO $db;"
      # The access log belongs to <db>_audit: the service role can only append (security H-4).
      echo "\\connect $db"
      echo "\\set service $db"
      echo "\\set owner ${db}_audit"
      echo "\\i $AUDIT_SCHEMA"
      echo "\\connect postgres"
    done
    echo "\\unset pw"
  } | psql -q -X -h /var/run/postgresql -U postgres -d postgres >/dev/null
  pg_ctl -D "$PGDATA" -m fast -w stop >/dev/null
  log "created databases and roles: $(words "${MC_PG_DATABASES:-}")"
}

init_standby() {
  [ -n "${MC_PG_PEER_HOST:-}" ] || die "MC_PG_PEER_HOST must name the primary in standby mode"
  log "base backup from $MC_PG_PEER_HOST:$PEER_PORT"
  local tries=0
  until pg_basebackup -D "$PGDATA" -X stream --checkpoint=fast \
        -d "host=$MC_PG_PEER_HOST port=$PEER_PORT user=replicator passfile=/var/lib/postgresql/.pgpass sslmode=verify-ca sslrootcert=$TLS/ca.crt application_name=$APP_NAME"; do
    tries=$((tries + 1))
    [ "$tries" -lt "${MC_PG_BASEBACKUP_TRIES:-30}" ] || die "base backup from $MC_PG_PEER_HOST failed $tries times"
    rm -rf "${PGDATA:?}"/* ; sleep 2
  done
  touch "$PGDATA/standby.signal"
  log "base backup done; starting as a streaming standby"
}

# One-off (failback): bring a former primary onto the peer's timeline by pg_rewind, copying only
# the blocks changed since the timelines diverged (wal_log_hints and data checksums make that
# possible). pg_rewind recovers a crashed data dir itself first (single-user mode). When it cannot
# rewind (no common history left in pg_wal, the source refuses the connection...) the exit code is
# 65 with the reason in the log (REWIND-NOT-POSSIBLE): the caller falls back to a base backup.
rewind_from_peer() {
  [ -n "${MC_PG_PEER_HOST:-}" ] || die "MC_PG_PEER_HOST must name the new primary in rewind mode"
  [ -s "$PGDATA/PG_VERSION" ] || { log "REWIND-NOT-POSSIBLE: no data directory to rewind"; exit 65; }
  log "pg_rewind onto the timeline of $MC_PG_PEER_HOST:$PEER_PORT"
  rm -f "$PGDATA/standby.signal"
  local out rc=0
  out="$(pg_rewind --target-pgdata="$PGDATA" --progress \
        --source-server="host=$MC_PG_PEER_HOST port=$PEER_PORT user=replicator dbname=postgres passfile=/var/lib/postgresql/.pgpass sslmode=verify-ca sslrootcert=$TLS/ca.crt application_name=$APP_NAME-rewind connect_timeout=10" 2>&1)" || rc=$?
  printf '%s\n' "$out" | sed 's/^/pg_rewind: /' >&2
  if [ "$rc" -ne 0 ]; then
    log "REWIND-NOT-POSSIBLE: $(printf '%s\n' "$out" | grep -E 'error|fatal|FATAL|could not' | tail -1)"
    exit 65
  fi
  touch "$PGDATA/standby.signal"
  log "rewind done; starting as a streaming standby"
}

repo_stanzas() {  # the stanza sections of the repository's configuration
  sed -n 's/^\[\([a-z0-9_-]*\)\]$/\1/p' /etc/pgbackrest/pgbackrest.conf | grep -vx global || true
}

# Stanzas are created once their database hosts answer (they may start after the repository).
create_stanzas() {
  local stanza tries
  for stanza in $(repo_stanzas); do
    for tries in $(seq 1 "${MC_PGBACKREST_STANZA_TRIES:-120}"); do
      if pgbackrest --stanza="$stanza" --log-level-console=warn stanza-create >/dev/null 2>&1; then
        log "stanza $stanza ready"; break
      fi
      sleep 5
    done
  done
}

# Backup schedule (SLA: full + differential): a full backup when the last full is older than
# MC_PGBACKREST_FULL_EVERY_MIN, else a differential when the last backup is older than
# MC_PGBACKREST_DIFF_EVERY_MIN. 0 (the default) disables the schedule (operators and tests run
# `municloud backup run`).
schedule_backups() {
  local full="${MC_PGBACKREST_FULL_EVERY_MIN:-0}" diff="${MC_PGBACKREST_DIFF_EVERY_MIN:-0}" stanza mark type
  if [ -r "$ROLE_BR_DIR/schedule.conf" ]; then  # roles/pgbackrest, from the SLA config
    full="$(sed -n 's/^full_every_min=\([0-9]*\)$/\1/p' "$ROLE_BR_DIR/schedule.conf")"
    diff="$(sed -n 's/^diff_every_min=\([0-9]*\)$/\1/p' "$ROLE_BR_DIR/schedule.conf")"
    [ -n "$full" ] && [ -n "$diff" ] || die "$ROLE_BR_DIR/schedule.conf: needs full_every_min= and diff_every_min="
  fi
  [ "$full" -gt 0 ] || return 0
  log "backup schedule: full every $full min, differential every $diff min"
  while sleep 60; do
    for stanza in $(repo_stanzas); do
      mark="/var/lib/pgbackrest/.schedule-$stanza"
      if [ ! -e "$mark.full" ] || [ -n "$(find "$mark.full" -mmin +"$full")" ]; then type=full
      elif [ "$diff" -gt 0 ] && { [ ! -e "$mark.diff" ] || [ -n "$(find "$mark.diff" -mmin +"$diff")" ]; }; then type=diff
      else continue; fi
      if pgbackrest --stanza="$stanza" --type="$type" --log-level-console=warn backup; then
        touch "$mark.$type" "$mark.diff"; log "scheduled $type backup of $stanza done"
      else
        log "scheduled $type backup of $stanza FAILED"
      fi
    done
  done
}

run_repo() {
  install_tls
  write_pgbackrest_repo_conf
  log "pgBackRest repository server on port $BR_PORT, stanzas: $(repo_stanzas | tr '\n' ' ')"
  [ "${MC_PGBACKREST_CREATE_STANZAS:-1}" = 1 ] && create_stanzas &
  schedule_backups &
  exec pgbackrest server
}

main() {
  [ "$(id -u)" != 0 ] || die "refusing to run as root"
  case "$MODE" in primary|standby|repo|rebuild|rewind) ;; *) die "MC_PG_MODE must be primary, standby, repo, rebuild or rewind (got '$MODE')";; esac
  validate_names
  [ "$MODE" = repo ] && run_repo
  install_tls
  if [ -r "$SECRETS/replicator.password" ]; then write_pgpass; fi
  if [ "$MODE" = rebuild ]; then  # one-off: replace the data dir by a base backup of the peer, exit
    find "$PGDATA" -mindepth 1 -delete
    init_standby
    exit 0
  fi
  if [ "$MODE" = rewind ]; then  # one-off: pg_rewind onto the peer's timeline, exit
    rewind_from_peer
    exit 0
  fi
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    chmod 0700 "$PGDATA"
    if [ "$MODE" = standby ]; then init_standby; else init_primary; fi
  fi
  write_conf
  write_hba
  write_pgbackrest_client_conf
  if [ -n "${MC_PGBACKREST_STANZA:-}" ]; then
    log "pgBackRest TLS server on port $BR_PORT (backups from ${MC_PGBACKREST_REPO_HOST}), at nice 10"
    # A backup reads and compresses the data files here (the repository asks this server for them):
    # at nice 10 that work yields the container's CPU to PostgreSQL's own backends, so the first full
    # backup after a start, or a scheduled one, does not stretch the members' queries (docs/benchmarks.md
    # "The idle stack and the load gate"). WAL archiving is PostgreSQL's archive_command: not affected.
    nice -n 10 pgbackrest server &
  fi
  log "starting postgres ($( [ -f "$PGDATA/standby.signal" ] && echo standby || echo primary ))"
  exec postgres -D "$PGDATA"
}

main "$@"
