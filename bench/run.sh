#!/usr/bin/env bash
# Runs the CPU-per-GET comparison in one go: starts the canned HTTPS Web API
# (bench/cannedserver), runs BenchmarkCPUPerGET of package dataverse and the
# Node.js peers (bench/cpu-per-get.mjs) against it, alternating ROUNDS
# times, and prints the table of medians (bench/report.mjs).
#
#   bench/run.sh [ROUNDS]        default 3; CALLS=20000 calls per figure
#
# BEFORE=path/to/dataverse.test (a test binary of another build, made with
# go test -c ./dataverse) runs that build too, in turns with this one
# against the same server; its figures are prefixed "before-".
# RAW=file keeps the CPUPERGET lines of every round there.
#
# Needs Go and Node.js >= 18; installs the npm peers (npm ci) if missing.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
calls=${CALLS:-20000}
[ -d bench/node_modules/dynamics-web-api ] || (cd bench && npm ci --no-audit --no-fund >&2)

tmp=$(mktemp -d)
trap 'exec 3>&-; wait || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/cannedserver" ./bench/cannedserver
go test -c -o "$tmp/dataverse.test" ./dataverse
mkfifo "$tmp/in"
"$tmp/cannedserver" -ca "$tmp/ca.pem" <"$tmp/in" >"$tmp/env" &
exec 3>"$tmp/in" # the server stops when this closes
until grep -q '^# ready' "$tmp/env" 2>/dev/null; do
	kill -0 $! 2>/dev/null || { echo "run.sh: cannedserver failed" >&2; exit 1; }
	sleep 0.1
done
# shellcheck disable=SC1091
source "$tmp/env"
export NODE_EXTRA_CA_CERTS=$D365_CANNED_CA

for ((i = 1; i <= rounds; i++)); do
	echo "round $i/$rounds" >&2
	if [ -n "${BEFORE:-}" ]; then
		"$BEFORE" -test.run '^$' -test.bench 'CPUPerGET' -test.benchtime "${calls}x" |
			sed 's/^CPUPERGET client=/CPUPERGET client=before-/' | tee -a "$tmp/out" | grep -v '^CPUPERGET' >&2
	fi
	"$tmp/dataverse.test" -test.run '^$' -test.bench 'CPUPerGET' -test.benchtime "${calls}x" | tee -a "$tmp/out" | grep -v '^CPUPERGET' >&2
	node bench/cpu-per-get.mjs "$calls" | tee -a "$tmp/out" >&2
done
echo
[ -z "${RAW:-}" ] || cp "$tmp/out" "$RAW"
node bench/report.mjs <"$tmp/out"
