#!/bin/sh
# Re-records the captures of the brute-force, SYN-flood and beacon detectors (run as root; needs ip,
# nft, conntrack, sshd and ssh (openssh-server, openssh-client), hydra, hping3, curl, python3).
#
#   capture-rules.sh SCENARIO...      (several scenarios may run at once: each has its own namespaces)
#
# Each scenario builds an attacker namespace (10.231.1.2) and a victim namespace (10.231.1.1) on a
# veth pair (namespaces floe-cap-<random>, removed at the end), starts real servers in the victim
# (OpenSSH's sshd on 22, python3 -m http.server on 8080), records the victim's
# `conntrack -E -o extended,timestamp,id -b 16777216` (a 16 MiB netlink buffer, so bursts of
# DESTROY events are not lost; accounting on, an nft `ct state new` rule) to
# captured-conntrack-E-extended-timestamp-<scenario>.log and runs the client side in the attacker:
#
#   ssh-hydra      hydra, 200 random passwords for root (never the real one) against sshd, 4 tasks (sshd allows 6 per connection)
#   ssh-logins     4 successful key logins (ssh root@victim uname) from the same attacker address
#   syn-flood      hping3 SYN flood, one source: 1000 SYNs at 500/s to the listening port 8080, then 25 s
#                  (the attacker's kernel resets each handshake: CLOSE, destroyed 10 s later)
#   syn-spoofed    hping3 --rand-source SYN flood: 1000 SYNs at 500/s to 8080, a random source each, then 12 s
#   http-burst     30 curl requests to 8080 one after the other (benign burst)
#   beacon-2s      20 curl requests to 8080, one every 2 s (a beacon)
#   beacon-jitter  20 curl requests to 8080, 1.5 to 2.5 s apart (uniform jitter, awk rand seeded)
#   http-bursty    20 curl requests to 8080 with exponential gaps (mean 2 s, awk rand seeded): not periodic
#
# The ssh scenarios keep recording 160 s after the last login: conntrack destroys a closed TCP
# connection only when TIME_WAIT (120 s) ends, and the DESTROY event is the one with the counters.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)

run() {
  name=$1
  id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
  att=floe-cap-att-$id; vic=floe-cap-vic-$id
  tmp=$(mktemp -d)
  pids=""
  cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null || true; done
    ip netns del "$att" 2>/dev/null || true; ip netns del "$vic" 2>/dev/null || true
    rm -rf "$tmp"
  }
  trap cleanup EXIT
  ip netns add "$att"; ip netns add "$vic"
  ip -n "$att" link set lo up; ip -n "$vic" link set lo up
  ip link add fc${id}p type veth peer name fc${id}v
  ip link set fc${id}p netns "$att"; ip link set fc${id}v netns "$vic"
  ip -n "$att" addr add 10.231.1.2/24 dev fc${id}p; ip -n "$vic" addr add 10.231.1.1/24 dev fc${id}v
  ip -n "$att" link set fc${id}p up; ip -n "$vic" link set fc${id}v up
  # The victim answers the internet through the attacker's link (a default route), so SYN-ACKs to
  # spoofed sources leave it and are lost, as on an internet-facing host.
  ip -n "$vic" route add default via 10.231.1.2
  ip netns exec "$vic" sysctl -qw net.netfilter.nf_conntrack_acct=1
  printf 'table inet labtrack {\n chain in {\n  type filter hook input priority 10;\n  ct state new counter\n }\n}\n' | ip netns exec "$vic" nft -f -

  case $name in
  ssh-*)
    mkdir -p /run/sshd
    ssh-keygen -q -t ed25519 -N '' -f "$tmp/hostkey"
    ssh-keygen -q -t ed25519 -N '' -f "$tmp/clientkey"
    cp "$tmp/clientkey.pub" "$tmp/authorized_keys"
    cat > "$tmp/sshd_config" <<EOF
ListenAddress 10.231.1.1
Port 22
HostKey $tmp/hostkey
PidFile $tmp/sshd.pid
AuthorizedKeysFile $tmp/authorized_keys
PasswordAuthentication yes
KbdInteractiveAuthentication no
PermitRootLogin yes
StrictModes no
UsePAM no
MaxStartups 100:30:200
EOF
    ip netns exec "$vic" /usr/sbin/sshd -D -f "$tmp/sshd_config" -E "$tmp/sshd.log" &
    pids="$pids $!"
    ;;
  *)
    ip netns exec "$vic" /usr/bin/python3 -m http.server 8080 --bind 10.231.1.1 >/dev/null 2>&1 &
    pids="$pids $!"
    ;;
  esac
  port=8080
  case $name in ssh-*) port=22 ;; esac
  # wait until the server listens (python's start takes a second or two)
  for i in $(seq 100); do
    ip netns exec "$vic" ss -Htln "sport = :$port" | grep -q . && break
    sleep 0.1
  done
  out="$dir/captured-conntrack-E-extended-timestamp-$name.log"
  ip netns exec "$vic" conntrack -E -o extended,timestamp,id -b 16777216 > "$out" &
  ev=$!
  pids="$pids $ev"
  sleep 1
  url=http://10.231.1.1:8080/
  hold=2
  case $name in
  ssh-hydra)
    head -c 4000 /dev/urandom | od -An -tx1 | tr -d " \n" | fold -w 16 | head -n 200 > "$tmp/words"
    ip netns exec "$att" hydra -l root -P "$tmp/words" -t 4 -I -q ssh://10.231.1.1 > "$tmp/hydra.out" 2>&1 || true
    hold=160
    ;;
  ssh-logins)
    for i in 1 2 3 4; do
      ip netns exec "$att" ssh -i "$tmp/clientkey" -o BatchMode=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR root@10.231.1.1 uname -s > /dev/null
      sleep 3
    done
    hold=160
    ;;
  syn-flood)
    ip netns exec "$att" hping3 -q -S -p 8080 -i u2000 -c 1000 10.231.1.1 > /dev/null 2>&1 || true
    hold=25
    ;;
  syn-spoofed)
    ip netns exec "$att" hping3 -q -S -p 8080 -i u2000 -c 1000 --rand-source 10.231.1.1 > /dev/null 2>&1 || true
    hold=12
    ;;
  http-burst)
    for i in $(seq 30); do ip netns exec "$att" curl -s -o /dev/null "$url"; done
    ;;
  beacon-2s)
    for i in $(seq 20); do ip netns exec "$att" curl -s -o /dev/null "$url"; sleep 2; done
    ;;
  beacon-jitter)
    for i in $(seq 20); do ip netns exec "$att" curl -s -o /dev/null "$url"; sleep "$(awk -v s="$i" 'BEGIN { srand(s); printf "%.3f", 1.5 + rand() }')"; done
    ;;
  http-bursty)
    for i in $(seq 20); do ip netns exec "$att" curl -s -o /dev/null "$url"; sleep "$(awk -v s="$i" 'BEGIN { srand(100 + s); printf "%.3f", -2 * log(1 - rand()) }')"; done
    ;;
  *)
    echo "unknown scenario $name" >&2
    exit 2
    ;;
  esac
  sleep "$hold"
}

[ $# -gt 0 ] || { echo "usage: $0 SCENARIO..." >&2; exit 2; }
for s in "$@"; do (run "$s") & done
wait
