#!/bin/sh
# Re-records the two nmap-101 captures of this folder (run as root; needs ip, nft, conntrack, nmap).
# An attacker namespace SYN-scans ports 1-101 of a victim namespace that tracks connections (an nft
# `ct state new` rule, accounting on) and drops its own TCP resets before conntrack sees them
# (priority -300), so every probe stays in the table as SYN_SENT [UNREPLIED]. The victim's `conntrack -E -o extended,timestamp,id`
# stream is written to captured-conntrack-E-extended-timestamp-nmap-101-ports.log, and a
# `conntrack -L` dump taken right after the scan (no timestamps: a dump carries none) to
# captured-conntrack-L-nmap-101-ports.txt. Namespaces are named floe-cap-<random> and removed.
# With HOLD=240 (seconds) the event stream keeps recording until the kernel expires the unanswered
# connections (SYN_SENT times out after 120 s) and is written to
# captured-conntrack-E-extended-timestamp-nmap-101-ports-until-expiry.log instead, without a dump.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
att=floe-cap-att-$id; vic=floe-cap-vic-$id
cleanup() { [ -n "${ev:-}" ] && kill "$ev" 2>/dev/null || true; ip netns del "$att" 2>/dev/null || true; ip netns del "$vic" 2>/dev/null || true; }
trap cleanup EXIT
ip netns add "$att"; ip netns add "$vic"
ip -n "$att" link set lo up; ip -n "$vic" link set lo up
ip link add fc${id}p type veth peer name fc${id}v
ip link set fc${id}p netns "$att"; ip link set fc${id}v netns "$vic"
ip -n "$att" addr add 10.231.1.2/24 dev fc${id}p; ip -n "$vic" addr add 10.231.1.1/24 dev fc${id}v
ip -n "$att" link set fc${id}p up; ip -n "$vic" link set fc${id}v up
ip netns exec "$vic" sysctl -qw net.netfilter.nf_conntrack_acct=1
printf 'table inet labtrack {\n chain in {\n  type filter hook input priority 10;\n  ct state new counter\n }\n chain out {\n  type filter hook output priority -300;\n  tcp flags rst drop\n }\n}\n' | ip netns exec "$vic" nft -f -
hold=${HOLD:-1}
events="$dir/captured-conntrack-E-extended-timestamp-nmap-101-ports.log"
[ "$hold" -gt 1 ] && events="$dir/captured-conntrack-E-extended-timestamp-nmap-101-ports-until-expiry.log"
ip netns exec "$vic" conntrack -E -o extended,timestamp,id > "$events" &
ev=$!
sleep 1
ip netns exec "$att" nmap -sS -n -Pn --max-retries 0 -p 1-101 10.231.1.1 > /dev/null
[ "$hold" -gt 1 ] || ip netns exec "$vic" conntrack -L -f ipv4 > "$dir/captured-conntrack-L-nmap-101-ports.txt" 2>/dev/null
sleep "$hold"
