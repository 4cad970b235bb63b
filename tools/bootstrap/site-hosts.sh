#!/usr/bin/env bash
# Site hosts on one machine: each site of the consortium gets a Docker engine of its own, in its
# own network namespace (own kernel network stack, own iptables, own hostname, own /etc/docker),
# reached only over tcp+TLS with client certificates from the consortium's engine CA
# (docs/operator-guide.md "Site hosts"; decision: docs/decisions/0025-site-hosts.md).
#
#   site-hosts.sh [up] [NAME[=INDEX]...]   create/start (idempotent; default: $MC_SITE_HOSTS)
#   site-hosts.sh kill NAME                power-off: SIGKILL every process of the host at once
#   site-hosts.sh isolate NAME on|off      the host's management cable out / in, the host still
#                                          running (with `wan.sh partition on`: a site cut off from
#                                          everything, DR rehearsal (b))
#   site-hosts.sh down NAME                stop the engine and remove the host (data stays)
#   site-hosts.sh status [NAME...]         one line per host
#   site-hosts.sh address NAME             the engine's address (tcp://ADDR:PORT), namespace, link address, own socket
#   site-hosts.sh swarm SITE NODE[=INDEX]...   the nodes of one site: each a site host as above,
#                                          cabled to the site's LAN switch, joined into one swarm
#                                          (first node manager, the others workers; node labels
#                                          municloud.site / municloud.node); idempotent
#   site-hosts.sh lan-down SITE            remove the site's LAN switch (the nodes stay: `down`)
#   site-hosts.sh publish NAME PORT ADDRESS   this machine's 127.0.0.1:PORT is ADDRESS:PORT on host
#                                          NAME (the "internet" side of a stack's frontdoor there):
#                                          iptables DNAT, each client's loopback address mapped one
#                                          to one onto MC_SITE_CLIENT_NET, so the host sees every
#                                          client as an address of its own (decision 0045)
#   site-hosts.sh unpublish PORT           remove that
#   site-hosts.sh docker NAME ARGS...      the docker CLI against host NAME's engine
#   site-hosts.sh answering                the names of the hosts whose engine answers
#
# Settings (environment; defaults below): MC_SITE_HOSTS ("primary dr"), MC_SITE_PREFIX ("mc":
# names of namespaces and links, so two checkouts on one machine can keep their hosts apart),
# MC_SITE_LINK_NET ("10.250.0": host i is reached at <net>.(4i+2), the machine's end is
# <net>.(4i+1), a /30 each), MC_SITE_PORT (2376), MC_SITE_LAN_NET ("10.253": the LAN of a site whose
# first node has index f is <net>.f.0/24, node i at <net>.f.(10+i)), MC_SITE_OVERLAY_POOL
# ("10.200.0.0/16": where a site's swarm takes its overlay subnets, inside the nodes only),
# MC_SITE_CLIENT_NET ("10.250.254.0/24": the machine's clients of published ports, 127.0.0.x as .x,
# as the site hosts see them). Writes $MC_STATE/sites/sites.yaml: the
# `municloud:sites` value that points a stack at these hosts.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
MC_SITE_HOSTS="${MC_SITE_HOSTS-primary dr}"
MC_SITE_PREFIX="${MC_SITE_PREFIX:-mc}"
MC_SITE_LINK_NET="${MC_SITE_LINK_NET:-10.250.0}"
MC_SITE_PORT="${MC_SITE_PORT:-2376}"
MC_SITE_LAN_NET="${MC_SITE_LAN_NET:-10.253}"
MC_SITE_OVERLAY_POOL="${MC_SITE_OVERLAY_POOL:-10.200.0.0/16}"
MC_SITE_CLIENT_NET="${MC_SITE_CLIENT_NET:-10.250.254.0/24}"
PKI="$MC_STATE/pki"
SITES="$MC_STATE/sites"
declare -A DEFAULT_INDEX=([primary]=1 [dr]=2 [spare]=3)

