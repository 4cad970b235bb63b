# Shared helpers for the bootstrap steps: progress lines with elapsed time.
# Sourced, not run.
MC_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MC_STATE="${MC_STATE:-$MC_ROOT/.state}"
mkdir -p "$MC_STATE/logs" "$MC_STATE/bin"

mc_step_start() {  # mc_step_start NAME
  MC_STEP_NAME="$1"; MC_STEP_T0=$(date +%s.%N)
  printf '[municloud] %-28s ...\n' "$1" >&2
}
mc_step_done() {   # mc_step_done SENTENCE
  local dt; dt=$(awk -v a="$MC_STEP_T0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  printf '[municloud] %-28s done in %ss: %s\n' "$MC_STEP_NAME" "$dt" "$1" >&2
  echo "$(date -u +%FT%TZ) $MC_STEP_NAME ${dt}s $1" >> "$MC_STATE/logs/setup-times.log"
}
mc_die() { printf '[municloud] %s FAILED: %s\n' "${MC_STEP_NAME:-setup}" "$1" >&2; exit 1; }
