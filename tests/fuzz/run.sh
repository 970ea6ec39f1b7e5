#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# run.sh <fuzzer-binary> <corpus-root> <seconds>
#
# Runs one libFuzzer target for <seconds> on a scratch copy of the seed corpus
# (<corpus-root>/seed-sip/* and, when present, <corpus-root>/malformed/*; for the
# Diameter targets, fuzz_dia_*, <corpus-root>/seed-dia/*; for fuzz_sec_agree,
# <corpus-root>/seed-secagree/*; for fuzz_http_req, <corpus-root>/seed-http/*), so the checked-in
# corpus never changes. Exits with the fuzzer's status and prints how
# many inputs were executed. Crash reproducers are kept (they are the point):
# they go to $IMS_FUZZ_ARTIFACTS (default: the current directory).
set -u

if [ $# -ne 3 ]; then
    echo "usage: $0 <fuzzer-binary> <corpus-root> <seconds>" >&2
    exit 2
fi
fuzzer=$1
corpus_root=$2
seconds=$3
artifacts=${IMS_FUZZ_ARTIFACTS:-$PWD}

if [ ! -x "$fuzzer" ]; then
    echo "run.sh: $fuzzer is not an executable" >&2
    exit 2
fi
case $seconds in
    '' | *[!0-9]*) echo "run.sh: seconds must be a number: $seconds" >&2; exit 2 ;;
esac

work=$(mktemp -d /tmp/ims-fuzz.XXXXXX) || exit 2
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$artifacts"

case $(basename "$fuzzer") in
    fuzz_dia_*) seed_dirs=("$corpus_root/seed-dia") ;;
    fuzz_sec_agree) seed_dirs=("$corpus_root/seed-secagree") ;;
    fuzz_http_req) seed_dirs=("$corpus_root/seed-http") ;;
    fuzz_sdp) seed_dirs=("$corpus_root/seed-sdp") ;;
    fuzz_n5_json) seed_dirs=("$corpus_root/seed-n5") ;;
    *) seed_dirs=("$corpus_root/seed-sip" "$corpus_root/malformed") ;;
esac
seeds=0
for dir in "${seed_dirs[@]}"; do
    [ -d "$dir" ] || continue
    for f in "$dir"/*; do
        [ -f "$f" ] || continue
        # Prefix with the folder name: seed-sip/x and malformed/x may share a name.
        cp "$f" "$work/corpus/$(basename "$dir")-$(basename "$f")"
        seeds=$((seeds + 1))
    done
done
echo "run.sh: $(basename "$fuzzer"): $seeds seed inputs, ${seconds}s"

"$fuzzer" -max_total_time="$seconds" -max_len=70000 -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$artifacts/" "$work/corpus" >"$work/log" 2>&1
status=$?

# Keep CTest output short: the tail carries the stats, or the crash report.
if [ $status -ne 0 ]; then
    cat "$work/log"
else
    tail -n 20 "$work/log"
fi
execs=$(sed -n 's/^stat::number_of_executed_units: *\([0-9]*\).*/\1/p' "$work/log" | tail -n 1)
if [ -z "$execs" ]; then
    execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$work/log" | tail -n 1)
fi
echo "run.sh: executions: ${execs:-unknown}, exit status $status"
if [ $status -ne 0 ]; then
    echo "run.sh: reproducers (if any) in $artifacts:" >&2
    ls -1 "$artifacts" 2>/dev/null | grep -E '^(crash|leak|timeout|oom|slow-unit)-' >&2
fi
exit $status