site_index() {  # NAME[=INDEX] -> sets NAME and INDEX
  NAME="${1%%=*}"; INDEX="${1#*=}"
  [ "$INDEX" != "$1" ] || INDEX="${DEFAULT_INDEX[$NAME]:-}"
  # a host brought up with NAME=INDEX remembers its index (kill NAME, down NAME, address NAME)
  [ -n "$INDEX" ] || [ ! -s "$SITES/$NAME/index" ] || INDEX=$(cat "$SITES/$NAME/index")
  [[ "$NAME" =~ ^[a-z][a-z0-9]{0,9}$ ]] || mc_die "site name '$NAME': lower-case letters and digits, at most 10"
  [[ "$INDEX" =~ ^[0-9]+$ ]] && [ "$INDEX" -ge 1 ] && [ "$INDEX" -le 60 ] \
    || mc_die "site '$NAME' has no index: give NAME=INDEX (1-60)"
  NS="$MC_SITE_PREFIX-site-$NAME"; HOST_IF="$MC_SITE_PREFIX-$NAME"
  [ ${#HOST_IF} -le 15 ] || mc_die "link name '$HOST_IF' longer than 15 characters: shorten MC_SITE_PREFIX or the name"
  HOST_ADDR="$MC_SITE_LINK_NET.$((4 * INDEX + 1))"; SITE_ADDR="$MC_SITE_LINK_NET.$((4 * INDEX + 2))"
  RUN="/run/$NS"; DATA="$SITES/$NAME"
}

engine() {  # docker CLI against the site's engine, over TLS with the operator's client certificate
  docker --tlsverify --tlscacert "$PKI/ca.pem" --tlscert "$PKI/client-cert.pem" --tlskey "$PKI/client-key.pem" \
    -H "tcp://$SITE_ADDR:$MC_SITE_PORT" "$@"
}

ensure_ca() {
  mkdir -p "$PKI"; chmod 700 "$PKI"
  if [ ! -s "$PKI/ca.pem" ]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 3650 \
      -subj "/O=municloud/CN=municloud consortium engine CA" -keyout "$PKI/ca-key.pem" -out "$PKI/ca.pem" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
  fi
  if [ ! -s "$PKI/client-cert.pem" ]; then
    issue "$PKI/client" "/O=municloud/CN=municloud operator" "extendedKeyUsage=clientAuth"
  fi
}

issue() {  # issue PATH_PREFIX SUBJECT EXT...: key + certificate signed by the engine CA
  local out="$1" subj="$2"; shift 2
  local ext; ext=$(mktemp)
  printf '%s\n' "basicConstraints=critical,CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" "$@" > "$ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "$subj" \
    -keyout "$out-key.pem" -out "$out.csr" 2>/dev/null
  openssl x509 -req -in "$out.csr" -CA "$PKI/ca.pem" -CAkey "$PKI/ca-key.pem" -CAcreateserial -days 825 \
    -extfile "$ext" -out "$out-cert.pem" 2>/dev/null
  chmod 600 "$out-key.pem"; rm -f "$out.csr" "$ext"
}

up_one() {
  site_index "$1"
  mc_step_start "site host $NAME"
  mkdir -p "$DATA/docker" "$RUN"
  echo "$INDEX" > "$DATA/index"
  local sans=""; [ ! -s "$DATA/server-cert.pem" ] || sans=$(openssl x509 -in "$DATA/server-cert.pem" -noout -ext subjectAltName 2>/dev/null || true)
  if [[ "$sans" != *"IP Address:$SITE_ADDR"* ]]; then
    issue "$DATA/server" "/O=municloud/CN=$NS" "extendedKeyUsage=serverAuth" \
      "subjectAltName=IP:$SITE_ADDR,DNS:$NS"
  fi
  # a host powered on has its management cable in (an isolated host's is out: isolate_one)
  if ip netns list 2>/dev/null | grep -qw "^$NS"; then ip -n "$NS" link set mgmt0 up 2>/dev/null && client_route || true; fi
  if engine version -f '{{.Server.Version}}' >/dev/null 2>&1; then
    mc_step_done "engine already answering at tcp://$SITE_ADDR:$MC_SITE_PORT"; return
  fi
  ip netns add "$NS" 2>/dev/null || true
  if ! ip link show "$HOST_IF" >/dev/null 2>&1; then
    ip link add "$HOST_IF" type veth peer name mgmt0 netns "$NS"
  fi
  ip addr replace "$HOST_ADDR/30" dev "$HOST_IF"; ip link set "$HOST_IF" up
  ip -n "$NS" link set lo up
  ip -n "$NS" addr replace "$SITE_ADDR/30" dev mgmt0; ip -n "$NS" link set mgmt0 up
  client_route
  # The engine API answers on the management link only, never to a container of the site.
  ip netns exec "$NS" iptables -C INPUT -p tcp --dport "$MC_SITE_PORT" ! -i mgmt0 -j REJECT 2>/dev/null \
    || ip netns exec "$NS" iptables -I INPUT -p tcp --dport "$MC_SITE_PORT" ! -i mgmt0 -j REJECT
  # leftovers of a power-off: processes are gone, their pid files and sockets are not
  rm -f "$RUN/docker.pid" "$RUN/exec/containerd/containerd.pid"
  # ... nor the kernel's devices: a real host loses them at power-off. A bridge left by an engine
  # that is gone (this host's before a kill, or one of another checkout whose data root is gone)
  # keeps the route to its subnet, so the new engine's network for the same block would be
  # unreachable. Only the cables stay: mgmt0 (management), wan0 (tools/bootstrap/wan.sh) and lan0
  # (the site's LAN between its nodes: swarm_site).
  if [ -z "$(ip netns pids "$NS" 2>/dev/null)" ]; then
    local dev
    for dev in $(ip -n "$NS" -o link show 2>/dev/null | awk -F': ' '{print $2}' | cut -d@ -f1); do
      case "$dev" in lo|mgmt0|wan0|lan0) ;; *) ip -n "$NS" link del "$dev" 2>/dev/null || true ;; esac
    done
  fi
  # Own mount namespace: cgroup hierarchies mounted again (ip netns exec remounts /sys), a tmpfs
  # over /etc/docker (the engine's own key.json), own hostname (unshare -u).
  local hierarchies; hierarchies=$(awk '$3 == "cgroup" {print $4}' /proc/self/mounts | tr ',' '\n' \
    | grep -E '^(blkio|cpu|cpuacct|cpuset|devices|freezer|memory|pids|net_cls|net_prio|perf_event|hugetlb|rdma|name=systemd)$' | sort -u | tr '\n' ' ')
  local cgv2=0; [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ] && cgv2=1
  setsid ip netns exec "$NS" unshare -m -u sh -c '
    set -e
    hostname "$0"
    mount --make-rprivate /
    if [ "$2" = 1 ]; then mount -t cgroup2 cgroup2 /sys/fs/cgroup; else
      mount -t tmpfs -o mode=755 cgroup_root /sys/fs/cgroup
      for h in $1; do d=${h#name=}; mkdir -p /sys/fs/cgroup/$d
        case $h in name=*) mount -t cgroup -o none,$h cgroup /sys/fs/cgroup/$d;; *) mount -t cgroup -o $h cgroup /sys/fs/cgroup/$d;; esac
      done
    fi
    mkdir -p /etc/docker; mount -t tmpfs -o mode=700 etc_docker /etc/docker
    shift 2
    exec dockerd "$@"' "$NS" "$hierarchies" "$cgv2" \
      --data-root "$DATA/docker" --exec-root "$RUN/exec" --pidfile "$RUN/docker.pid" \
      -H "tcp://$SITE_ADDR:$MC_SITE_PORT" -H "unix://$RUN/docker.sock" --tlsverify --tlscacert "$PKI/ca.pem" \
      --tlscert "$DATA/server-cert.pem" --tlskey "$DATA/server-key.pem" --log-level=warn \
      </dev/null >"$MC_STATE/logs/site-$NAME-dockerd.log" 2>&1 &
  for _ in $(seq 1 120); do engine version >/dev/null 2>&1 && break; sleep 0.25; done
  engine version >/dev/null 2>&1 || mc_die "engine of site $NAME did not answer within 30 s, see $MC_STATE/logs/site-$NAME-dockerd.log"
  mc_step_done "engine $(engine version -f '{{.Server.Version}}') answering at tcp://$SITE_ADDR:$MC_SITE_PORT (TLS, client certificates), storage $(engine info -f '{{.Driver}}')"
}

