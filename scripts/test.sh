#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
# Installs what is missing, builds, and runs every test:
#   1. the ASan+UBSan build: unit + integration tests;
#   2. the fuzz build (clang + libFuzzer): each fuzz target for IMS_FUZZ_SECONDS (30);
#   3. the release build: unit + integration tests (its CTest summary ends the output).
# Exit status is non-zero when any test failed.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)

bash scripts/install-deps.sh || exit 1

build() {  # build <dir> <cmake args...>
  local dir=$1; shift
  cmake -S "$root" -B "$dir" "$@" >"$dir.cmake.log" 2>&1 || { cat "$dir.cmake.log"; return 1; }
  cmake --build "$dir" -j"$jobs" 2>&1 | grep -E "error|warning|Error" ; return "${PIPESTATUS[0]}"
}

mkdir -p build
failed=0
start=$(date +%s)

echo "== ASan+UBSan build: unit + integration tests"
if build build/asan -DCMAKE_BUILD_TYPE=Debug -DIMS_SANITIZE=ON; then
  (cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
     UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j1) || failed=1
else
  echo "ASan build failed"; failed=1
fi

echo "== fuzz build: libFuzzer targets, ${IMS_FUZZ_SECONDS:-30} s each"
if CC=clang build build/fuzz -DCMAKE_BUILD_TYPE=Debug -DIMS_FUZZ=ON \
     -DIMS_FUZZ_SECONDS="${IMS_FUZZ_SECONDS:-30}"; then
  (cd build/fuzz && ctest --output-on-failure -L fuzz -j2) || failed=1
else
  echo "fuzz build failed"; failed=1
fi

echo "== took $(( $(date +%s) - start )) s so far; release build last, its CTest summary ends the output"
if build build/release -DCMAKE_BUILD_TYPE=RelWithDebInfo; then
  (cd build/release && ctest --output-on-failure -j1) || failed=1
else
  echo "release build failed"; failed=1
fi
exit $failed
