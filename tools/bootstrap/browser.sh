#!/usr/bin/env bash
# Headless Chromium from Debian's package, for the status page's browser test
# (tests/e2e/test_status_page.py renders the page and saves a screenshot). Nothing is downloaded
# from elsewhere. Idempotent; a host without apt-get or root is told what to install.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
mc_step_start "headless browser"
if command -v chromium >/dev/null 2>&1; then
  mc_step_done "chromium already installed ($(chromium --version 2>/dev/null | head -1))"; exit 0
fi
[ "$(id -u)" = 0 ] || mc_die "chromium missing and not root: install Debian's chromium package"
command -v apt-get >/dev/null || mc_die "chromium missing and no apt-get: install Chromium first"
apt-get update -qq >"$MC_STATE/logs/apt-chromium.log" 2>&1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk \
  >>"$MC_STATE/logs/apt-chromium.log" 2>&1 \
  || mc_die "apt-get install chromium failed, see $MC_STATE/logs/apt-chromium.log"
mc_step_done "$(chromium --version 2>/dev/null | head -1)"
