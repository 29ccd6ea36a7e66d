// Package dataverse is a client for the Microsoft Dataverse Web API (the
// OData v4 API of Dynamics 365 and Power Platform environments) built on
// the Azure SDK for Go's azcore pipeline.
//
// # Creating a client
//
// A Client needs the environment URL and an azcore.TokenCredential, for
// example an azidentity.ClientSecretCredential for server-to-server
// authentication with an app registration:
//
//	cred, _ := azidentity.NewClientSecretCredential(tenantID, clientID, secret, nil)
//	client, err := dataverse.NewClient("https://contoso.crm.dynamics.com", cred, nil)
//
// The client asks for tokens with the scope "<environment URL>/.default".
// One Client is safe for concurrent use and reuses its token and its
// connections; create one per environment and share it.
//
// # Operations
//
// Records: Create, Retrieve, Update (update-only, If-Match: *), Delete and
// List (one page). Collections page through @odata.nextLink with a Pager
// (NewPager[T] for your own struct type, Client.Pager for Records); each
// page exposes its NextLink so long jobs can checkpoint and resume with
// ResumePager. Pager.All is an iter.Seq2 over every row. Rows decode into
// your struct type or into a Record, whose helpers read the ETag, formatted
// values and lookups. WhoAmI checks authentication. Do sends any other
// request relative to the Web API base.
//
// Filters are strings; build them with Filterf or the filter builder so
// that string values are quoted with their quotes doubled, GUIDs are bare and times are ISO-8601
// UTC. The client percent-encodes every query option value the way
// JavaScript's encodeURIComponent does.
//
// # Errors
//
// Every response with a status outside 2xx becomes a *ResponseError with
// the HTTP status, the Dataverse error code (e.g. CodeObjectDoesNotExist,
// "0x80040217"), the message, Retry-After and the service request id; use
// errors.As, or IsNotFound, IsThrottled, IsPreconditionFailed,
// IsUnauthorized, IsForbidden and HasCode. Errors never contain request
// headers, so never the access token; a 401 names the resource and
// authority of the service's challenge, a 403 for a missing application
// user says how to create one.
//
// # Retries
//
// Requests go through azcore's retry policy with a Dataverse-specific
// decision:
//
//   - 429 Too Many Requests is retried for every request after the
//     Retry-After the service sent (a throttled request was not executed);
//   - 502, 503, 504 (or ClientOptions.Retry.StatusCodes) and connection
//     errors are retried only for idempotent requests (GET, PUT, DELETE,
//     PATCH); a POST that creates a record or runs an action is never
//     repeated, because it may have been executed;
//   - a 401 with a bearer challenge makes the token policy drop its cached
//     token, ask the credential again and resend the request once;
//   - ClientOptions.MaxRetryWait bounds the total wait of one call, and
//     cancelling the context stops a wait at once.
//
// Retry counts and delays come from ClientOptions.Retry (azcore's
// policy.RetryOptions: MaxRetries, RetryDelay, MaxRetryDelay, TryTimeout);
// setting Retry.ShouldRetry replaces the decision above entirely.
//
// # Logging and tracing
//
// The pipeline logs through azcore's log package. Request and response
// headers are logged with their values REDACTED except an allow-list of
// diagnostic headers (request ids, Retry-After, rate-limit headers,
// OData-EntityId, Preference-Applied, ETags); the Authorization header is
// never printed. To send the log to log/slog:
//
//	azlog.SetListener(func(ev azlog.Event, msg string) {
//		slog.Debug(msg, "event", string(ev))
//	})
//	azlog.SetEvents(azlog.EventRequest, azlog.EventResponse, azlog.EventRetryPolicy)
//
// where azlog is github.com/Azure/azure-sdk-for-go/sdk/azcore/log. More
// headers can be allowed with ClientOptions.Logging.AllowedHeaders.
//
// For OpenTelemetry, set ClientOptions.TracingProvider to
// azotel.NewTracingProvider(otel.GetTracerProvider(), nil) from
// github.com/Azure/azure-sdk-for-go/sdk/tracing/azotel: every client
// method then opens a span ("Client.Create", …) with a child span per HTTP
// attempt.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/overview
package dataverse
