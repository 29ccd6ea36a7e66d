// Package emulator is a faithful local Microsoft Entra ID token service and Dataverse Web API,
// for tests, CI and laptops where no Microsoft tenant is reachable.
//
// An Emulator listens on loopback over real HTTPS with a certificate authority it generates
// (CACertPEM, HTTPClient). Its URL is both the Entra authority host and the Dataverse organization
// URL, so a client configured for a real tenant works against it by changing three settings:
//
//	D365_URL             = e.OrgURL()
//	AZURE_AUTHORITY_HOST = e.AuthorityHost()
//	D365_CA_FILE         = a file holding e.CACertPEM()
//
// On first start it seeds one tenant, one app registration with a client secret, and an
// application user for that app with the System Administrator role (see Credentials and the
// Default* constants), or applies Options.Scenario instead (see Scenario for the YAML format and
// examples/scenarios for two complete ones). Tokens come from the Entra endpoints
// (/{tenant}/oauth2/v2.0/token and the v1 /{tenant}/oauth2/token) as RS256 JWTs in the claim set
// Dataverse receives; the Web API under /api/data/v9.2/ checks every token's signature, issuer,
// audience and lifetime, maps the app to its application user, and answers with Dataverse's
// status codes and error envelope. Dataverse's service protection limits, fault rules and a
// request log wrap everything (Limits, AddFault, RequestLog).
//
// State lives in SQLite: in memory by default, or in Options.DataDir, where the CA, the signing
// key, app registrations and records survive a restart. The directory is kept to its owner (mode
// 0700) and held by one emulator at a time (LockFile, ErrDataDirInUse). A restart hands out the
// credentials the stored state accepts (Credentials); secrets are stored hashed, so when it knows
// no working one it leaves ClientSecret empty and AddSecret makes a new one.
//
// Hostile input is bounded: headers and bodies must arrive within Options.ReadHeaderTimeout and
// Options.BodyReadTimeout (a body is read before the request is metered, so a slow sender holds
// no concurrent slot; one that stalls gets 408), a body whose nesting, values or members exceed
// what any row could need is refused before it is decoded, and a request with two Authorization
// headers gets 400.
//
// # Admin surface
//
// The portal steps and the failures of production are methods on *Emulator: tenants (AddTenant,
// Tenants), app registrations (CreateApp, Apps, SetAppEnabled, RemoveApp), client secrets with an
// expiry (AddSecret returns the value once, Secrets, RemoveSecret), certificates (AddCertificate,
// Certificates, RemoveCertificate), application users (CreateApplicationUser,
// SetApplicationUserRoles, SetApplicationUserEnabled, SetApplicationUserBusinessUnit,
// RemoveApplicationUser), security roles with prv<Verb><Table> privileges at a depth (CreateRole,
// Roles, SetRolePrivileges, RemoveRole, Privileges), business units (CreateBusinessUnit,
// BusinessUnits, SetBusinessUnitEnabled: a disabled one locks its users out); the whole
// state (Reset, Snapshot, Restore); time (SetClockOffset, SetTokenLifetime, RotateSigningKey);
// change tracking (SetExpireChangeTrackingInDays: how long delta tokens stay valid; the
// expireDeltaToken fault action expires them on demand);
// traffic (SetLimits, AddFault, RequestLog). Failures match ErrNotFound, ErrConflict or ErrInvalid
// with errors.Is and say what to fix.
//
// The same operations are JSON over HTTPS under /_emulator/ on the emulator's own listener,
// answered only to loopback callers (403 otherwise). Errors are
// {"error":{"code":"NotFound|Conflict|Invalid|Forbidden|MethodNotAllowed|Internal","message":…}}
// with 404, 409, 400, 403, 405 or 500. Lists are JSON arrays; durations are Go duration strings
// ("90s", "-2h"); times RFC 3339.
//
//	GET    /_emulator/health                          {"status":"ok"}
//	GET    /_emulator/tenants                         [Tenant]
//	POST   /_emulator/tenants                         {"id"?,"domain","displayName"?} -> 201 Tenant
//	GET    /_emulator/tenants/{id or domain}          Tenant
//	GET    /_emulator/apps[?tenant=…]                 [App]
//	POST   /_emulator/apps                            NewApp + optional "secret": {"displayName","expires"|"expiresIn","value"}
//	                                                  -> 201 App + "secret": Secret + "value" (shown this once)
//	GET    /_emulator/apps/{clientId}                 App
//	PATCH  /_emulator/apps/{clientId}                 {"disabled":bool} -> App
//	DELETE /_emulator/apps/{clientId}                 204
//	GET    /_emulator/apps/{clientId}/secrets         [Secret] (never values)
//	POST   /_emulator/apps/{clientId}/secrets         {"displayName"?,"expires"?|"expiresIn"?,"value"?} -> 201 Secret + "value"
//	DELETE /_emulator/apps/{clientId}/secrets/{id}    204
//	GET    /_emulator/apps/{clientId}/certificates    [Certificate]
//	POST   /_emulator/apps/{clientId}/certificates    {"pem":…} or {"der":base64} -> 201 Certificate
//	DELETE /_emulator/apps/{clientId}/certificates/{thumbprint or keyId}   204
//	GET    /_emulator/appusers                        [ApplicationUser]
//	POST   /_emulator/appusers                        NewApplicationUser -> 201 ApplicationUser
//	GET    /_emulator/appusers/{clientId}             ApplicationUser
//	PATCH  /_emulator/appusers/{clientId}             {"disabled"?:bool,"roles"?:[name],"businessUnit"?:name or id} -> ApplicationUser
//	DELETE /_emulator/appusers/{clientId}             204
//	GET    /_emulator/roles                           [Role]
//	POST   /_emulator/roles                           {"name","privileges":["prvReadContact:organization"|{"name","depth"}]} -> 201 Role
//	GET    /_emulator/roles/{name or id}              Role
//	PATCH  /_emulator/roles/{name or id}              {"privileges":[…]} replaces them -> Role
//	DELETE /_emulator/roles/{name or id}              204 (its users lose it)
//	GET    /_emulator/privileges                      [name]
//	GET    /_emulator/businessunits                   [BusinessUnit]
//	POST   /_emulator/businessunits                   {"name","parent"?} -> 201 BusinessUnit
//	GET    /_emulator/businessunits/{name or id}      BusinessUnit
//	PATCH  /_emulator/businessunits/{name or id}      {"disabled":bool} -> BusinessUnit (also disables those under it)
//	POST   /_emulator/reset                           204
//	GET    /_emulator/snapshots                       [name]
//	POST   /_emulator/snapshots                       {"name"} -> 201
//	POST   /_emulator/snapshots/{name}/restore        204
//	DELETE /_emulator/snapshots/{name}                204
//	GET    /_emulator/clock                           {"offset","now"}
//	PUT    /_emulator/clock                           {"offset":"-2h"} -> {"offset","now"}
//	GET    /_emulator/token-lifetime                  {"lifetime"}
//	PUT    /_emulator/token-lifetime                  {"lifetime":"5s"} -> {"lifetime"}
//	GET    /_emulator/change-tracking                 {"expireChangeTrackingInDays"}
//	PUT    /_emulator/change-tracking                 {"expireChangeTrackingInDays":7} -> {"expireChangeTrackingInDays"}
//	GET    /_emulator/signing-keys                    [SigningKey]
//	POST   /_emulator/signing-keys                    rotate -> 201 SigningKey
//	GET    /_emulator/limits                          Limits
//	PUT    /_emulator/limits                          Limits, or {"preset":"default|off|strict", …overrides}
//	GET    /_emulator/faults                          {"seed","faults":[FaultRule + "matched","fired"]}
//	POST   /_emulator/faults                          FaultRule -> 201 (Location: /_emulator/faults/{id})
//	DELETE /_emulator/faults                          204, every rule
//	GET    /_emulator/faults/{id}                     FaultStatus
//	DELETE /_emulator/faults/{id}                     204
//	GET    /_emulator/log[?after=&since=&status=&method=&path=&tenant=&app=&fault=&refused=&max=]
//	                                                  {"entries":[LogEntry]}
//	DELETE /_emulator/log                             204
//
// The JSON field names are those of the Go types' json tags (camelCase). The limits, faults and
// log routes are described in full by the traffic middleware's documentation, summarised on
// Limits, FaultRule and LogEntry.
//
// # Schema files
//
// Tables beyond the built-in ones (account, contact, systemuser, businessunit, team, role, task,
// organization) come from schema files, in YAML or JSON, named by a scenario's schema.files or
// written inline under its schema section (see Scenario). The format is SchemaDefinition; the
// built-in tables are written in it too. Field names are camelCase in both encodings, and an
// unknown field is an error:
//
//	tables:
//	  - logicalName: new_project      # required; the rest default as Dataverse does
//	    displayName: Project
//	    entitySetName: new_projects   # default: the plural of logicalName
//	    primaryNameColumn: new_name
//	    ownership: UserOwned          # UserOwned (default), OrganizationOwned, BusinessOwned, None
//	    columns:
//	      - {logicalName: new_name, type: String, maxLength: 100, requiredLevel: ApplicationRequired}
//	      - {logicalName: new_budget, type: Money, precision: 2}
//	      - {logicalName: new_start, type: DateTime, dateTimeBehavior: DateOnly, format: DateOnly}
//	      - logicalName: new_stage
//	        type: Picklist
//	        options: [{value: 1, label: Planned, color: "#0000ff"}, {value: 2, label: Running}]
//	      - {logicalName: new_priority, type: Picklist, optionSetName: new_priority} # a global choice
//	      - {logicalName: new_accountid, type: Lookup, targets: [account]}
//	    keys:
//	      - {schemaName: new_project_code, columns: [new_name]}
//	relationships:
//	  - {schemaName: new_account_new_project, referencedEntity: account, referencingEntity: new_project,
//	     referencingAttribute: new_accountid, cascadeDelete: RemoveLink}
//	  - {schemaName: new_project_contact, type: ManyToMany, entity1: new_project, entity2: contact}
//	optionSets:                       # global choices, shared by the columns that name them
//	  - name: new_priority
//	    displayName: Priority
//	    options: [{value: 100000000, label: Low}, {value: 100000001, label: High, color: "#ff0000"}]
//
// Column types are Dataverse's AttributeTypeCode names: String, Memo, Integer, BigInt, Decimal,
// Double, Money, Boolean, DateTime, Picklist, MultiSelectPicklist, State, Status, Lookup, Customer,
// Owner, Uniqueidentifier (or the aliases choice, choices, guid). Omitted values get Dataverse's
// defaults: the primary key is <logicalName>id; user-owned tables get ownerid, owninguser,
// owningteam and owningbusinessunit; every table gets createdon, modifiedon, createdby, modifiedby,
// createdonbehalfby, modifiedonbehalfby and versionnumber, and statecode/statuscode unless
// stateColumns is false. Every field of every level is listed, with its default, on
// TableDefinition, ColumnDefinition, OptionDefinition, OptionSetDefinition, FormulaDefinition,
// KeyDefinition and RelationshipDefinition. The Web API describes these tables as Dataverse does,
// in EntityDefinitions, RelationshipDefinitions, GlobalOptionSetDefinitions and $metadata.
//
// The emulator is a library first: start one per test with New (or emulatortest.New) and Close
// it when done. The d365 command runs the same emulator as a server (d365 emulator) and scripts
// the admin API (d365 emulator app create, app secret add/list/remove, appuser create, role
// create/set/remove, businessunit create/list/disable/enable, fault add, log, reset).
package emulator
