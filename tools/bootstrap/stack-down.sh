#!/usr/bin/env bash
# Destroy one stack (default dev), then remove any Docker object still labelled for it, so a
# failed or interrupted `up` leaves nothing behind either.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/env.sh"
stack="${1:-dev}"
cd "$MC_ROOT"
mc_step_start "pulumi destroy ($stack)"
if pulumi stack select "$stack" --non-interactive >/dev/null 2>&1; then
  # a frontdoor published from a site host (stack-up.sh): its port on this machine goes first
  url=$(pulumi stack output frontdoor_url --stack "$stack" 2>/dev/null || true)
  port="${url##*:}"
  if [[ "$url" == https://* && "$url" != https://127.0.0.1:* && "$port" =~ ^[0-9]+$ && "$(id -u)" = 0 ]]; then
    bash "$MC_ROOT/tools/bootstrap/site-hosts.sh" unpublish "$port"
  fi
  pulumi destroy --yes --non-interactive --stack "$stack" --suppress-progress >"$MC_STATE/logs/pulumi-destroy-$stack.log" 2>&1 \
    || echo "[municloud] pulumi destroy reported errors, see $MC_STATE/logs/pulumi-destroy-$stack.log; removing labelled objects" >&2
fi
f="label=municloud.stack=$stack"
c=$(docker ps -aq --filter "$f"); [ -z "$c" ] || docker rm -f $c >/dev/null
n=$(docker network ls -q --filter "$f"); [ -z "$n" ] || docker network rm $n >/dev/null
v=$(docker volume ls -q --filter "$f"); [ -z "$v" ] || docker volume rm $v >/dev/null
left="$(echo $c | wc -w) containers, $(echo $n | wc -w) networks, $(echo $v | wc -w) volumes"
# …and on this machine's site hosts (a stack across them: municloud:sites: site-hosts)
for site in $(bash "$MC_ROOT/tools/bootstrap/site-hosts.sh" answering); do
  sh_docker() { bash "$MC_ROOT/tools/bootstrap/site-hosts.sh" docker "$site" "$@"; }
  c=$(sh_docker ps -aq --filter "$f"); [ -z "$c" ] || sh_docker rm -f $c >/dev/null
  n=$(sh_docker network ls -q --filter "$f"); [ -z "$n" ] || sh_docker network rm $n >/dev/null
  v=$(sh_docker volume ls -q --filter "$f"); [ -z "$v" ] || sh_docker volume rm $v >/dev/null
  left="$left; on site host $site $(echo $c | wc -w) containers, $(echo $n | wc -w) networks, $(echo $v | wc -w) volumes"
done
mc_step_done "removed $left labelled municloud.stack=$stack"
