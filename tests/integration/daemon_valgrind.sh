#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Each daemon under valgrind (memcheck): start, carry calls over UDP and TCP, SIGTERM.
# Checked: exit status 0 and no memcheck error or definite/indirect leak (valgrind's own
# --error-exitcode). Runs in the release build; the ASan build skips it (CTest "skipped":
# the sanitizer runtime and valgrind cannot share a process).
. "$(dirname "$0")/lib/common.sh"
if [ "${IMS_SANITIZE:-OFF}" = ON ] || [ "${IMS_SANITIZE:-OFF}" = 1 ]; then
    echo "skipped: sanitizer build (valgrind runs in the release build)"
    exit 77
fi
command -v valgrind >/dev/null || { echo "valgrind not installed"; exit 1; }
it_init 16500

CALLS=10

check_daemon() {
    local name=$1 px uas_port uac_port uas pid log exe rc i
    pick_port_into px
    pick_port_into uas_port
    pick_port_into uac_port
    exe=$(bin "$name") || exit 1
    log=$IT_WORK/$name-valgrind.log
    start_sipp_uas uas uas_call.xml "$uas_port" udp "$CALLS" -recv_timeout 20000
    valgrind --error-exitcode=3 --leak-check=full --errors-for-leak-kinds=definite,indirect \
        --show-leak-kinds=definite,indirect "$exe" -l "udp:$IT_HOST:$px" -l "tcp:$IT_HOST:$px" \
        -n "udp:$IT_HOST:$uas_port" -L notice >"$log" 2>&1 &
    pid=$!
    track "$pid" "$name(valgrind)" "$log"
    wait_listen "$pid" udp "$px" 20
    say "$name under valgrind (pid $pid) on :$px; $CALLS calls"
    run_sipp_uac uac_call.xml "$uac_port" udp "$IT_HOST:$px" "$CALLS" 60 -r 10 -d 20
    expect_calls "$SIPP_TAG" "$SIPP_RC" "$CALLS" "$name UAC"
    wait_sipp "$uas" 30
    kill -TERM "$pid"
    for ((i = 0; i < 200; i++)); do alive "$pid" || break; sleep 0.05; done
    alive "$pid" && fail "$name did not stop within 10 s of SIGTERM under valgrind" "$pid"
    wait "$pid"; rc=$?
    untrack "$pid"
    grep -E "ERROR SUMMARY|definitely lost|indirectly lost" "$log" | sed "s/^/[$IT_NAME]   /"
    [ "$rc" -eq 0 ] || fail "$name under valgrind exited with $rc (3: memcheck errors or leaks)" "$pid"
    say "$name: valgrind clean, exit 0"
}

for d in pcscf icscf scscf; do check_daemon "$d"; done
ok "pcscf, icscf and scscf valgrind-clean over start, $CALLS calls and SIGTERM"
