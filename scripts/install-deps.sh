#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs every build, test and benchmark dependency of ims-core from Debian 12.
# Idempotent: a second run only checks that everything is present.
set -euo pipefail

PKGS=(
  build-essential cmake pkg-config git ca-certificates procps
  libosip2-dev libssl-dev libmnl-dev libnghttp2-dev libconfig-dev
  libjansson-dev libc-ares-dev libcmocka-dev libhiredis-dev
  sip-tester tshark iproute2 redis-server
  socat  # tests/integration/pcscf_tls.sh: sipp 3.6.1 has no TLS, socat wraps its TCP
  clang libfuzzer-14-dev libclang-rt-14-dev
  valgrind
  freediameter
  curl python3-prometheus-client
  nodejs
  qemu-system-x86 busybox-static cpio kmod
)

# The ESP tests boot Debian's cloud kernel under qemu (tests/vm/README.md): this machine's own
# kernel has no ESP. The kernel .deb is fetched once into VM_CACHE and unpacked there; the
# directory's name carries the package version, so a newer kernel lands beside the old one.
VM_CACHE=${IMS_VM_CACHE:-/var/cache/ims-core/vm}

vm_kernel_pkg() {
  apt-cache depends linux-image-cloud-amd64 2>/dev/null |
    awk '/Depends: linux-image-[0-9]/ { print $2; exit }'
}

# vm_kernel: make sure VM_CACHE/<package>/ holds the unpacked kernel that
# linux-image-cloud-amd64 depends on. Idempotent; prints what it found or did.
vm_kernel() {
  local pkg dir tmp deb
  pkg=$(vm_kernel_pkg)
  if [ -z "$pkg" ] && [ "$(id -u)" -eq 0 ]; then
    apt-get update -q >/dev/null
    pkg=$(vm_kernel_pkg)
  fi
  if [ -z "$pkg" ]; then
    echo "install-deps: apt-cache names no linux-image-*-cloud-amd64 (run apt-get update)" >&2
    return 1
  fi
  dir=$VM_CACHE/$pkg
  if [ -f "$dir/.complete" ]; then
    echo "install-deps: VM kernel $pkg present in $dir"
    return 0
  fi
  if [ "$(id -u)" -ne 0 ] && ! mkdir -p "$VM_CACHE" 2>/dev/null; then
    echo "install-deps: need root to create $VM_CACHE" >&2
    return 1
  fi
  mkdir -p "$VM_CACHE"
  tmp=$(mktemp -d "$VM_CACHE/.dl.XXXXXX")
  # apt-get download fetches as user _apt into the current directory (else a warning).
  chmod 755 "$tmp"
  chown _apt "$tmp" 2>/dev/null || true
  (cd "$tmp" && apt-get download -q "$pkg") || { rm -rf "$tmp"; return 1; }
  deb=$(ls "$tmp"/*.deb)
  rm -rf "$dir"
  mkdir -p "$dir"
  dpkg-deb -x "$deb" "$dir" || { rm -rf "$tmp" "$dir"; return 1; }
  rm -rf "$tmp"
  touch "$dir/.complete"
  echo "install-deps: VM kernel $pkg unpacked into $dir"
}

# deploy/tools: the offline Kubernetes schema validator of tests/integration/deploy_files.sh
# (npm packages pinned by deploy/tools/package-lock.json), installed into
# deploy/tools/node_modules; again only when the lock file changed.
deploy_tools() {
  local dir
  dir=$(cd "$(dirname "$0")/.." && pwd)/deploy/tools
  if [ -f "$dir/node_modules/.package-lock.json" ] &&
     [ ! "$dir/package-lock.json" -nt "$dir/node_modules/.package-lock.json" ]; then
    echo "install-deps: deploy/tools/node_modules present"
    return 0
  fi
  # Without the npm registry only that test fails (saying why), not the whole run.
  if (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error); then
    echo "install-deps: npm ci in deploy/tools"
  else
    echo "install-deps: npm ci in deploy/tools failed (deploy_files.sh will fail)" >&2
  fi
}

missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
# npm: Debian's package, unless the nodejs installed (e.g. NodeSource's) brings its own.
command -v npm >/dev/null || missing+=(npm)

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-deps: all ${#PKGS[@]} packages present"
  deploy_tools
  vm_kernel
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
deploy_tools
vm_kernel