write_config() {  # the municloud:sites value of a stack on these hosts (primary and dr)
  local out="$SITES/sites.yaml" tmp; tmp=$(mktemp)
  echo "# municloud:sites for a stack on this machine's site hosts (tools/bootstrap/site-hosts.sh;" > "$tmp"
  echo "# wan_subnet: the host's routed block behind the WAN router, tools/bootstrap/wan.sh)" >> "$tmp"
  for spec in $MC_SITE_HOSTS; do
    site_index "$spec"
    case "$NAME" in primary|dr) ;; *) continue;; esac
    # engine_socket: the engine's own unix socket on the host, mounted into its site supervisor
    printf '%s:\n  docker_host: tcp://%s:%s\n  role: %s\n  tls_ca_cert: %s\n  tls_cert: %s\n  tls_key: %s\n  wan_subnet: %s\n  engine_socket: %s\n' \
      "$NAME" "$SITE_ADDR" "$MC_SITE_PORT" "$NAME" "$PKI/ca.pem" "$PKI/client-cert.pem" "$PKI/client-key.pem" \
      "$(bash "$(dirname "$0")/wan.sh" block "$NAME=$INDEX" 0)" "$RUN/docker.sock" >> "$tmp"
  done
  mv "$tmp" "$out"
}

kill_one() {
  site_index "$1"
  mc_step_start "power off $NAME"
  local pids; pids=$(ip netns pids "$NS" 2>/dev/null || true)
  # every process of the host in one signal each, no shutdown of containers, no sync
  [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  for _ in $(seq 1 40); do [ -z "$(ip netns pids "$NS" 2>/dev/null)" ] && break; sleep 0.05; done
  mc_step_done "site host $NAME powered off ($(echo $pids | wc -w) processes killed)"
}

isolate_one() {  # isolate NAME on|off: the management cable out / in at the host's end. Its
  # engine API then answers nobody (packets to the link are dropped: a timeout, as for a cut cable,
  # never a route elsewhere). The WAN cable stays: wan0's routes would go with its link
  # (tools/bootstrap/wan.sh `partition` cuts the WAN).
  site_index "$1"
  ip netns list 2>/dev/null | grep -qw "^$NS" || mc_die "site host $NAME does not exist (site-hosts.sh up $NAME)"
  local state=up; [ "$2" = on ] && state=down
  mc_step_start "isolate $NAME $2"
  ip -n "$NS" link set mgmt0 "$state"
  [ "$state" = down ] || client_route
  if [ "$2" = on ]; then
    mc_step_done "site host $NAME: management cable out, $(ip netns pids "$NS" | wc -l) processes still running"
  else
    mc_step_done "site host $NAME: management cable in"
  fi
}

client_route() {  # the machine's clients of published ports are reached over the management link
  ip -n "$NS" route replace "$MC_SITE_CLIENT_NET" via "$HOST_ADDR" dev mgmt0
}

PUBLISH_TAG="municloud-publish"
publish_one() {  # publish NAME PORT ADDRESS (see the header)
  site_index "$1"; local port="$2" addr="$3"
  [[ "$port" =~ ^[0-9]+$ ]] && [ "$port" -ge 1 ] && [ "$port" -le 65535 ] || mc_die "publish: port '$port' is not 1-65535"
  python3 -c 'import ipaddress, sys; ipaddress.IPv4Address(sys.argv[1])' "$addr" 2>/dev/null \
    || mc_die "publish: '$addr' is not an IPv4 address"
  ip netns list 2>/dev/null | grep -qw "^$NS" || mc_die "publish: site host $NAME does not exist (site-hosts.sh up $NAME)"
  mc_step_start "publish 127.0.0.1:$port"
  unpublish_port "$port"
  # packets from 127.0.0.x may leave by the management link (their source is rewritten below);
  # what arrives on it for the machine's loopback is dropped unless it answers a connection of
  # the machine's: the host opens none to the machine's loopback services
  sysctl -qw "net.ipv4.conf.$HOST_IF.route_localnet=1"
  local guard=(INPUT -i "$HOST_IF" -d 127.0.0.0/8 -m conntrack ! --ctstate ESTABLISHED,RELATED -j DROP)
  iptables -C "${guard[@]}" 2>/dev/null || iptables -I "${guard[@]}"
  [ "$addr" = "$SITE_ADDR" ] || ip route replace "$addr/32" via "$SITE_ADDR" dev "$HOST_IF"
  client_route
  # before Docker's own OUTPUT rule (the machine's engine publishes ports on local addresses too)
  iptables -t nat -I OUTPUT 1 -d 127.0.0.1/32 -p tcp --dport "$port" -m comment --comment "$PUBLISH_TAG $port $NAME" \
    -j DNAT --to-destination "$addr:$port"
  iptables -t nat -I POSTROUTING 1 -s 127.0.0.0/24 -d "$addr/32" -p tcp --dport "$port" \
    -m comment --comment "$PUBLISH_TAG $port $NAME" -j NETMAP --to "$MC_SITE_CLIENT_NET"
  mc_step_done "127.0.0.1:$port of this machine is $addr:$port on site host $NAME (clients 127.0.0.x seen as $(echo "$MC_SITE_CLIENT_NET" | sed 's/0\/24$/x/'))"
}

unpublish_port() {  # every rule of ours for PORT, whichever host it pointed at
  local table chain rule
  for chain in OUTPUT POSTROUTING; do
    while rule=$(iptables -t nat -S "$chain" | grep -F -- "--comment \"$PUBLISH_TAG $1 " | head -n 1) && [ -n "$rule" ]; do
      eval "iptables -t nat ${rule/-A /-D }"
    done
  done
}

down_one() {
  site_index "$1"
  mc_step_start "remove site host $NAME"
  if [ -s "$RUN/docker.pid" ] && kill -0 "$(cat "$RUN/docker.pid")" 2>/dev/null; then
    kill -TERM "$(cat "$RUN/docker.pid")"
    for _ in $(seq 1 60); do kill -0 "$(cat "$RUN/docker.pid" 2>/dev/null || echo 0)" 2>/dev/null || break; sleep 0.25; done
  fi
  local pids; pids=$(ip netns pids "$NS" 2>/dev/null || true); [ -z "$pids" ] || kill -9 $pids 2>/dev/null || true
  ip link del "$HOST_IF" 2>/dev/null || true
  ip netns del "$NS" 2>/dev/null || true
  rm -rf "$RUN"
  mc_step_done "site host $NAME removed (its data stays in $DATA)"
}

status_one() {
  site_index "$1"
  if engine version >/dev/null 2>&1; then
    echo "$NAME: up at tcp://$SITE_ADDR:$MC_SITE_PORT ($(engine info -f '{{.Containers}} containers, {{.ContainersRunning}} running'))"
  else
    echo "$NAME: down (tcp://$SITE_ADDR:$MC_SITE_PORT does not answer)"; return 1
  fi
}

lan_cable() {  # lan_cable SITE LAN_INDEX NODE[=INDEX]: the node's lan0 into the site's LAN switch
  local site="$1" lan="$2"; site_index "$3"
  local sw="$MC_SITE_PREFIX-lan-$site"
  LAN_ADDR="$MC_SITE_LAN_NET.$lan.$((10 + INDEX))"
  ip netns add "$sw" 2>/dev/null || true
  if ! ip -n "$sw" link show lan >/dev/null 2>&1; then
    ip -n "$sw" link add lan type bridge; ip -n "$sw" link set lan up
  fi
  if ! ip -n "$NS" link show lan0 >/dev/null 2>&1; then
    ip -n "$sw" link del "$NAME" 2>/dev/null || true  # the switch's end of a cable whose node is gone
    ip -n "$sw" link add "$NAME" type veth peer name lan0 netns "$NS"
  fi
  ip -n "$sw" link set "$NAME" master lan up
  ip -n "$NS" addr replace "$LAN_ADDR/24" dev lan0; ip -n "$NS" link set lan0 up
}

swarm_site() {  # swarm_site SITE NODE[=INDEX]...: see the header
  local site="$1"; shift
  [[ "$site" =~ ^[a-z][a-z0-9]{0,9}$ ]] || mc_die "site name '$site': lower-case letters and digits, at most 10"
  [ $# -ge 1 ] || mc_die "usage: site-hosts.sh swarm SITE NODE[=INDEX]..."
  ensure_ca
  local spec lan="" manager="" manager_addr="" token="" nodes=() addrs=() ids=() specs=("$@")
  for spec in "$@"; do up_one "$spec"; done
  site_index "$1"; lan="$INDEX"
  mc_step_start "swarm of site $site"
  for spec in "$@"; do
    lan_cable "$site" "$lan" "$spec"; nodes+=("$NAME"); addrs+=("$LAN_ADDR")
  done
  local joined=0 labelled=0 i state
  for i in "${!nodes[@]}"; do
    site_index "${specs[$i]}"
    state=$(engine info -f '{{.Swarm.LocalNodeState}}' 2>/dev/null || echo unknown)
    if [ "$i" = 0 ]; then
      manager="$SITE_ADDR"; manager_addr="${addrs[0]}"
      if [ "$state" != active ]; then
        engine swarm init --advertise-addr "$manager_addr" --listen-addr "$manager_addr:2377" \
          --default-addr-pool "$MC_SITE_OVERLAY_POOL" >/dev/null
        joined=$((joined + 1))
      fi
      token=$(engine swarm join-token -q worker)
    elif [ "$state" != active ] && [ "$state" != pending ]; then
      engine swarm join --token "$token" --advertise-addr "${addrs[$i]}" --listen-addr "${addrs[$i]}:2377" \
        "$manager_addr:2377" >/dev/null
      joined=$((joined + 1))
    fi
    ids+=("$(engine info -f '{{.Swarm.NodeID}}')")
  done
  # labels for placement, set at the manager (idempotent: the same values again)
  for i in "${!nodes[@]}"; do
    [ -n "${ids[$i]}" ] || mc_die "node ${nodes[$i]} has no swarm node id after joining site $site"
    SITE_ADDR="$manager" engine node update --label-add "municloud.site=$site" \
      --label-add "municloud.node=${nodes[$i]}" "${ids[$i]}" >/dev/null
    labelled=$((labelled + 1))
  done
  local ready=0
  for _ in $(seq 1 120); do  # a node just joined or powered on again reports Ready within seconds
    ready=$(SITE_ADDR="$manager" engine node ls --format '{{.Status}}' | grep -c '^Ready$' || true)
    [ "$ready" -ge "${#nodes[@]}" ] && break; sleep 0.25
  done
  [ "$ready" -ge "${#nodes[@]}" ] || mc_die "site $site: only $ready of ${#nodes[@]} nodes ready after 30 s"
  mc_step_done "site $site: swarm of ${#nodes[@]} nodes (manager ${nodes[0]} at $manager_addr, $joined newly joined, $labelled labelled, $ready ready)"
}

lan_down() {
  local sw="$MC_SITE_PREFIX-lan-$1"
  mc_step_start "remove LAN of site $1"
  ip netns del "$sw" 2>/dev/null || true
  mc_step_done "LAN switch $sw removed"
}

cmd="${1:-up}"; [ $# -gt 0 ] && shift
case "$cmd" in
  up)
    [ $# -gt 0 ] || set -- $MC_SITE_HOSTS
    [ $# -gt 0 ] || { echo "[municloud] site hosts: none configured (MC_SITE_HOSTS is empty)" >&2; exit 0; }
    if [ "$(id -u)" != 0 ]; then  # a stack on the local engine still works; its tests say what is missing
      echo "[municloud] site hosts: skipped (need root for network namespaces and mounts)" >&2; exit 0
    fi
    ensure_ca
    for spec in "$@"; do up_one "$spec"; done
    write_config ;;
  kill) [ $# = 1 ] || mc_die "usage: site-hosts.sh kill NAME"; kill_one "$1" ;;
  isolate) [ $# = 2 ] && [[ "$2" =~ ^(on|off)$ ]] || mc_die "usage: site-hosts.sh isolate NAME on|off"
           isolate_one "$1" "$2" ;;
  down) [ $# -ge 1 ] || mc_die "usage: site-hosts.sh down NAME..."; for spec in "$@"; do down_one "$spec"; done ;;
  address) [ $# = 1 ] || mc_die "usage: site-hosts.sh address NAME"; site_index "$1"
    echo "tcp://$SITE_ADDR:$MC_SITE_PORT $NS $HOST_ADDR $RUN/docker.sock" ;;
  status) [ $# -gt 0 ] || set -- $MC_SITE_HOSTS; rc=0; for spec in "$@"; do status_one "$spec" || rc=1; done; exit $rc ;;
  swarm) [ $# -ge 2 ] || mc_die "usage: site-hosts.sh swarm SITE NODE[=INDEX]..."
    [ "$(id -u)" = 0 ] || mc_die "swarm: needs root (network namespaces and mounts)"
    swarm_site "$@" ;;
  lan-down) [ $# = 1 ] || mc_die "usage: site-hosts.sh lan-down SITE"; lan_down "$1" ;;
  docker) [ $# -ge 1 ] || mc_die "usage: site-hosts.sh docker NAME ARGS..."; site_index "$1"; shift; engine "$@" ;;
  answering) for d in "$SITES"/*/; do
      [ -s "$d/index" ] || continue; site_index "$(basename "$d")"
      engine version >/dev/null 2>&1 && echo "$NAME" || true
    done ;;
  publish) [ $# = 3 ] || mc_die "usage: site-hosts.sh publish NAME PORT ADDRESS"
    [ "$(id -u)" = 0 ] || mc_die "publish: needs root (iptables)"; publish_one "$@" ;;
  unpublish) [ $# = 1 ] || mc_die "usage: site-hosts.sh unpublish PORT"
    mc_step_start "unpublish 127.0.0.1:$1"; unpublish_port "$1"; mc_step_done "127.0.0.1:$1 no longer published to a site host" ;;
  *) mc_die "unknown command '$cmd' (up, kill, isolate, down, status, address, swarm, lan-down, publish, unpublish, docker, answering)" ;;
esac
