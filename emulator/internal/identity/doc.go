// Package identity is the emulator's Microsoft Entra ID (Azure AD) token service.
//
// It serves what a confidential client needs for the OAuth 2.0 client-credentials grant against
// a Dataverse organization, over the emulator's HTTPS listener:
//
//   - POST /{tenant}/oauth2/v2.0/token (scope=<org>/.default) and POST /{tenant}/oauth2/token
//     (v1, resource=<org>), with client_secret_post, client_secret_basic and private_key_jwt
//     (certificate) client authentication;
//   - OpenID Connect discovery documents (v1 and v2), the JSON Web Key Sets and the instance
//     discovery endpoint that MSAL calls;
//   - Entra's error responses: the JSON shape, the HTTP status, the AADSTS code and wording.
//
// Access tokens are RS256 JWTs in the v1 claim set Dataverse receives (iss
// https://sts.windows.net/{tid}/, aud = the organization URL, appid, appidacr, oid, sub, tid,
// idtyp=app, ver 1.0), signed with a persisted RSA key whose certificate is published in the
// JWKS. [Service.ValidateAccessToken] is what the emulated Dataverse uses to check them.
//
// State lives in the caller's SQLite database, reached through [Storage], in tables prefixed entra_: tenants, app
// registrations (service principals), client secrets (only a salted hash and the 3-character hint
// Entra shows are stored), certificates and signing keys. A restart on the same database keeps
// them, and tokens issued before the restart still validate.
//
// The protocol details follow the project's Entra reference (shared/reference/entra.md). Where a detail could not be
// checked against a primary source the code says so with "[unverified]" next to a single constant
// or table entry, so it is easy to change.
package identity
