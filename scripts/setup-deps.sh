#!/usr/bin/env bash
# Installs the Debian packages floe's live tests and `floe run` on live traffic need:
# conntrack (conntrack-tools), nftables, iproute2 (ip netns), nmap (the real scanner the
# end-to-end tests use), and the attack and benign-traffic tools of test/e2e/attacks.test.ts:
# hping3 (SYN flood, random scan), hydra (SSH password guessing), openssh-server and -client
# (sshd, ssh, ssh-keygen), curl (HTTP beacon and benign requests), python3 (http.server),
# iputils-ping, bind9-dnsutils (dig) and dnsmasq-base (a DNS server, no service); the real alert
# receivers of packages/alert's tests: prometheus-alertmanager, rsyslog and rsyslog-gnutls (its
# TLS driver), and openssl (their throw-away certificates, the API TLS test's CA and certificate
# and the dev kube-apiserver's certificates of deploy/dev/kube.sh); poppler-utils (pdftoppm,
# pdftotext: the compliance report tests read back and render the PDF reports). Idempotent:
# installs only what is missing. Needs root; without root it lists what is missing and exits 0
# (the live tests then skip, except under CI=true).
set -euo pipefail
declare -A pkg=(
  [conntrack]=conntrack [nft]=nftables [ip]=iproute2 [nmap]=nmap
  [hping3]=hping3 [hydra]=hydra [sshd]=openssh-server [ssh]=openssh-client [ssh-keygen]=openssh-client
  [curl]=curl [python3]=python3 [ping]=iputils-ping [dig]=bind9-dnsutils [dnsmasq]=dnsmasq-base
  [prometheus-alertmanager]=prometheus-alertmanager [rsyslogd]=rsyslog [openssl]=openssl
  [pdftoppm]=poppler-utils [pdftotext]=poppler-utils
)
missing=()
for tool in conntrack nft ip nmap hping3 hydra sshd ssh ssh-keygen curl python3 ping dig dnsmasq prometheus-alertmanager rsyslogd openssl pdftoppm pdftotext; do
  # sbin tools (sshd, dnsmasq, hping3) are looked up there too, for a non-root PATH
  PATH="$PATH:/usr/sbin:/sbin" command -v "$tool" >/dev/null 2>&1 && continue
  p=${pkg[$tool]}
  [[ " ${missing[*]} " == *" $p "* ]] || missing+=("$p")
done
# rsyslog's TLS network stream driver is a module, not a command
[ -e "/usr/lib/$(uname -m)-linux-gnu/rsyslog/lmnsd_gtls.so" ] || missing+=(rsyslog-gnutls)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "setup-deps: missing Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]}); live tests will be skipped" >&2
  exit 0
fi
echo "setup-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# The tests start their own sshd and dnsmasq inside network namespaces. Note: on a host run by
# systemd, installing openssh-server also starts the host's sshd service (not in this container).
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
