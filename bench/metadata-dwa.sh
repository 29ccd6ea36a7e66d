#!/usr/bin/env bash
# DynamicsWebApi 2.5 (a client nobody here wrote) reads the emulator's table
# metadata: tables, columns through their casts, choices, keys,
# relationships, global choices and $metadata (bench/metadata-dwa.mjs). The
# emulator runs emulator/testdata/metadata/scenario.yaml. Prints one line per
# check; exits 1 when one fails. Needs Go and Node.js >= 18.
#
#   bench/metadata-dwa.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d bench/node_modules/dynamics-web-api ] || (cd bench && npm ci --no-audit --no-fund >&2)
tmp=$(mktemp -d)
trap 'kill "$emu" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/d365" ./cmd/d365
"$tmp/d365" emulator --port 0 --scenario emulator/testdata/metadata/scenario.yaml --env-file "$tmp/env" >/dev/null 2>"$tmp/emu.err" &
emu=$!
until [ -s "$tmp/env" ]; do
	kill -0 "$emu" 2>/dev/null || { cat "$tmp/emu.err" >&2; exit 1; }
	sleep 0.2
done
# shellcheck disable=SC1091
source "$tmp/env"
export AZURE_CLIENT_ID=0b000000-0000-4000-8000-0000000000aa AZURE_CLIENT_SECRET=metadata-scenario-secret
export NODE_EXTRA_CA_CERTS=$D365_CA_FILE
node bench/metadata-dwa.mjs
