#!/bin/bash
# Healthy = the server (or, for the backup repository, the pgBackRest TLS server) accepts connections.
if [ "${MC_PG_MODE:-primary}" = repo ]; then
  exec bash -c '</dev/tcp/127.0.0.1/8432' 2>/dev/null
fi
exec pg_isready -q -h /var/run/postgresql -p 5432
