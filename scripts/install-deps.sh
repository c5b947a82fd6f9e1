#!/usr/bin/env bash
# Installs what Cairn needs from Debian 12 packages. Idempotent and quiet
# when everything is already there. Needs root (or sudo).
#   scripts/install-deps.sh            build + run dependencies
#   scripts/install-deps.sh --test     also what the test suite needs
#                                      (Chromium, Node.js for browser tests,
#                                      clang for the fuzzers)
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config git
          libboost1.81-dev librocksdb-dev libsimdjson-dev libspdlog-dev
          libgtest-dev libssl-dev libbenchmark-dev liburing-dev
          libjemalloc-dev)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(chromium clang libclang-rt-14-dev clang-format)
  command -v node >/dev/null 2>&1 || packages+=(nodejs)
  command -v npm >/dev/null 2>&1 || packages+=(npm)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

SUDO=""
[[ $(id -u) -ne 0 ]] && SUDO="sudo"
echo "Installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
