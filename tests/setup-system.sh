#!/usr/bin/env bash
# System packages the integration tests need (run as root, e.g. by `bash tests/run-all.sh system`):
#
#   openssh-server  a real sshd on the bastion and app hosts the SSH test builds in network namespaces
#   openssh-client  ssh, the client Ansible drives (ProxyJump through the bastion)
#   iproute2        `ip netns` / veth: the test's own network namespaces
#   erlang-base     erl and epmd: the real BEAM nodes the discovery test clusters
#   elixir          elixir and mix (Debian's, with the Erlang/OTP apps it needs): scripts/build_demo.sh builds the
#                   demo release offline (no Hex) for `make up` and the demo tests
#
# Idempotent: installs only what is missing (dpkg -s), runs `apt-get update` only when it has to install,
# never prompts (no stdin in CI). Prints what it found and what it did.
set -euo pipefail

PACKAGES=(openssh-server openssh-client iproute2 erlang-base elixir)
# A command each package must provide; checked after installing too.
declare -A PROVIDES=([openssh-server]=/usr/sbin/sshd [openssh-client]=ssh [iproute2]=ip [erlang-base]=erl [elixir]=mix)

installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed'; }
provides() { command -v "${PROVIDES[$1]}" >/dev/null 2>&1; }

missing=()
for package in "${PACKAGES[@]}"; do
    if installed "$package" && provides "$package"; then
        echo "setup-system: $package already installed"
    else
        missing+=("$package")
    fi
done

if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        echo "setup-system: missing ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    echo "setup-system: installing ${missing[*]}"
    apt-get update -q </dev/null
    # policy-rc.d keeps the package from starting a system-wide sshd; the tests run their own.
    policy=/usr/sbin/policy-rc.d
    own_policy=false
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=true
    fi
    status=0
    apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null || status=$?
    if $own_policy; then rm -f "$policy"; fi
    ((status == 0)) || { echo "setup-system: apt-get install failed ($status)" >&2; exit "$status"; }
    for package in "${missing[@]}"; do
        provides "$package" || { echo "setup-system: $package installed but ${PROVIDES[$package]} not found" >&2; exit 1; }
        echo "setup-system: installed $package"
    done
else
    echo "setup-system: nothing to install"
fi

# sshd's privilege-separation directory (normally made by its service unit, which the tests do not use).
if [[ ! -d /run/sshd ]]; then
    if [[ $(id -u) -eq 0 ]]; then
        mkdir -p /run/sshd && chmod 0755 /run/sshd && echo "setup-system: created /run/sshd"
    fi
fi
