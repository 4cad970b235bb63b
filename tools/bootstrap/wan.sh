#!/usr/bin/env bash
# The WAN between the site hosts of this machine: a router namespace linked to each site host by a
# veth pair, every packet crossing it delayed by the delay line (tools/wan/delayline.py on a TUN
# device, policy routing; this kernel has no netem), started and supervised here.
#
#   wan.sh [up] [NAME[=INDEX]...]        create/repair (idempotent; default: $MC_SITE_HOSTS)
#   wan.sh set delay_ms=5 jitter_ms=0 rate_mbit=0   change the link (one-way; rate 0 = unlimited)
#   wan.sh partition on|off              cut / heal the link (every packet dropped while on)
#   wan.sh status                        the settings and the delay line's process
#   wan.sh block NAME [SLOT]             a routed /24 of a site host for one stack's WAN-facing
#                                        networks (SLOT 0-3; 0, the default, is `make up`'s stack,
#                                        1 the test suite's: two stacks on one host, a block each)
#   wan.sh pairs                         the site hosts' per-member WAN rules (iptables-restore input)
#   wan.sh down                          remove the router (the site hosts stay)
#
# Addresses (environment; defaults): MC_WAN_LINK_NET ("10.251.0": site i's link is <net>.(4i+1)
# router, <net>.(4i+2) site host), MC_WAN_BLOCK_NET ("10.252": site i's routed range is
# <net>.(4i).0/22, four /24 blocks, one per stack on the host: the stack's WAN-facing networks live
# there). Only traffic between two sites' ranges is forwarded; a site's containers never reach the
# machine (its management link) through the site host.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MC_SITE_HOSTS="${MC_SITE_HOSTS-primary dr}"
MC_SITE_PREFIX="${MC_SITE_PREFIX:-mc}"
MC_WAN_LINK_NET="${MC_WAN_LINK_NET:-10.251.0}"
MC_WAN_BLOCK_NET="${MC_WAN_BLOCK_NET:-10.252}"
ROUTER="$MC_SITE_PREFIX-wan"
WAN="$MC_STATE/wan"
# the delay line is found by its command line: name its settings by their physical path (a state
# directory reached through a symlink is the same delay line)
[ ! -d "$WAN" ] || WAN=$(cd "$WAN" && pwd -P)
SETTINGS="$WAN/settings.json"; SUPERVISOR="$WAN/supervisor.pid"
TUN=delay0; TABLE=100
declare -A DEFAULT_INDEX=([primary]=1 [dr]=2 [spare]=3)
DELAYLINE="$MC_ROOT/tools/wan/delayline.py"

site_index() {
  NAME="${1%%=*}"; INDEX="${1#*=}"
  [ "$INDEX" != "$1" ] || INDEX="${DEFAULT_INDEX[$NAME]:-}"
  [[ "$INDEX" =~ ^[0-9]+$ ]] || mc_die "site '$NAME' has no index: give NAME=INDEX"
  NS="$MC_SITE_PREFIX-site-$NAME"; R_IF="r-$NAME"
  R_ADDR="$MC_WAN_LINK_NET.$((4 * INDEX + 1))"; S_ADDR="$MC_WAN_LINK_NET.$((4 * INDEX + 2))"
  [ "$INDEX" -ge 1 ] && [ "$INDEX" -le 60 ] || mc_die "site '$NAME': index $INDEX outside 1-60"
  RANGE="$MC_WAN_BLOCK_NET.$((4 * INDEX)).0/22"
}
block_of() {  # NAME SLOT -> the site's SLOT-th /24
  site_index "$1"
  [[ "$2" =~ ^[0-3]$ ]] || mc_die "block slot '$2': 0-3 (four stacks per site host)"
  echo "$MC_WAN_BLOCK_NET.$((4 * INDEX + $2)).0/24"
}
in_router() { ip netns exec "$ROUTER" "$@"; }

