#!/usr/bin/env bash
# Everything `make up` and `make test` need on a fresh Debian/Ubuntu machine (as root) or on a
# host that already has Docker and Pulumi: venv, Docker engine, the site hosts (one engine per site,
# MC_SITE_HOSTS="" for none) and the WAN between them, Pulumi toolchain, headless Chromium (the
# status page test), base images.
# Idempotent; each step prints its name and elapsed time and appends it to
# .state/logs/setup-times.log.
set -euo pipefail
here="$(dirname "$0")"
source "$here/lib.sh"
t0=$(date +%s)
bash "$here/venv.sh"
bash "$here/docker-engine.sh"
bash "$here/site-hosts.sh"
bash "$here/wan.sh"
bash "$here/pulumi.sh"
bash "$here/browser.sh"
source "$here/env.sh"
mc_step_start "images"
refs=$("$MC_ROOT/.venv/bin/python" -m municloud_ops.images ${MC_IMAGES:-base python}) || mc_die "image build failed"
mc_step_done "$(echo $refs)"
echo "[municloud] set-up complete in $(( $(date +%s) - t0 )) s" >&2
