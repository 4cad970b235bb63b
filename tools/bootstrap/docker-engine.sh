#!/usr/bin/env bash
# Make sure a Docker engine answers. Leaves a running engine alone; otherwise installs
# Debian's docker.io (when dockerd is missing) and starts dockerd in the background with its
# log under .state/logs. Idempotent.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mc_step_start "docker engine"
if docker info >/dev/null 2>&1; then
  mc_step_done "engine already answering ($(docker version -f '{{.Server.Version}}'))"; exit 0
fi
if ! command -v dockerd >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || mc_die "no Docker engine and not root: install Docker or run as root"
  command -v apt-get >/dev/null || mc_die "no Docker engine and no apt-get: install Docker first"
  apt-get update -qq >"$MC_STATE/logs/apt-docker.log" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >>"$MC_STATE/logs/apt-docker.log" 2>&1 \
    || mc_die "apt-get install docker.io failed, see $MC_STATE/logs/apt-docker.log"
fi
if ! docker info >/dev/null 2>&1; then
  nohup dockerd --log-level=warn >"$MC_STATE/logs/dockerd.log" 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null 2>&1 || mc_die "dockerd did not answer within 60 s, see $MC_STATE/logs/dockerd.log"
fi
mc_step_done "engine answering ($(docker version -f '{{.Server.Version}}'), storage $(docker info -f '{{.Driver}}'))"
