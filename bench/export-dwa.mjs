// DynamicsWebApi 2.5's retrieveAll over every row of an entity set of a
// running emulator, as the Node.js side of bench/export.sh. Prints one JSON
// line: rows, seconds, rows per second and the peak resident set size.
//
// Settings from the environment, as `d365 emulator --env-file` writes them:
// D365_URL, AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET,
// AZURE_AUTHORITY_HOST; NODE_EXTRA_CA_CERTS=$D365_CA_FILE makes Node trust
// the emulator. The access token comes from the emulator's v2 token
// endpoint (client credentials with the client secret), through
// DynamicsWebApi's onTokenRefresh callback.
//
//   node bench/export-dwa.mjs contacts firstname,lastname,emailaddress1
import { DynamicsWebApi } from "dynamics-web-api";

const [collection, select] = process.argv.slice(2);
if (!collection) {
  console.error("usage: node export-dwa.mjs ENTITYSET [col,col]");
  process.exit(2);
}
const env = (k) => {
  if (!process.env[k]) {
    console.error(`export-dwa: ${k} is not set; source the file of d365 emulator --env-file`);
    process.exit(2);
  }
  return process.env[k];
};
const orgURL = env("D365_URL").replace(/\/+$/, "");
const authority = env("AZURE_AUTHORITY_HOST").replace(/\/+$/, "");
const tenant = env("AZURE_TENANT_ID");

let cached;
async function token() {
  if (cached && cached.expires > Date.now() + 60_000) return cached.token;
  const res = await fetch(`${authority}/${tenant}/oauth2/v2.0/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "client_credentials",
      client_id: env("AZURE_CLIENT_ID"),
      client_secret: env("AZURE_CLIENT_SECRET"),
      scope: `${orgURL}/.default`,
    }),
  });
  const body = await res.json();
  if (!res.ok) throw new Error(`token endpoint: ${res.status} ${body.error}: ${body.error_description}`);
  cached = { token: body.access_token, expires: Date.now() + body.expires_in * 1000 };
  return cached.token;
}

const api = new DynamicsWebApi({ serverUrl: orgURL + "/", dataApi: { version: "9.2" }, onTokenRefresh: token });
await api.retrieveMultiple({ collection, top: 1 }); // token and connection, outside the timing
const request = { collection };
if (select) request.select = select.split(",");
const start = process.hrtime.bigint();
const all = await api.retrieveAll(request);
const seconds = Number(process.hrtime.bigint() - start) / 1e9;
const rows = all.value.length;
console.log(JSON.stringify({
  client: "node-dwa-retrieveAll",
  rows,
  seconds,
  rows_per_s: rows / seconds,
  peak_rss_mb: Math.round(process.resourceUsage().maxRSS / 1024),
}));
