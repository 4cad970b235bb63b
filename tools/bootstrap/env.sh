# Environment of every municloud command (sourced by the Makefile, scripts and tests).
# All state stays in ignored directories of the checkout; nothing reaches the internet.
# Config precedence: a variable already set by the caller wins over the defaults below.
_mc_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export MC_ROOT="${MC_ROOT:-$_mc_root}"
export MC_STATE="${MC_STATE:-$MC_ROOT/.state}"
export PATH="$MC_STATE/bin:$MC_ROOT/.venv/bin:$PATH"
# Pulumi: project-local home, local file backend, passphrase secrets provider.
export PULUMI_HOME="${PULUMI_HOME:-$MC_STATE/pulumi-home}"
export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$MC_STATE/pulumi-state}"
# Development passphrase, documented in README.md ("State and secrets"). Set your own (or a KMS
# secrets provider) for any real consortium; it encrypts the secrets in the state file.
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-municloud-dev-only-passphrase}"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_PYTHON_CMD="${PULUMI_PYTHON_CMD:-$MC_ROOT/.venv/bin/python}"
# testcontainers: no Ryuk (its image cannot be pulled), reach containers via loopback only.
export TESTCONTAINERS_RYUK_DISABLED=true
export TESTCONTAINERS_HOST_OVERRIDE=127.0.0.1
mkdir -p "$MC_STATE/bin" "$MC_STATE/logs" "$PULUMI_HOME" "$MC_STATE/pulumi-state"
unset _mc_root
