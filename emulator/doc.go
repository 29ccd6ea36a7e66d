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
// Default* constants). Tokens come from the Entra endpoints (/{tenant}/oauth2/v2.0/token and the
// v1 /{tenant}/oauth2/token) as RS256 JWTs in the claim set Dataverse receives; the Web API under
// /api/data/v9.2/ checks every token's signature, issuer, audience and lifetime, maps the app to its
// application user, and answers with Dataverse's status codes and error envelope.
//
// State lives in SQLite: in memory by default, or in Options.DataDir, where the CA, the signing
// key, app registrations and records survive a restart.
//
// The emulator is a library first: start one per test with New and Close it when done. The d365
// command runs the same emulator as a server (d365 emulator).
package emulator
