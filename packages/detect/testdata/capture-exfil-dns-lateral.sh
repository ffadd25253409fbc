#!/bin/sh
# Re-records the exfiltration, DNS and lateral-movement captures of this folder (run as root; needs
# ip, nft, conntrack, curl, python3). Two namespaces on one veth link:
# - "in" (the cluster side): 10.232.1.2 and 10.232.1.4 (pods in the tests' policy); it tracks its
#   outgoing connections (an nft `ct state new` rule in an output chain) with accounting on
#   (nf_conntrack_acct=1). The kernel reports a connection's byte counters only in its DESTROY event,
#   which comes when its entry expires (TIME_WAIT, 120 s after a TCP close) at the next pass of the
#   conntrack garbage collector (up to a minute later, all connections of the capture in one batch).
#   So after each exfiltration round the script deletes the closed connections (`conntrack -D -p tcp
#   --state TIME_WAIT`): the kernel then reports them at once, with their real counters;
# - "out": every server address: 10.232.1.3 and .5 (namespace frontend in the tests' inventory),
#   10.232.1.20-.31 (namespace backend), 10.232.1.53 (the resolver the tests' policy names), and,
#   behind a route, 198.51.100.10 (a web server outside the cluster) and 198.51.100.53 (a resolver
#   the policy does not name). capture-lab/servers.py runs an HTTP sink/source on :8080 and a DNS
#   responder on :53/udp there.
# Each scenario's `conntrack -E -o extended,timestamp,id` stream of "in" goes to its own file (with a
# 16 MiB netlink buffer, `-b`: the 400-query burst overflows the default one on a busy machine,
# ENOBUFS, and conntrack then loses events):
# - captured-conntrack-E-exfil-upload.log: 8 rounds 5 s apart of a 20 kB POST and a 50 kB GET
#   from 10.232.1.2 to 198.51.100.10 (normal small uploads), a 20 MB download, then a 30 MB upload;
# - captured-conntrack-E-dns.log: 10.232.1.2 asks the named resolver 3 queries a second for 10 s,
#   10.232.1.4 asks 198.51.100.53 twice and tries DNS over TLS (tcp/853, refused) there, then
#   10.232.1.2 sends a burst of 400 queries with random names to the named resolver;
# - captured-conntrack-E-lateral.log: 10.232.1.2 reaches 10.232.1.20:8080 and 10.232.1.3:8080
#   (learning phase, 0-4 s), then after 6 s again those two, a new same-namespace peer 10.232.1.5:8080,
#   then 12 new backend peers 10.232.1.20-.31 on tcp/22 (refused) and .21-.31 on tcp/8080;
# - captured-conntrack-E-dns-many-resolvers.log: 10.232.1.2 asks the named resolver twice a second
#   for 4 s while 10.232.1.6 asks four resolvers the policy does not name (198.51.100.53-.56) two
#   queries each.
# - captured-conntrack-E-slow-upload.log and captured-conntrack-L-slow-upload-mid.txt: 10.232.1.2
#   uploads 4 MB to 198.51.100.10 at 1 MB/s (curl --limit-rate); a `conntrack -L -o extended,id`
#   dump (no time stamps: a dump has none) is taken 2 s into it, and the closed connection is
#   deleted at the end so its DESTROY, with the final counters, is in the event stream.
# SCENARIOS="exfil dns lateral resolvers slow" (the default: all) picks which files to re-record.
# Namespaces are named floe-cap-<random> and removed on exit.
set -eu
dir=$(cd "$(dirname "$0")" && pwd)
lab="$dir/capture-lab"
id=$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
in=floe-cap-in-$id; out=floe-cap-out-$id
cleanup() {
  [ -n "${ev:-}" ] && kill "$ev" 2>/dev/null || true
  [ -n "${srv:-}" ] && kill "$srv" 2>/dev/null || true
  ip netns del "$in" 2>/dev/null || true; ip netns del "$out" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$in"; ip netns add "$out"
ip -n "$in" link set lo up; ip -n "$out" link set lo up
ip link add fh${id}i type veth peer name fh${id}o
ip link set fh${id}i netns "$in"; ip link set fh${id}o netns "$out"
ip -n "$in" addr add 10.232.1.2/24 dev fh${id}i; ip -n "$in" addr add 10.232.1.4/24 dev fh${id}i; ip -n "$in" addr add 10.232.1.6/24 dev fh${id}i
ip -n "$out" addr add 10.232.1.1/24 dev fh${id}o
for a in 3 5 20 21 22 23 24 25 26 27 28 29 30 31 53; do ip -n "$out" addr add 10.232.1.$a/32 dev fh${id}o; done
for a in 10 53 54 55 56; do ip -n "$out" addr add 198.51.100.$a/32 dev fh${id}o; done
ip -n "$in" link set fh${id}i up; ip -n "$out" link set fh${id}o up
ip -n "$in" route add 198.51.100.0/24 via 10.232.1.1
ip netns exec "$in" sysctl -qw net.netfilter.nf_conntrack_acct=1
printf 'table inet labtrack {\n chain out {\n  type filter hook output priority 10;\n  ct state new counter\n }\n}\n' | ip netns exec "$in" nft -f -
ip netns exec "$out" python3 "$lab/servers.py" 10.232.1.53 198.51.100.53 198.51.100.54 198.51.100.55 198.51.100.56 &
srv=$!
sleep 1
x() { ip netns exec "$in" "$@"; }
closed() { sleep 0.5; x conntrack -D -p tcp --state TIME_WAIT > /dev/null 2>&1 || true; }
# Each recording starts from an empty table (`conntrack -F`), so the DESTROY events of an earlier
# scenario's connections (UDP entries expire 30 s after their last packet) stay out of it.
record() { x conntrack -F 2> /dev/null || true; ip netns exec "$in" conntrack -E -b 16777216 -o extended,timestamp,id > "$dir/$1" & ev=$!; sleep 1; }
stop() { sleep "$1"; kill "$ev"; wait "$ev" 2>/dev/null || true; ev=; }
scenarios=" ${SCENARIOS:-exfil dns lateral resolvers slow} "
want() { case "$scenarios" in *" $1 "*) return 0 ;; *) return 1 ;; esac; }

