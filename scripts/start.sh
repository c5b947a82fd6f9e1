#!/usr/bin/env bash
# Command 1: install, build (Release) and start Cairn on the embedded store
# with the demo company on first start.
#   bash scripts/start.sh [extra `cairn serve` flags]
# Data lives in ./cairn-data; the URL and an admin token are printed.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target cairn -j"$(nproc)"

data="${CAIRN_DATA:-$PWD/cairn-data}"
token="${CAIRN_ADMIN_TOKEN:-}"
token_file="$data.admin-token"
if [[ -z "$token" ]]; then
  if [[ -f "$token_file" ]]; then
    token=$(cat "$token_file")
  else
    token=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')
    mkdir -p "$(dirname "$token_file")"
    (umask 077 && printf '%s' "$token" >"$token_file")
  fi
fi
exec build/cairn serve --data "$data" --admin-token "$token" --demo "$@"
