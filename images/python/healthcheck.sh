#!/bin/bash
# Docker's health check of every service container (one definition, used by each service's
# Dockerfile): GET <path> (default /readyz: the service answers and its database does) on the
# service's own port, healthy when the status line says 200. Bash's /dev/tcp, not a Python start:
# Docker runs this every few seconds in every service container for as long as the stack runs,
# and a 12-member consortium has dozens of them (docs/benchmarks.md "Deploy").
# `mc-healthcheck [PATH] [PORT]`: the port defaults to $PORT, else 8000 (the status prober's is 9100).
path=${1:-/readyz}
port=${2:-${PORT:-8000}}
exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || exit 1
printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$path" >&3
IFS= read -r -t "${MC_HEALTHCHECK_TIMEOUT_S:-8}" status <&3 || exit 1
[[ $status =~ ^HTTP/1\.[01]\ 200[\ $'\r'] ]]
