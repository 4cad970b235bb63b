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
# A frontdoor on one of this machine's site hosts (municloud:sites: site-hosts) listens on that
# host's WAN address: published on this machine's 127.0.0.1 at the same port (decision 0045).
url=$(pulumi stack output frontdoor_url --stack "$stack")
read -r site addr port < <(python -c 'import sys, urllib.parse
from stacks.config import site_host_of
url = urllib.parse.urlsplit(sys.argv[1])
print(site_host_of(url.hostname) or "-", url.hostname, url.port)' "$url")
if [ "$site" != "-" ]; then
  bash "$MC_ROOT/tools/bootstrap/site-hosts.sh" publish "$site" "$port" "$addr"
  echo "[municloud] on this machine: https://127.0.0.1:$port (the frontdoor at $addr:$port on site host $site)"
fi
