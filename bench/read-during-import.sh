#!/usr/bin/env bash
# Reads against the in-memory emulator while an import writes to it: starts
# `d365 emulator --limits off` (no data directory), imports N contacts from a
# JSON Lines file (1,000-row UpsertMultiple/CreateMultiple requests back to
# back), and once the write pass has begun times READS runs of
# `d365 get contacts --top 1` one after another (each a new process: start-up
# and token included). Prints the median and the slowest read, and how many
# failed. Dataverse does not make reads wait behind writes; neither should the
# emulator.
#
#   bench/read-during-import.sh [N [READS]]      default N=1000000, READS=20
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
reads=${2:-20}

tmp=$(mktemp -d)
trap 'kill "$imp" "$emu" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
imp= emu=
go build -o "$tmp/d365" ./cmd/d365
awk -v n="$n" 'BEGIN { for (i = 0; i < n; i++) printf "{\"lastname\":\"Read%07d\",\"firstname\":\"Ada\",\"numberofchildren\":%d}\n", i, i % 7 }' >"$tmp/rows.jsonl"

"$tmp/d365" emulator --port 0 --limits off --env-file "$tmp/env" >/dev/null 2>"$tmp/emu.err" &
emu=$!
until [ -s "$tmp/env" ]; do
	kill -0 "$emu" 2>/dev/null || { cat "$tmp/emu.err" >&2; exit 1; }
	sleep 0.2
done
# shellcheck disable=SC1091
source "$tmp/env"
"$tmp/d365" import contacts "$tmp/rows.jsonl" --progress-interval 1s >"$tmp/import.out" 2>&1 &
imp=$!
until grep -q 'rows (' "$tmp/import.out"; do # the first progress line: the write pass has begun
	kill -0 "$imp" 2>/dev/null || { cat "$tmp/import.out" >&2; exit 1; }
	sleep 0.1
done

failed=0
for _ in $(seq "$reads"); do
	start=$(date +%s%N)
	"$tmp/d365" get contacts --top 1 --select lastname >/dev/null 2>>"$tmp/read.err" || failed=$((failed + 1))
	end=$(date +%s%N)
	echo $(((end - start) / 1000000)) >>"$tmp/ms"
done
still=$(kill -0 "$imp" 2>/dev/null && echo "still importing" || echo "the import had ended")
sort -n "$tmp/ms" | awk -v f="$failed" -v s="$still" '{ a[NR] = $1 } END { printf "%d reads during the import: median %d ms, slowest %d ms, %d failed (%s)\n", NR, a[int((NR + 1) / 2)], a[NR], f, s }'
[ "$failed" = 0 ] || sort -u "$tmp/read.err" | head -3 >&2
