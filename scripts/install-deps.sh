#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs every build, test and benchmark dependency of ims-core from Debian 12.
# Idempotent: a second run only checks that everything is present.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git ca-certificates procps
  libosip2-dev libssl-dev libmnl-dev libnghttp2-dev libconfig-dev
  libjansson-dev libc-ares-dev libcmocka-dev
  sip-tester tshark iproute2
  clang libfuzzer-14-dev libclang-rt-14-dev
  valgrind
  freediameter
)

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, no prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${missing[*]}"
