# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# Builds the two gzip'd cpio archives a test VM boots from (sourced by tests/vm/run.sh).
#
#   base    busybox-static and its applet links, the kernel modules the ESP tests need (with their
#           dependencies, depmod'ed), /sbin/modprobe, iproute2's `ip`, /init (init.sh) and the
#           in-VM helpers (/vm/lib.sh). Depends only on the kernel and on host packages, so
#           run.sh caches it; about 10 MB.
#   overlay the test's programs with the shared libraries ldd lists for them, extra files, the
#           test script and its environment. Built per run.
#
# The kernel unpacks concatenated archives in order, later entries replacing earlier ones, so
# the initrd is just `cat base overlay`.
#
# Root layout (Debian's merged /usr, so ldd's paths work unchanged): /lib -> usr/lib,
# /lib64 -> usr/lib64, /bin and /sbin hold busybox links; /opt/ims/bin holds the test's
# programs (first in PATH); /test holds the test script (test.sh) and env.sh.

# Module subtrees copied whole: every crypto algorithm (the kernel asks modprobe for
# "crypto-<alg>" aliases when an SA names one), xfrm, ESP/AH/IPComp for IPv4 and IPv6, and veth.
# Their dependencies outside these trees are added by vm_module_closure.
VM_MOD_TREES=(kernel/crypto kernel/arch/x86/crypto kernel/lib kernel/net/xfrm kernel/net/ipv4
    kernel/net/ipv6 kernel/net/key kernel/drivers/net/veth.ko)