# Per-member segmentation across the hosts (decision 0048). A stack's servers have fixed host
# numbers in its block, the same at every site (stacks/config.py `_WAN_MEMBER_OFFSET`, `SLOTS`,
# `_WAN_UNITS`): member slot s's PostgreSQL .(10+s), the hub's .240, the backup repository .241.
# A server starts only these flows: to its peer (the same host number in the same block slot at
# another site: streaming, pg_rewind, base backups) and to the repository's pgBackRest port; the
# repository to any server's pgBackRest port. Anything else a server starts is dropped, so a
# member's PostgreSQL reaches neither another member's, nor the hub's, nor the repository's
# PostgreSQL port, on this host's bridge or across the WAN. Flows from other addresses (the
# frontdoor at the host's .1 to the DR gateway .242, Prometheus .244 to a prober .243) pass on.
# Matched with u32 on the addresses' last octet and block slot (the third octet's low two bits),
# so the chain is the same on every host and needs no list of the other sites.
PAIRS=MC-WAN-PAIRS
PAIR_HOSTS="$(seq -s ' ' 11 109) 240"; REPO_HOST=241; SERVER_HOSTS=10:241
pair_rules() {
  local slot host same
  echo "*filter"; echo ":$PAIRS - [0:0]"
  echo "-A $PAIRS ! -s $MC_WAN_BLOCK_NET.0.0/16 -j RETURN"
  for slot in 0 1 2 3; do
    same="12>>8&0x3=$slot&&16>>8&0x3=$slot"
    echo "-A $PAIRS -p tcp --dport 8432 -m u32 --u32 16&0xFF=$REPO_HOST&&$same -j ACCEPT"
    echo "-A $PAIRS -p tcp --dport 8432 -m u32 --u32 12&0xFF=$REPO_HOST&&$same -j ACCEPT"
    for host in $PAIR_HOSTS; do
      echo "-A $PAIRS -m u32 --u32 12&0xFF=$host&&16&0xFF=$host&&$same -j ACCEPT"
    done
  done
  echo "-A $PAIRS -m u32 --u32 12&0xFF=$SERVER_HOSTS -j DROP"
  echo "-A $PAIRS -j RETURN"
  echo "COMMIT"
}
ipt() { local ns="$1"; shift; ip netns exec "$ns" iptables -C "$@" 2>/dev/null || ip netns exec "$ns" iptables -A "$@"; }

write_settings() {  # KEY=VALUE... over the current settings
  mkdir -p "$WAN"
  python3 - "$SETTINGS" "$@" <<'PY'
import json, os, sys
path, pairs = sys.argv[1], sys.argv[2:]
cur = {"delay_ms": float(os.environ.get("MC_WAN_DELAY_MS", 5)), "jitter_ms": float(os.environ.get("MC_WAN_JITTER_MS", 0)),
       "rate_mbit": float(os.environ.get("MC_WAN_RATE_MBIT", 0)), "partition": False}
if os.path.exists(path):
    cur.update(json.load(open(path)))
for p in pairs:
    k, _, v = p.partition("=")
    if k not in cur:
        sys.exit(f"unknown WAN setting {k!r} (delay_ms, jitter_ms, rate_mbit, partition)")
    cur[k] = v in ("on", "true", "1") if k == "partition" else float(v)
if cur["jitter_ms"] > cur["delay_ms"] or min(cur["delay_ms"], cur["jitter_ms"], cur["rate_mbit"]) < 0:
    sys.exit(f"WAN settings: need 0 <= jitter_ms <= delay_ms and rate_mbit >= 0, got {cur}")
tmp = path + ".tmp"; json.dump(cur, open(tmp, "w")); os.replace(tmp, path)
PY
}

delayline_pid() { pgrep -f -n "delayline.py --dev $TUN --settings $SETTINGS" 2>/dev/null || true; }

supervise() {  # the delay line, restarted within 1 s whenever it exits
  if [ -s "$SUPERVISOR" ] && kill -0 "$(cat "$SUPERVISOR")" 2>/dev/null; then return; fi
  setsid bash -c 'echo $$ > "$1"; while :; do ip netns exec "$2" python3 "$3" --dev "$4" --settings "$5"; sleep 1; done' \
    _ "$SUPERVISOR" "$ROUTER" "$DELAYLINE" "$TUN" "$SETTINGS" </dev/null >>"$MC_STATE/logs/wan-delayline.log" 2>&1 &
  for _ in $(seq 1 40); do [ -n "$(delayline_pid)" ] && break; sleep 0.05; done
}

