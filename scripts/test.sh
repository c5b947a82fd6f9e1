#!/usr/bin/env bash
# Command 2: install, build and run every test (ctest). Prints ctest's
# summary line. Warnings are errors here.
#   bash scripts/test.sh
# Environment: BUILD_DIR (default build), CTEST_ARGS (extra ctest flags).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh --test
build="${BUILD_DIR:-build}"
browser=OFF
if [[ -x /usr/bin/chromium && -f tests/e2e/package-lock.json ]] &&
  command -v npm >/dev/null 2>&1; then
  browser=ON
  (cd tests/e2e && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
# Fuzzers (libFuzzer needs clang): each runs CAIRN_FUZZ_SECONDS (30) on its
# seed corpus in tests/fuzz/corpus/.
CC=clang CXX=clang++ cmake -S . -B build-fuzz -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCAIRN_FUZZ=ON -DCAIRN_BUILD_BENCH=OFF \
  -DCAIRN_FUZZ_SECONDS="${CAIRN_FUZZ_SECONDS:-30}" >/dev/null
cmake --build build-fuzz --target fuzz_all -j"$(nproc)"
(cd build-fuzz && ctest --output-on-failure -j"$(nproc)" -L fuzz)

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  -DCAIRN_WERROR=ON -DCAIRN_BROWSER_TESTS="$browser" >/dev/null
cmake --build "$build" -j"$(nproc)"
cd "$build"
ctest --output-on-failure -j"$(nproc)" ${CTEST_ARGS:-}
