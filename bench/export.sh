#!/usr/bin/env bash
# Export comparison over N rows of one running emulator: DynamicsWebApi
# 2.5's retrieveAll (bench/export-dwa.mjs), `d365 get contacts --all`
# (output to /dev/null) and the dataverse library's Pager
# (bench/exportpager) and `d365 export contacts` (JSON Lines), in ROUNDS alternating rounds; prints rows/s of each
# (median) and the ratios, and the processor time each client and the
# emulator spent per row (GNU time for the client process, /proc for the
# emulator's): on a quiet machine the emulator's serving bounds every
# client's rate, and the client's own CPU is what tells them apart.
#
#   bench/export.sh [N [ROUNDS]]       default N=100000, ROUNDS=3
#   WIDE=1 bench/export.sh …           contacts with 12 columns filled, every
#                                       column read (no $select), instead of
#                                       4 columns filled and selected
#
# The rows are seeded through a scenario file (with an app, its secret and
# an application user that reads contacts), limits off. Needs Go,
# Node.js >= 18, GNU time (/usr/bin/time) and Linux's /proc.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
rounds=${2:-3}
sel=firstname,lastname,emailaddress1,jobtitle
[ "${WIDE:-}" = 1 ] && sel=
[ -d bench/node_modules/dynamics-web-api ] || (cd bench && npm ci --no-audit --no-fund >&2)

tmp=$(mktemp -d)
trap 'kill "$emu" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
go build -o "$tmp/d365" ./cmd/d365
go build -o "$tmp/exportpager" ./bench/exportpager
{
	cat <<'YAML'
organization: {tenant: bench.onmicrosoft.com}
tenants:
  - {id: be4c0000-0000-4000-8000-000000000001, domain: bench.onmicrosoft.com, displayName: Bench}
apps:
  - name: bench-app
    clientId: be4c0000-0000-4000-8000-000000000002
    secrets: [{value: "bE1~bench~secret~for~the~emulator~only"}]
roles:
  - {name: Contact reader, privileges: ["prvReadContact:organization"]}
applicationUsers:
  - {app: bench-app, fullName: Bench reader, roles: [Contact reader]}
rows:
  contacts:
YAML
	if [ -n "$sel" ]; then
		awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "    - {firstname: First%d, lastname: Last%d, emailaddress1: person%d@example.com, jobtitle: Engineer}\n", i, i, i }'
	else
		awk -v n="$n" 'BEGIN { for (i = 1; i <= n; i++) printf "    - {firstname: First%d, lastname: Last%d, jobtitle: Purchasing Manager, emailaddress1: person%d@example.com, telephone1: \"+1 425 555 0100\", address1_line1: 1 Microsoft Way, address1_city: Redmond, address1_postalcode: \"98052\", numberofchildren: %d, creditlimit: 1500.5, donotemail: %s, description: \"Imported from the legacy CRM; see ticket #%d\"}\n", i, i, i, i % 5, (i % 3 ? "false" : "true"), i }'
	fi
} >"$tmp/scenario.yaml"

echo "export.sh: seeding $n contacts in the emulator" >&2
"$tmp/d365" emulator --port 0 --limits off --scenario "$tmp/scenario.yaml" --env-file "$tmp/env" >/dev/null 2>"$tmp/emu.err" &
emu=$!
until [ -s "$tmp/env" ]; do
	kill -0 "$emu" 2>/dev/null || { cat "$tmp/emu.err" >&2; exit 1; }
	sleep 0.2
done
# shellcheck disable=SC1091
source "$tmp/env"
export AZURE_CLIENT_ID=be4c0000-0000-4000-8000-000000000002 AZURE_CLIENT_SECRET='bE1~bench~secret~for~the~emulator~only'
export NODE_EXTRA_CA_CERTS=$D365_CA_FILE

