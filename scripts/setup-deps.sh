#!/usr/bin/env bash
# Installs the Debian packages floe's live tests and `floe run` on live traffic need:
# conntrack (conntrack-tools), nftables, iproute2 (ip netns), nmap (the real scanner the
# end-to-end test uses). Idempotent: installs only what is missing. Needs root; without root it
# lists what is missing and exits 0 (the live tests then skip, except under CI=true).
set -euo pipefail
declare -A pkg=([conntrack]=conntrack [nft]=nftables [ip]=iproute2 [nmap]=nmap)
missing=()
for tool in conntrack nft ip nmap; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${pkg[$tool]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "setup-deps: missing Debian packages: ${missing[*]} (run as root: apt-get install ${missing[*]}); live tests will be skipped" >&2
  exit 0
fi
echo "setup-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
