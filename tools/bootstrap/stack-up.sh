#!/usr/bin/env bash
# `pulumi up` of one stack (default dev) with progress and elapsed time; prints the endpoints.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/env.sh"
stack="${1:-dev}"
cd "$MC_ROOT"
mc_step_start "pulumi up ($stack)"
pulumi stack select "$stack" --create --non-interactive >/dev/null
set +e
# The guardrail pack (policies/, docs/security.md) judges the preview `pulumi up` runs first.
pulumi up --yes --non-interactive --stack "$stack" --suppress-progress --policy-pack "$MC_ROOT/policies" \
  >"$MC_STATE/logs/pulumi-up-$stack.log" 2>&1 &
up_pid=$!
# Progress: each resource line as it happens (step, elapsed time), the full log in the file.
tail -n +1 -f "$MC_STATE/logs/pulumi-up-$stack.log" --pid "$up_pid" \
  | grep --line-buffered -E '^\s*[+~-] .*(created|updated|deleted|replaced|failed)|Resources:|Duration:|\[(mandatory|advisory)\]'
wait "$up_pid"; rc=$?
set -e
[ "$rc" = 0 ] || mc_die "pulumi up failed (exit $rc); the error is in $MC_STATE/logs/pulumi-up-$stack.log (if the engine lost containers behind Pulumi's back, \`make down\` then \`make up\`)"
mc_step_done "stack $stack is up"
pulumi stack output --stack "$stack"
