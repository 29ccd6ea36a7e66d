// Package auth turns configuration into an Azure SDK token credential for Dataverse
// server-to-server access, and turns Entra ID failures into errors that say what to fix.
//
// # Configuration
//
// A [Config] names the Dataverse environment (OrgURL), the Entra ID tenant and app, and one
// credential: a client secret, a certificate, or one of azidentity's other kinds chosen with
// Method. Its fields are plain values; [LoadConfig] fills the ones left empty from the
// environment (set fields win), with the variables azidentity's EnvironmentCredential reads:
//
//	D365_URL                           OrgURL              https://contoso.crm.dynamics.com
//	AZURE_TENANT_ID                    TenantID            Directory (tenant) ID
//	AZURE_CLIENT_ID                    ClientID            Application (client) ID
//	AZURE_CLIENT_SECRET                ClientSecret        client secret Value
//	AZURE_CLIENT_CERTIFICATE_PATH      CertificatePath     PEM or PKCS#12 certificate
//	AZURE_CLIENT_CERTIFICATE_PASSWORD  CertificatePassword PKCS#12 password
//	AZURE_AUTHORITY_HOST               AuthorityHost       Entra ID authority (inferred when empty)
//	D365_CA_FILE                       CAFile              extra CA to trust (the emulator's ca.pem)
//	D365_AUTH_METHOD                   Method              auto, secret, certificate, managed-identity,
//	                                                       workload-identity, azure-cli
//	AZURE_FEDERATED_TOKEN_FILE         FederatedTokenFile  for workload identity
//
// [Config.Validate] reports every missing or invalid setting at once, naming the variable and
// the Config field to set ("set AZURE_TENANT_ID or Config.TenantID"). auth knows no command-line
// flags: a program that sets the fields from flags replaces each [Setting.FieldRef] in a message
// with its flag, as the d365 CLI does. Secrets are of type [Secret], which prints as [REDACTED]
// everywhere.
//
// # Clouds
//
// [Config.Cloud] infers the Entra ID authority from the org URL's host: *.dynamics.com (commercial
// and US GCC) uses login.microsoftonline.com, *.microsoftdynamics.us and *.appsplatform.us (GCC
// High, DoD) use login.microsoftonline.us, *.dynamics.cn uses login.chinacloudapi.cn. An explicit
// AuthorityHost wins; for a host that is not a Microsoft login host (the emulator) instance
// discovery is turned off so nothing calls login.microsoftonline.com.
//
// # Credentials
//
// [NewCredential] returns an azcore.TokenCredential backed by azidentity, which caches tokens and
// refreshes them five minutes before expiry. Create one per process and share it. Its
// RefreshToken method gets a new token past that cache; the dataverse client uses it (as a
// dataverse.TokenRefresher) when the service rejects a token the cache still holds for valid. Its failures
// are an *[EntraError] (AADSTS code, Entra's trace and correlation IDs, and an explanation with
// the fix) or an *[ExplainedError] (untrusted CA, unknown host, refused connection). [Explain]
// does the same for errors that reach the caller through other clients.
//
// [Config.HTTPClient] gives one keep-alive HTTP client that trusts CAFile, to share between the
// credential and the Dataverse client. [FailFastOnTLSErrors] stops azcore from retrying
// certificate errors, which retrying cannot fix.
//
// # Which tenant does an environment trust?
//
// Dataverse answers an unauthenticated request with 401 and a challenge naming its tenant and
// authority. [DiscoverChallenge] asks for it, [ParseChallenge] and [NewChallenge] read it, and
// [Config.CheckChallenge] explains a 401 caused by the wrong tenant, cloud or org URL.
//
// # Tokens
//
// [DecodeClaims] decodes, without verifying, an access token's claims (aud, appid, tid, exp …)
// for display.
package auth
