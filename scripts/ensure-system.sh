#!/usr/bin/env bash
# Install the Debian packages openisp needs and start Open vSwitch, idempotently.
# A second run finds everything present and returns in well under a second.
set -euo pipefail

packages=(openvswitch-switch mininet iperf3 ethtool iputils-ping iproute2 tcpdump
          prometheus python3-venv procps)
# One command per package proves it is installed (dpkg -s is slower and says less).
commands=(ovs-vsctl mnexec iperf3 ethtool ping ip tcpdump prometheus promtool pkill)

missing=()
for c in "${commands[@]}"; do command -v "$c" >/dev/null 2>&1 || missing+=("$c"); done
if ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then missing+=(python3-venv); fi

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "openisp: missing ${missing[*]}; run as root so apt-get can install: ${packages[*]}" >&2
    exit 1
  fi
  echo "openisp: installing Debian packages (missing: ${missing[*]})"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${packages[@]}"
fi

# Open vSwitch: start the daemons without systemd when they are not answering.
if [ "$(id -u)" -eq 0 ]; then
  if ! ovs-vsctl --timeout=5 show >/dev/null 2>&1 || ! ovs-appctl -t ovs-vswitchd version >/dev/null 2>&1; then
    echo "openisp: starting Open vSwitch (userspace datapath; no kernel module needed)"
    /usr/share/openvswitch/scripts/ovs-ctl start --system-id=random >/dev/null
  fi
fi