# vm_copy_with_libs ROOT FILE DEST: copy program FILE to ROOT/DEST and every shared library ldd
# lists for it (its whole dependency tree, the loader included) to the same path under ROOT.
# Works for ASan/UBSan builds too (libasan, libubsan, libstdc++ are listed like any library).
# Fails when ldd reports a library "not found".
vm_copy_with_libs() {
    local root=$1 file=$2 dest=$3 out line lib
    mkdir -p "$root/$(dirname "$dest")"
    cp -L "$file" "$root/$dest" || return 1
    # Static programs make ldd fail ("not a dynamic executable"): nothing more to copy.
    out=$(ldd "$file" 2>/dev/null) || return 0
    if grep -q 'not found' <<<"$out"; then
        printf 'vm: %s: ldd: %s\n' "$file" "$(grep 'not found' <<<"$out" | tr -s ' \t' ' ')" >&2
        return 1
    fi
    while read -r line; do
        case "$line" in
        *'=> /'*) lib=${line#*=> } ;;
        /*) lib=$line ;;
        *) continue ;;  # linux-vdso.so.1 has no file
        esac
        lib=${lib%% (*}
        [ -e "$root$lib" ] && continue
        mkdir -p "$root$(dirname "$lib")"
        cp -L "$lib" "$root$lib" || return 1
    done <<<"$out"
}

# vm_module_closure MODDIR FILE...: print the relative paths (under MODDIR) of FILEs and of every
# module they depend on, recursively, once each. The kernel .deb ships no modules.dep, so the
# dependencies come from each module's own "depends" field.
vm_module_closure() {
    local moddir=$1 f n dep
    shift
    declare -A path_of=() seen=()
    while read -r f; do
        n=$(basename "$f" .ko)
        path_of[${n//-/_}]=$f
    done < <(cd "$moddir" && find kernel -name '*.ko')
    local queue=("$@")
    while [ ${#queue[@]} -gt 0 ]; do
        f=${queue[0]}
        queue=("${queue[@]:1}")
        [ -n "${seen[$f]:-}" ] && continue
        seen[$f]=1
        printf '%s\n' "$f"
        for dep in $(modinfo -F depends "$moddir/$f" | tr ',' ' '); do
            dep=${dep//-/_}
            if [ -z "${path_of[$dep]:-}" ]; then
                printf 'vm: module %s needs %s, which the kernel tree lacks\n' "$f" "$dep" >&2
                return 1
            fi
            queue+=("${path_of[$dep]}")
        done
    done
}

# vm_cpio DIR OUT: pack DIR as a gzip'd newc cpio archive at OUT (root-owned entries).
vm_cpio() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) |
        gzip -1 >"$2"
}

# vm_build_base KERNEL_DIR KVER VMDIR OUT: build the base archive at OUT. KERNEL_DIR is the
# unpacked kernel package (lib/modules/KVER inside); VMDIR is tests/vm (init.sh, lib.sh).
vm_build_base() {
    local kdir=$1 kver=$2 vmdir=$3 out=$4 root mods=() m a
    root=$(mktemp -d "${out%/*}/.base.XXXXXX") || return 1
    mkdir -p "$root"/{usr/lib,usr/lib64,usr/bin,bin,sbin,proc,sys,dev,tmp,run,var,etc}
    mkdir -p "$root"/{opt/ims/bin,test,vm,root}
    ln -s usr/lib "$root/lib"
    ln -s usr/lib64 "$root/lib64"
    ln -s ../run "$root/var/run"
    cp /bin/busybox "$root/bin/busybox"
    for a in $(/bin/busybox --list); do
        [ "$a" = busybox ] || ln -s busybox "$root/bin/$a"
    done
    # The kernel runs /sbin/modprobe to load crypto algorithms and xfrm_user on demand.
    ln -s ../bin/busybox "$root/sbin/modprobe"
    vm_copy_with_libs "$root" "$(command -v ip)" usr/bin/ip || return 1
    rm -f "$root/bin/ip"  # busybox ip knows neither netns nor xfrm; iproute2's does
    ln -s ../usr/bin/ip "$root/bin/ip"

    local src=$kdir/lib/modules/$kver dst=$root/usr/lib/modules/$kver
    for m in "${VM_MOD_TREES[@]}"; do
        [ -e "$src/$m" ] || continue
        while read -r a; do mods+=("$a"); done < <(cd "$src" && find "$m" -name '*.ko')
    done
    mkdir -p "$dst"
    while read -r m; do
        mkdir -p "$dst/$(dirname "$m")"
        cp "$src/$m" "$dst/$m"
    done < <(vm_module_closure "$src" "${mods[@]}") || return 1
    cp "$src"/modules.{builtin,builtin.modinfo,order} "$dst/"
    depmod -b "$root/usr" "$kver" || return 1

    cp "$vmdir/init.sh" "$root/init"
    chmod 755 "$root/init"
    cp "$vmdir/lib.sh" "$root/vm/lib.sh"
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$root/etc/passwd"
    printf 'root:x:0:\n' >"$root/etc/group"
    vm_cpio "$root" "$out.tmp.$$" && mv -f "$out.tmp.$$" "$out"
    local rc=$?
    rm -rf "$root"
    return $rc
}

# vm_sh_quote STRING: STRING single-quoted for /bin/sh.
vm_sh_quote() {
    printf "'%s'" "${1//\'/\'\\\'\'}"
}

# vm_build_overlay OUT TEST_SCRIPT BINS_NAME FILES_NAME ENV_NAME [ARGS...]: build the per-run
# archive at OUT. BINS_NAME, FILES_NAME and ENV_NAME name bash arrays: programs for
# /opt/ims/bin (with their libraries), "SRC:DEST" extra files, and "NAME=VALUE" variables
# exported to the test. ARGS become the test script's positional parameters.
vm_build_overlay() {
    local out=$1 script=$2 root b f kv
    local -n bins_ref=$3 files_ref=$4 env_ref=$5
    shift 5
    root=$(mktemp -d "${out%/*}/.overlay.XXXXXX") || return 1
    mkdir -p "$root"/{usr/lib,usr/lib64,opt/ims/bin,test}
    ln -s usr/lib "$root/lib"
    ln -s usr/lib64 "$root/lib64"
    for b in "${bins_ref[@]+"${bins_ref[@]}"}"; do
        vm_copy_with_libs "$root" "$b" "opt/ims/bin/$(basename "$b")" ||
            { rm -rf "$root"; return 1; }
    done
    for f in "${files_ref[@]+"${files_ref[@]}"}"; do
        mkdir -p "$root/$(dirname "${f#*:}")"
        cp -L "${f%%:*}" "$root/${f#*:}" || { rm -rf "$root"; return 1; }
    done
    cp "$script" "$root/test/test.sh"
    {
        for kv in "${env_ref[@]+"${env_ref[@]}"}"; do
            printf 'export %s=%s\n' "${kv%%=*}" "$(vm_sh_quote "${kv#*=}")"
        done
        printf 'set --'
        for kv in "$@"; do printf ' %s' "$(vm_sh_quote "$kv")"; done
        printf '\n'
    } >"$root/test/env.sh"
    vm_cpio "$root" "$out"
    local rc=$?
    rm -rf "$root"
    return $rc
}
