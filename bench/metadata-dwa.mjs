// DynamicsWebApi 2.5's metadata calls against a running emulator started
// with emulator/testdata/metadata/scenario.yaml, as bench/metadata-dwa.sh
// runs it: a client nobody here wrote reads tables, columns through their
// casts, choices, keys, relationships, global choices and $metadata, and
// every answer is checked for what that client's users read from it.
// Prints one line per check and exits 1 when one fails.
import { DynamicsWebApi } from "dynamics-web-api";

const env = (k) => {
  if (!process.env[k]) {
    console.error(`metadata-dwa: ${k} is not set; source the file of d365 emulator --env-file`);
    process.exit(2);
  }
  return process.env[k];
};
const orgURL = env("D365_URL").replace(/\/+$/, "");
const authority = env("AZURE_AUTHORITY_HOST").replace(/\/+$/, "");
const tenant = env("AZURE_TENANT_ID");

async function token() {
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
  if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
  return (await res.json()).access_token;
}

const api = new DynamicsWebApi({
  serverUrl: orgURL,
  dataApi: { version: "9.2" },
  onTokenRefresh: token,
});

let failed = 0;
async function check(name, fn) {
  try {
    const problem = await fn();
    if (problem) {
      failed++;
      console.log(`FAIL ${name}: ${problem}`);
    } else {
      console.log(`ok   ${name}`);
    }
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e.status ?? ""} ${e.message}`);
  }
}

await check("retrieveEntity with select", async () => {
  const e = await api.retrieveEntity({ key: "LogicalName='new_project'", select: ["LogicalName", "EntitySetName", "ChangeTrackingEnabled", "DisplayName"] });
  if (e.EntitySetName !== "new_projects" || e.ChangeTrackingEnabled !== true) return JSON.stringify(e);
  if (e.DisplayName?.UserLocalizedLabel?.Label !== "Project") return "DisplayName " + JSON.stringify(e.DisplayName);
});
await check("retrieveEntities with a flag filter", async () => {
  const r = await api.retrieveEntities({ select: ["LogicalName"], filter: "IsCustomEntity eq true and IsIntersect eq false" });
  const names = r.value.map((v) => v.LogicalName);
  if (!names.includes("new_project") || names.includes("account")) return names.join(",");
});
await check("retrieveEntity expanding Keys and ManyToOneRelationships", async () => {
  const e = await api.retrieveEntity({ key: "LogicalName='new_project'", select: ["LogicalName"], expand: [{ property: "Keys" }, { property: "ManyToOneRelationships", select: ["SchemaName", "ReferencedEntity"] }] });
  if (e.Keys?.[0]?.KeyAttributes?.[0] !== "new_code") return "Keys " + JSON.stringify(e.Keys);
  if (!e.ManyToOneRelationships?.some((r) => r.SchemaName === "new_account_new_project" && r.ReferencedEntity === "account")) return "ManyToOne " + JSON.stringify(e.ManyToOneRelationships);
});
await check("retrieveAttributes cast to Picklist with OptionSet", async () => {
  const r = await api.retrieveAttributes({ entityKey: "LogicalName='new_project'", castType: "Microsoft.Dynamics.CRM.PicklistAttributeMetadata", select: ["LogicalName"], expand: [{ property: "OptionSet" }, { property: "GlobalOptionSet" }] });
  const stage = r.value.find((a) => a.LogicalName === "new_stage");
  const prio = r.value.find((a) => a.LogicalName === "new_priority");
  if (stage?.OptionSet?.Options?.[0]?.Color !== "#0000ff") return "new_stage " + JSON.stringify(stage);
  if (prio?.GlobalOptionSet?.Name !== "new_priority") return "new_priority " + JSON.stringify(prio);
});
await check("retrieveAttribute cast to Boolean with OptionSet", async () => {
  const a = await api.retrieveAttribute({ entityKey: "LogicalName='new_project'", attributeKey: "LogicalName='new_active'", castType: "Microsoft.Dynamics.CRM.BooleanAttributeMetadata", expand: [{ property: "OptionSet" }] });
  if (a.OptionSet?.TrueOption?.Label?.UserLocalizedLabel?.Label !== "Running") return JSON.stringify(a.OptionSet);
});
await check("retrieveAttribute cast to String", async () => {
  const a = await api.retrieveAttribute({ entityKey: "LogicalName='new_project'", attributeKey: "LogicalName='new_name'", castType: "Microsoft.Dynamics.CRM.StringAttributeMetadata", select: ["MaxLength", "RequiredLevel"] });
  if (a.MaxLength !== 100 || a.RequiredLevel?.Value !== "ApplicationRequired") return JSON.stringify(a);
});
await check("retrieveRelationships cast to OneToMany with a filter", async () => {
  const r = await api.retrieveRelationships({ castType: "Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata", select: ["SchemaName"], filter: "ReferencedEntity eq 'account'" });
  if (!r.value.some((v) => v.SchemaName === "new_account_new_project")) return JSON.stringify(r.value.map((v) => v.SchemaName));
});
await check("retrieveGlobalOptionSet by name with a cast", async () => {
  const s = await api.retrieveGlobalOptionSet({ key: "Name='new_priority'", castType: "Microsoft.Dynamics.CRM.OptionSetMetadata", select: ["Name", "Options"] });
  if (s.Options?.length !== 2 || s.Options[1].Color !== "#ff0000") return JSON.stringify(s);
});
await check("retrieveCsdlMetadata with annotations", async () => {
  const xml = await api.retrieveCsdlMetadata({ addAnnotations: true });
  if (!xml.includes('<EntityType Name="PicklistAttributeMetadata" BaseType="mscrm.EnumAttributeMetadata">')) return "no PicklistAttributeMetadata";
  if (!/<EntitySet Name="new_projects"[^>]*>.*?Org\.OData\.Capabilities\.V1\.ChangeTracking/s.test(xml)) return "no ChangeTracking annotation on new_projects";
});
process.exit(failed ? 1 : 0);
