#!/usr/bin/env bash
# `pulumi up` of one stack (default dev) with progress and elapsed time; prints the endpoints.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/env.sh"
stack="${1:-dev}"
cd "$MC_ROOT"
mc_step_start "pulumi up ($stack)"
pulumi stack select "$stack" --create --non-interactive >/dev/null
pulumi up --yes --non-interactive --stack "$stack" --suppress-progress 2>&1 | tee "$MC_STATE/logs/pulumi-up-$stack.log" \
  | grep -E '^\s*[+~-]|error|Resources:|Duration:' || true
[ "${PIPESTATUS[0]}" = 0 ] || mc_die "pulumi up failed, see $MC_STATE/logs/pulumi-up-$stack.log"
mc_step_done "stack $stack is up"
pulumi stack output --stack "$stack"
