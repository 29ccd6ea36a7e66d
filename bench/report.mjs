// Reads "CPUPERGET client=NAME conc=N cpu_us=X" lines (from
// BenchmarkCPUPerGET and cpu-per-get.mjs) on standard input, takes the
// median of the runs of each client and concurrency, and prints a Markdown
// table of CPU per GET with the ratios the issue sets targets for:
// d365 over bare net/http on the same protocol, and d365 over
// DynamicsWebApi making the same call.
import { createInterface } from "node:readline";

const runs = new Map(); // "client conc" -> [cpu_us]
for await (const line of createInterface({ input: process.stdin })) {
  const m = /^CPUPERGET client=(\S+) conc=(\d+) cpu_us=([\d.]+)$/.exec(line.trim());
  if (!m) continue;
  const key = `${m[1]} ${m[2]}`;
  if (!runs.has(key)) runs.set(key, []);
  runs.get(key).push(Number(m[3]));
}
if (runs.size === 0) {
  console.error("report: no CPUPERGET lines on standard input");
  process.exit(1);
}
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
};
const concs = [...new Set([...runs.keys()].map((k) => Number(k.split(" ")[1])))].sort((a, b) => a - b);
const clients = [...new Set([...runs.keys()].map((k) => k.split(" ")[0]))];
const get = (client, conc) => (runs.has(`${client} ${conc}`) ? median(runs.get(`${client} ${conc}`)) : undefined);

// ratio is the median of the per-run ratios of client over peer at conc:
// the i-th figure of each comes from the same round of bench/run.sh, so a
// change of load between rounds falls on both sides of each ratio.
const ratio = (client, peer, conc) => {
  const a = runs.get(`${client} ${conc}`), b = runs.get(`${peer} ${conc}`);
  if (!a || !b) return undefined;
  const n = Math.min(a.length, b.length);
  const rs = [];
  for (let i = 0; i < n; i++) if (b[i] > 0) rs.push(a[i] / b[i]);
  return rs.length ? median(rs) : undefined;
};

// peers returns the [label, client] pairs a client is compared with.
function peers(client) {
  // A prefix ("before-") marks another build of the Go benchmark; its d365
  // figures are compared with its own bare net/http figures.
  let m = /^([a-z]+-)?go-d365-(\w+)-(h1|h2)(-\w+)?$/.exec(client);
  if (m) {
    const p = m[1] ?? "";
    return [["bare net/http, same protocol", `${p}go-bare-${m[2]}-${m[3]}`], ["DynamicsWebApi", `node-dwa-${m[2]}-h1`]];
  }
  m = /^([a-z]+-)?go-bare-(\w+)-h2$/.exec(client);
  if (m) return [["bare HTTP/1.1 pool", `${m[1] ?? ""}go-bare-${m[2]}-h1`]];
  if (client === "node-dwa-retrieve-h1") return [["Node https", "node-bare-retrieve-h1"]];
  return [];
}

const head = ["client", ...concs.map((c) => `µs/GET at ${c}`), "ratios (" + concs.join(" / ") + ")"];
console.log("| " + head.join(" | ") + " |");
console.log("|" + head.map(() => "---").join("|") + "|");
for (const client of clients) {
  const cells = concs.map((c) => (get(client, c) === undefined ? "–" : get(client, c).toFixed(1)));
  const ratios = [];
  for (const [label, peer] of peers(client)) {
    const rs = concs.map((c) => {
      const r = ratio(client, peer, c);
      return r === undefined ? "–" : r.toFixed(2);
    });
    if (rs.some((r) => r !== "–")) ratios.push(`${rs.join(" / ")}× ${label}`);
  }
  console.log(`| ${client} | ${cells.join(" | ")} | ${ratios.join("; ")} |`);
}
const counts = [...runs.values()].map((v) => v.length);
console.log(`\n(median of ${Math.min(...counts)}–${Math.max(...counts)} runs per figure, ratios the median of the per-run ratios; process CPU time, user + system, per call)`);