# Exfiltration
if want exfil; then
record captured-conntrack-E-exfil-upload.log
head -c 20000 /dev/urandom > /tmp/floe-cap-$id-small; head -c 30000000 /dev/urandom > /tmp/floe-cap-$id-big
for r in 1 2 3 4 5 6 7 8; do
  x curl -s -o /dev/null --interface 10.232.1.2 --data-binary @/tmp/floe-cap-$id-small http://198.51.100.10:8080/up
  x curl -s -o /dev/null --interface 10.232.1.2 http://198.51.100.10:8080/50000
  closed
  sleep 5
done
x curl -s -o /dev/null --interface 10.232.1.2 http://198.51.100.10:8080/20000000
closed
sleep 5
x curl -s -o /dev/null --interface 10.232.1.2 --data-binary @/tmp/floe-cap-$id-big http://198.51.100.10:8080/up
closed
rm -f /tmp/floe-cap-$id-small /tmp/floe-cap-$id-big
stop 2
fi

# DNS
if want dns; then
record captured-conntrack-E-dns.log
for r in 1 2 3 4 5 6 7 8 9 10; do x python3 "$lab/dnsq.py" 10.232.1.2 10.232.1.53 3; sleep 1; done
x python3 "$lab/dnsq.py" 10.232.1.4 198.51.100.53 2
x python3 "$lab/tcpconnect.py" 10.232.1.4 198.51.100.53 853
sleep 2
x python3 "$lab/dnsq.py" 10.232.1.2 10.232.1.53 400
stop 2
fi

# Lateral movement
if want lateral; then
record captured-conntrack-E-lateral.log
for r in 1 2 3; do x python3 "$lab/tcpconnect.py" 10.232.1.2 10.232.1.20 8080; x python3 "$lab/tcpconnect.py" 10.232.1.2 10.232.1.3 8080; sleep 1; done
sleep 6
x python3 "$lab/tcpconnect.py" 10.232.1.2 10.232.1.20 8080
x python3 "$lab/tcpconnect.py" 10.232.1.2 10.232.1.3 8080
x python3 "$lab/tcpconnect.py" 10.232.1.2 10.232.1.5 8080
sleep 1
for a in 20 21 22 23 24 25 26 27 28 29 30 31; do x python3 "$lab/tcpconnect.py" 10.232.1.2 10.232.1.$a 22; done
for a in 21 22 23 24 25 26 27 28 29 30 31; do x python3 "$lab/tcpconnect.py" 10.232.1.2 10.232.1.$a 8080; done
stop 3
fi

# Many resolvers
if want resolvers; then
record captured-conntrack-E-dns-many-resolvers.log
x python3 "$lab/dnsq.py" 10.232.1.2 10.232.1.53 2 0.5
for a in 53 54 55 56; do x python3 "$lab/dnsq.py" 10.232.1.6 198.51.100.$a 2; done
x python3 "$lab/dnsq.py" 10.232.1.2 10.232.1.53 6 0.5
stop 2
fi

# Slow upload with a dump in the middle
if want slow; then
record captured-conntrack-E-slow-upload.log
head -c 4000000 /dev/urandom > /tmp/floe-cap-$id-slow
x curl -s -o /dev/null --interface 10.232.1.2 --limit-rate 1M --data-binary @/tmp/floe-cap-$id-slow http://198.51.100.10:8080/up &
up=$!
sleep 2
x conntrack -L -o extended,id -p tcp --dport 8080 > "$dir/captured-conntrack-L-slow-upload-mid.txt" 2>/dev/null
wait "$up"
closed
rm -f /tmp/floe-cap-$id-slow
stop 2
fi
