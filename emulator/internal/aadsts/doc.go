// Package aadsts is Microsoft Entra ID's error vocabulary, shared by the emulator's token service
// (package identity) and its fault injection (package traffic), so that a fault that answers
// "AADSTS7000222" says exactly what the token service says when a secret has really expired.
//
// It holds:
//
//   - the catalogue of AADSTS answers the emulator gives: one constructor per failure, each
//     with Entra's HTTP status, OAuth 2.0 error code ("invalid_client", …), AADSTS number and
//     wording (shared/reference/entra.md §1.5–1.6); Lookup finds an entry by its number;
//   - the JSON shape of Entra's error responses (error, error_description "AADSTSnnnn: …
//     Trace ID: … Correlation ID: … Timestamp: …", error_codes, timestamp, trace_id,
//     correlation_id, error_uri) and Write, which answers with it and Entra's headers.
//
// Wording follows real Entra responses quoted in public issue trackers and Microsoft's docs;
// entries marked [unverified] are best guesses, each in one place so it is easy to change.
package aadsts
