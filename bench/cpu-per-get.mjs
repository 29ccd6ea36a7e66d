// CPU per GET of the Node.js peers against the canned HTTPS Web API of
// bench/cannedserver (HTTP/1.1 server: Node's https module speaks
// HTTP/1.1), at 16 and 64 concurrent calls:
//
//   node-dwa-retrieve-h1   DynamicsWebApi 2.5 retrieve (contacts(id), $select)
//   node-dwa-list-h1       DynamicsWebApi 2.5 retrieveMultiple (one page)
//   node-bare-retrieve-h1  https.request on a keep-alive agent + JSON.parse
//
// The figure is process.cpuUsage() (user + system) over the calls, in µs.
// Prints one "CPUPERGET client=... conc=... cpu_us=..." line per figure;
// bench/report.mjs turns them into the table. Needs D365_CANNED_H1_URL and
// NODE_EXTRA_CA_CERTS=$D365_CANNED_CA (bench/run.sh sets both).
//
//   node bench/cpu-per-get.mjs [calls per figure, default 20000]
import https from "node:https";
import { DynamicsWebApi } from "dynamics-web-api";

const base = process.env.D365_CANNED_H1_URL;
if (!base) {
  console.error("cpu-per-get: set D365_CANNED_H1_URL (go run ./bench/cannedserver prints it) and NODE_EXTRA_CA_CERTS");
  process.exit(2);
}
const calls = Number(process.argv[2] || 20000);
const id = "7eb682f1-ca75-e511-80d4-00155d2a68d1";
const select = ["fullname", "emailaddress1"];

function dwa() {
  return new DynamicsWebApi({
    serverUrl: base + "/",
    dataApi: { version: "9.2" },
    onTokenRefresh: async () => "static-token",
  });
}

const clients = {
  "node-dwa-retrieve-h1": () => {
    const api = dwa();
    return async () => {
      const r = await api.retrieve({ collection: "contacts", key: id, select });
      if (r.contactid !== id) throw new Error("decoded id " + r.contactid);
    };
  },
  "node-dwa-list-h1": () => {
    const api = dwa();
    return async () => {
      const r = await api.retrieveMultiple({ collection: "contacts", select });
      if (r.value.length !== 5) throw new Error("page of " + r.value.length + " rows");
    };
  },
  "node-bare-retrieve-h1": () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: Infinity });
    const url = new URL(base + "/org/api/data/v9.2/contacts(" + id + ")?$select=fullname%2Cemailaddress1");
    const headers = {
      Authorization: "Bearer static-token",
      Accept: "application/json",
      "OData-MaxVersion": "4.0",
      "OData-Version": "4.0",
    };
    return () =>
      new Promise((resolve, reject) => {
        const req = https.request(url, { agent, headers }, (res) => {
          const chunks = [];
          res.on("data", (c) => chunks.push(c));
          res.on("end", () => {
            try {
              const r = JSON.parse(Buffer.concat(chunks).toString("utf8"));
              if (r.contactid !== id) throw new Error("decoded id " + r.contactid);
              resolve();
            } catch (e) {
              reject(e);
            }
          });
          res.on("error", reject);
        });
        req.on("error", reject);
        req.end();
      });
  },
};

async function runConcurrent(conc, n, call) {
  let next = 0;
  const worker = async () => {
    while (next++ < n) await call();
  };
  await Promise.all(Array.from({ length: conc }, worker));
}

for (const conc of [16, 64]) {
  for (const [name, make] of Object.entries(clients)) {
    const call = make();
    await runConcurrent(conc, 8 * conc, call); // connections, token
    const before = process.cpuUsage();
    await runConcurrent(conc, calls, call);
    const used = process.cpuUsage(before);
    const perCall = (used.user + used.system) / calls;
    console.log(`CPUPERGET client=${name} conc=${conc} cpu_us=${perCall.toFixed(2)}`);
  }
}