up() {
  mc_step_start "wan"
  [ "$(id -u)" = 0 ] || { mc_step_done "skipped (needs root)"; exit 0; }
  [ -s "$SETTINGS" ] || write_settings
  ip netns add "$ROUTER" 2>/dev/null || true
  in_router ip link set lo up
  in_router sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0
  in_router ip link show "$TUN" >/dev/null 2>&1 || in_router ip tuntap add dev "$TUN" mode tun
  in_router sysctl -qw "net.ipv4.conf.$TUN.rp_filter=0"
  in_router ip link set "$TUN" up
  in_router ip route replace default dev "$TUN" table "$TABLE"
  in_router iptables -P FORWARD DROP
  local ranges=()
  for spec in "$@"; do site_index "$spec"; ranges+=("$RANGE"); done
  for spec in "$@"; do
    site_index "$spec"
    [ -e "/run/netns/$NS" ] || mc_die "site host $NAME is not up (run site-hosts.sh up $NAME first)"
    in_router ip link show "$R_IF" >/dev/null 2>&1 || ip link add "$R_IF" netns "$ROUTER" type veth peer name wan0 netns "$NS"
    in_router ip addr replace "$R_ADDR/30" dev "$R_IF"; in_router ip link set "$R_IF" up
    in_router sysctl -qw "net.ipv4.conf.$R_IF.rp_filter=0"
    ip -n "$NS" addr replace "$S_ADDR/30" dev wan0; ip -n "$NS" link set wan0 up
    in_router ip route replace "$RANGE" via "$S_ADDR" dev "$R_IF"
    # arriving from a site: into the delay line; coming back out of it: the main table
    [ -n "$(in_router ip rule list iif "$R_IF" lookup "$TABLE")" ] || in_router ip rule add iif "$R_IF" lookup "$TABLE" priority 100
    ipt "$ROUTER" FORWARD -i "$R_IF" -o "$TUN" -s "$RANGE" -j ACCEPT
    for other in "${ranges[@]}"; do
      [ "$other" = "$RANGE" ] && continue
      ip -n "$NS" route replace "$other" via "$R_ADDR" dev wan0
      ipt "$ROUTER" FORWARD -i "$TUN" -s "$RANGE" -d "$other" -j ACCEPT
    done
    # the site host: containers reach the other sites' blocks only, never the machine. The engine
    # appends RETURN to DOCKER-USER when it starts (only if missing), so the chain is written whole,
    # in order, with RETURN last: a rule after RETURN would never be looked at. A new flow to this
    # host's blocks (across the WAN, or between two containers on its WAN-facing bridge: the
    # bridge's traffic passes iptables here) is judged by the pairs first.
    pair_rules | ip netns exec "$NS" iptables-restore --noflush
    ip netns exec "$NS" iptables -N DOCKER-USER 2>/dev/null || true
    ip netns exec "$NS" iptables -F DOCKER-USER
    ip netns exec "$NS" iptables -A DOCKER-USER -o mgmt0 -j REJECT --reject-with icmp-port-unreachable
    ip netns exec "$NS" iptables -A DOCKER-USER -i mgmt0 -j DROP
    ip netns exec "$NS" iptables -A DOCKER-USER -d "$RANGE" -m conntrack --ctstate NEW -j "$PAIRS"
    ip netns exec "$NS" iptables -A DOCKER-USER -i wan0 -d "$RANGE" -j ACCEPT
    ip netns exec "$NS" iptables -A DOCKER-USER -i wan0 -j DROP
    ip netns exec "$NS" iptables -A DOCKER-USER -j RETURN
    ipt "$NS" INPUT -i wan0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
    ipt "$NS" INPUT -i wan0 -p icmp -j ACCEPT
    ipt "$NS" INPUT -i wan0 -j DROP
  done
  supervise
  local pid; pid=$(delayline_pid); [ -n "$pid" ] || mc_die "the delay line did not start, see $MC_STATE/logs/wan-delayline.log"
  mc_step_done "router $ROUTER linking $* through the delay line (pid $pid): $(settings_sentence)"
}

settings_sentence() {
  python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from delayline import Settings; print(Settings.load(sys.argv[2]).sentence())' \
    "$(dirname "$DELAYLINE")" "$SETTINGS"
}

apply() {  # tell the running delay line
  local pid; pid=$(delayline_pid); [ -n "$pid" ] || mc_die "no delay line running (wan.sh up)"
  kill -HUP "$pid"
}

cmd="${1:-up}"; [ $# -gt 0 ] && shift
case "$cmd" in
  up) [ $# -gt 0 ] || set -- $MC_SITE_HOSTS; [ $# -gt 0 ] || exit 0; up "$@" ;;
  set) mc_step_start "wan settings"; write_settings "$@"; apply; mc_step_done "$(settings_sentence)" ;;
  partition)
    case "${1:-}" in on|off) ;; *) mc_die "usage: wan.sh partition on|off" ;; esac
    mc_step_start "wan partition $1"; write_settings "partition=$1"; apply; mc_step_done "$(settings_sentence)" ;;
  block) [ $# = 1 ] || [ $# = 2 ] || mc_die "usage: wan.sh block NAME [SLOT]"; block_of "$1" "${2:-0}" ;;
  pairs) pair_rules ;;
  status) echo "$(settings_sentence); delay line pid $(delayline_pid || true)" ;;
  down)
    mc_step_start "wan down"
    [ -s "$SUPERVISOR" ] && kill "$(cat "$SUPERVISOR")" 2>/dev/null || true
    pid=$(delayline_pid); [ -z "$pid" ] || kill "$pid"
    ip netns del "$ROUTER" 2>/dev/null || true; rm -f "$SUPERVISOR"
    mc_step_done "router $ROUTER removed" ;;
  *) mc_die "unknown command '$cmd' (up, set, partition, status, block, pairs, down)" ;;
esac
