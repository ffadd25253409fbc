#!/bin/sh
# Re-records captured-conntrack-E-extended-timestamp-nmap-random-pairs.log (run as root; needs ip,
# nft, conntrack, nmap). A masscan-style random scan, done with nmap: an attacker namespace
# (10.232.1.2) probes PAIRS (default 40) random (host, port) pairs, each host drawn from the 20
# addresses 10.232.2.1-20 of a victim namespace and each port from 1-1024, one `nmap -sS` run per
# pair (so no host sees 15 ports and no port sees 16 hosts). The victim tracks connections (an nft
# `ct state new` rule, accounting on) and drops its own TCP resets before conntrack sees them, so
# every probe stays SYN_SENT [UNREPLIED]; its `conntrack -E -o extended,timestamp,id` stream is the
# capture (OUT=file writes it elsewhere). Namespaces are named floe-cap-<random> and removed.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
att=floe-cap-att-$id; vic=floe-cap-vic-$id
cleanup() {
  if [ -n "${ev:-}" ]; then kill "$ev" 2>/dev/null || true; wait "$ev" 2>/dev/null || true; ev=; fi
  ip netns del "$att" 2>/dev/null || true; ip netns del "$vic" 2>/dev/null || true
}
trap cleanup EXIT INT TERM
ip netns add "$att"; ip netns add "$vic"
ip -n "$att" link set lo up; ip -n "$vic" link set lo up
ip link add fr${id}p type veth peer name fr${id}v
ip link set fr${id}p netns "$att"; ip link set fr${id}v netns "$vic"
ip -n "$att" addr add 10.232.1.2/24 dev fr${id}p; ip -n "$vic" addr add 10.232.1.1/24 dev fr${id}v
for h in $(seq 1 20); do ip -n "$vic" addr add 10.232.2.$h/24 dev fr${id}v; done
ip -n "$att" link set fr${id}p up; ip -n "$vic" link set fr${id}v up
ip -n "$att" route add 10.232.2.0/24 via 10.232.1.1
ip netns exec "$vic" sysctl -qw net.netfilter.nf_conntrack_acct=1
printf 'table inet labtrack {\n chain in {\n  type filter hook input priority 10;\n  ct state new counter\n }\n chain out {\n  type filter hook output priority -300;\n  tcp flags rst drop\n }\n}\n' | ip netns exec "$vic" nft -f -
events=${OUT:-"$dir/captured-conntrack-E-extended-timestamp-nmap-random-pairs.log"}
ip netns exec "$vic" conntrack -E -o extended,timestamp,id > "$events" &
ev=$!
sleep 1
# Random pairs, without repeats: host 1-20, port 1-1024 (od reads /dev/urandom).
od -An -N$((${PAIRS:-40} * 16)) -tu2 -w4 /dev/urandom | awk -v n="${PAIRS:-40}" '{ k = "10.232.2." (1 + $1 % 20) " " (1 + $2 % 1024); if (!(k in s) && c < n) { s[k] = 1; c++; print k } }' |
  while read -r host port; do
    ip netns exec "$att" nmap -sS -n -Pn --max-retries 0 -p "$port" "$host" > /dev/null
  done
sleep 1
cleanup