clk=$(getconf CLK_TCK)
emu_ticks() { awk '{ print $14 + $15 }' "/proc/$emu/stat"; } # user + system, in clock ticks
timed() { # NAME CMD...: runs CMD under GNU time; records the CPU of CMD and of the emulator meanwhile
	local name=$1 e0 e1
	shift
	e0=$(emu_ticks)
	/usr/bin/time -f '%U %S' -o "$tmp/time" "$@"
	e1=$(emu_ticks)
	awk -v n="$name" -v e="$(((e1 - e0)))" -v clk="$clk" '{ printf "{\"client\":\"%s\",\"client_cpu_s\":%.3f,\"emulator_cpu_s\":%.3f}\n", n, $1 + $2, e / clk }' "$tmp/time" >>"$tmp/cpu"
}
cli() { # d365 get --all, timed from outside (the binary's start-up and token included)
	local start end rows
	start=$(date +%s.%N)
	rows=$(timed d365-get-all "$tmp/d365" get contacts --all ${sel:+--select "$sel"} | grep -c '"contactid"' || true)
	end=$(date +%s.%N)
	awk -v r="$rows" -v s="$start" -v e="$end" 'BEGIN { printf "{\"client\":\"d365-get-all\",\"rows\":%d,\"seconds\":%.6f}\n", r, e - s }'
}
export_cli() { # d365 export (JSON Lines) to /dev/null, timed from outside like cli; the rows are counted by its summary line, not by a reader of the output that would share the CPU
	local start end rows
	start=$(date +%s.%N)
	timed d365-export "$tmp/d365" export contacts ${sel:+--select "$sel"} --progress off >/dev/null 2>"$tmp/export.err"
	end=$(date +%s.%N)
	rows=$(sed -n 's/.*exported \([0-9]*\) rows.*/\1/p' "$tmp/export.err")
	awk -v r="$rows" -v s="$start" -v e="$end" 'BEGIN { printf "{\"client\":\"d365-export\",\"rows\":%d,\"seconds\":%.6f}\n", r, e - s }'
}
for ((i = 1; i <= rounds; i++)); do
	echo "round $i/$rounds" >&2
	timed node-dwa-retrieveAll node bench/export-dwa.mjs contacts "$sel" | tee -a "$tmp/out" >&2
	cli | tee -a "$tmp/out" >&2
	export_cli | tee -a "$tmp/out" >&2
	timed go-library-pager "$tmp/exportpager" -select "$sel" contacts | tee -a "$tmp/out" >&2
done
node -e '
const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
const by = {};
for (const l of lines) (by[l.client] ??= []).push(l.rows / l.seconds);
const med = (xs) => { const s = [...xs].sort((a, b) => a - b); const h = s.length >> 1; return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2; };
const r = Object.fromEntries(Object.entries(by).map(([k, v]) => [k, med(v)]));
const rows = lines[0].rows;
console.log(`| client | rows/s (median of ${lines.length / Object.keys(by).length}) |`);
console.log("|---|---|");
for (const [k, v] of Object.entries(r)) console.log(`| ${k} | ${Math.round(v).toLocaleString("en")} |`);
console.log(`\nrows per run: ${rows}`);
console.log(`d365 get --all / library pager: ${(r["d365-get-all"] / r["go-library-pager"]).toFixed(2)}x`);
console.log(`d365 get --all / DynamicsWebApi retrieveAll: ${(r["d365-get-all"] / r["node-dwa-retrieveAll"]).toFixed(2)}x`);
console.log(`d365 export / library pager: ${(r["d365-export"] / r["go-library-pager"]).toFixed(2)}x`);
console.log(`d365 export / DynamicsWebApi retrieveAll: ${(r["d365-export"] / r["node-dwa-retrieveAll"]).toFixed(2)}x`);
console.log(`library pager / DynamicsWebApi retrieveAll: ${(r["go-library-pager"] / r["node-dwa-retrieveAll"]).toFixed(2)}x`);
const rss = lines.filter((l) => l.peak_rss_mb).map((l) => l.peak_rss_mb);
if (rss.length) console.log(`DynamicsWebApi peak RSS: ${Math.max(...rss)} MB`);
const cpu = {};
for (const l of require("fs").readFileSync(process.argv[2], "utf8").trim().split("\n").map(JSON.parse)) {
  const c = (cpu[l.client] ??= { client: [], emulator: [] });
  c.client.push((l.client_cpu_s * 1e6) / rows);
  c.emulator.push((l.emulator_cpu_s * 1e6) / rows);
}
console.log("\n| client | client CPU µs/row | emulator CPU µs/row meanwhile |\n|---|---|---|");
for (const [k, v] of Object.entries(cpu)) console.log(`| ${k} | ${med(v.client).toFixed(2)} | ${med(v.emulator).toFixed(2)} |`);
const dwa = med(cpu["node-dwa-retrieveAll"].client);
console.log(`client CPU per row / DynamicsWebApi retrieveAll: d365 export ${(med(cpu["d365-export"].client) / dwa).toFixed(2)}x, d365 get --all ${(med(cpu["d365-get-all"].client) / dwa).toFixed(2)}x, library pager ${(med(cpu["go-library-pager"].client) / dwa).toFixed(2)}x`);
' "$tmp/out" "$tmp/cpu"
