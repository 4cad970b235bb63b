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
  pulumi destroy --yes --non-interactive --stack "$stack" --suppress-progress >"$MC_STATE/logs/pulumi-destroy-$stack.log" 2>&1 \
    || echo "[municloud] pulumi destroy reported errors, see $MC_STATE/logs/pulumi-destroy-$stack.log; removing labelled objects" >&2
fi
f="label=municloud.stack=$stack"
c=$(docker ps -aq --filter "$f"); [ -z "$c" ] || docker rm -f $c >/dev/null
n=$(docker network ls -q --filter "$f"); [ -z "$n" ] || docker network rm $n >/dev/null
v=$(docker volume ls -q --filter "$f"); [ -z "$v" ] || docker volume rm $v >/dev/null
mc_step_done "removed $(echo $c | wc -w) containers, $(echo $n | wc -w) networks, $(echo $v | wc -w) volumes labelled municloud.stack=$stack"
