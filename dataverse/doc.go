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
//   - Records: Create, Retrieve, Update
//     (update-only, If-Match: *), Upsert with create-only and update-only
//     guards, Delete; the ByKey variants address a record by AlternateKey.
//     Optimistic concurrency passes a Record.ETag as IfMatch; a stale one
//     fails with 412 CodeConcurrencyVersionMismatch.
//   - Relationships: Record.Bind and Bind/BindKey
//     for "nav@odata.bind", Associate/Disassociate ($ref on collections),
//     SetReference/ClearReference (single-valued).
//   - Single columns: GetProperty, SetProperty, ClearProperty.
//   - Queries: a
//     Query value (Select, Filter, OrderBy, Top, Count, Expand, Apply,
//     MaxPageSize, Annotations); List returns one page; a Pager
//     (NewPager[T] for your struct type, Client.Pager for Records) follows
//     @odata.nextLink one page at a time, so memory stays flat, exposes
//     each page's NextLink for checkpoints (ResumePager continues from a
//     saved link), and Pager.All is an iter.Seq2 over every row. Count
//     reads set/$count; FetchXML pagers follow the paging-cookie protocol.
//     A GET whose URL exceeds 32 KB is sent inside a $batch automatically;
//     its page is then read whole rather than streamed.
//   - Batches: a Batch of requests and change sets with
//     Content-ID references, per-part headers and continue-on-error;
//     ExecuteBatch splits more than MaxBatchOperations operations into
//     several requests without splitting a change set and returns a
//     response per operation. A $batch response is read whole, up to
//     ClientOptions.MaxBatchResponseSize (DefaultMaxBatchResponseSize,
//     64 MiB).
//   - Bulk: CreateMultiple, UpdateMultiple and UpsertMultiple,
//     chunked by record count and payload size.
//   - Incremental sync: Client.NewSync reads a table's changes through
//     change tracking (upserts, deletes, and a reset before any full
//     load), keeping its position in a SyncCheckpoint after each page.
//   - Functions and actions: WhoAmI, RetrieveVersion,
//     RetrieveTotalRecordCount, and CallFunction / CallAction for any
//     function, action or custom API, unbound or bound.
//   - Anything else: Do sends a raw request relative to the Web API
//     base through the same pipeline.
//
// Every operation takes per-request options (RequestOptions, embedded in
// each XxxOptions): impersonation (CallerObjectID, CallerID), bypassing
// custom plug-ins or business logic, duplicate detection, the solution to
// add components to, Consistency: Strong, a plug-in tag and extra headers.
// Timeouts and cancellation come from the context.
//
// Filters are strings; build them with Filterf or the filter builder (Eq,
// And, Or, Not, Contains, In, Any, …) so that string values are quoted with
// their quotes doubled, GUIDs are bare and times are ISO-8601 UTC. The
// client percent-encodes every query option value the way JavaScript's
// encodeURIComponent does, so no value can split the query string.
//
// # Errors
//
// Input the client can judge before sending anything (an entity set,
// column or function name, a zero id, a value that cannot be a literal or
// key, query and request options, a record that cannot be encoded, a link
// outside the Web API base) is checked first: such errors say what to fix
// and wrap ErrInvalidArgument, and nothing was sent.
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
//     Retry-After the service sent (a throttled request was not executed),
//     without counting against Retry.MaxRetries: a throttled call is
//     retried until its context's deadline or ClientOptions.MaxRetryWait;
//   - 502, 503, 504 (or ClientOptions.Retry.StatusCodes) and connection
//     errors are retried only for idempotent requests (GET, PUT, DELETE,
//     PATCH); a POST that creates a record or runs an action is never
//     repeated, because it may have been executed. A conditional PATCH
//     (an ETag in IfMatch, UpsertCreateOnly) whose first try did run
//     comes back from its retry as a 412, since the first try changed the
//     version or created the record: after a 412 from such a call, read
//     the record to see whether it already holds your change;
//   - a 401 with a bearer challenge makes the token policy drop its cached
//     token, ask the credential again and resend the request once; when the
//     credential's own cache hands out the rejected token again, a
//     credential implementing TokenRefresher (auth.NewCredential's does) is
//     asked for a new one, and without a new token nothing is resent;
//   - the wait before a retry is the response's Retry-After (delay-seconds,
//     a decimal fraction of seconds, or an HTTP date), else azcore's
//     exponential backoff; a Retry-After over Retry.MaxRetryDelay is not
//     waited for;
//   - ClientOptions.MaxRetryWait bounds the sum of the waits of one call,
//     and cancelling the context stops a wait at once; a wait that would
//     end after the context's deadline is not started, so a call with a
//     short deadline gets the 429 (IsThrottled, with its RetryAfter) or
//     503 at once rather than "context deadline exceeded".
//
// azcore's retry policy runs the tries; the decision and the wait are the
// client's (one place decides every wait, one place takes it: see the
// comment at the top of retry.go). Retry counts and delays come from ClientOptions.Retry (azcore's
// policy.RetryOptions: MaxRetries, RetryDelay, MaxRetryDelay, TryTimeout);
// setting Retry.ShouldRetry replaces the decision above entirely (azcore
// then waits as it does for any client), and so does a per-call
// policy.WithRetryOptions context (azcore's per-call override replaces all
// retry options, including the Dataverse decision).
//
// # Throughput: the Governor
//
// Dataverse's service protection limits count per application user, so
// every Client of the process that authenticates as the same application
// user to the same environment shares one [Governor] (Client.Governor
// returns it). Every request passes it:
//
//   - at most Governor.Limit requests are in flight: 5 until the service
//     sends x-ms-dop-hint (its recommended degree of parallelism, read from
//     every response), then the hint, never above it;
//   - a 429 for concurrent requests (0x80072326) halves the limit, and
//     successes raise it by one per round, up to the hint (AIMD);
//   - a 429 for the number of requests (0x80072322) or the execution time
//     (0x80072321) pauses every request of the application user until its
//     Retry-After has passed; the waiting requests resume with jitter.
//
// Size a pool of workers with Governor.Limit and report with
// Governor.Stats; ClientOptions.Governor tunes or disables it. The default
// HTTP client sends no cookies (Dataverse's server-affinity cookie is never
// replayed, so requests spread over the web servers) and keeps an HTTP/1.1
// connection for every request the Governor admits (docs/benchmarks.md).
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/send-parallel-requests
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
// headers can be allowed with ClientOptions.Logging.AllowedHeaders, except
// Authorization and Proxy-Authorization, which stay REDACTED even when
// listed there.
//
// Set the listener before NewClient, as azcore asks of its callers. The
// first try of a GET or HEAD without a body skips azcore's pipeline when
// nothing could tell: it goes straight to the Client's transport (your
// ClientOptions.Transport, so a transport that records requests still sees
// it) with the access token the pipeline's bearer policy holds, the same
// User-Agent and headers, and the Governor's admission, which saves about
// 10 µs of CPU and 39 allocations per call (docs/benchmarks.md). Any outcome
// but a success continues in the pipeline as if it had sent that try
// itself: the retries, the waits, a 401's challenge and the errors are
// the pipeline's, and nothing is sent twice. NewClient allows this only
// when azcore's log has no listener for EventRequest, EventResponse or
// EventRetryPolicy (it asks a throwaway pipeline that reaches no network;
// such a listener sees that probe's request, to logging-probe.invalid),
// no TracingProvider is set, and there are no per-call or per-retry
// policies and no Retry.ShouldRetry of the caller; and per call only when
// the context carries none of azcore's per-call values
// (policy.WithHTTPHeader, WithRetryOptions, WithCaptureResponse) and the
// bearer policy's token is more than its refresh margin (5 minutes, or its
// RefreshOn) from renewal. So a listener set before NewClient sees every
// try of every call; one set later sees the tries that go through the
// pipeline only.
//
// For OpenTelemetry, set ClientOptions.TracingProvider to
// azotel.NewTracingProvider(otel.GetTracerProvider(), nil) from
// github.com/Azure/azure-sdk-for-go/sdk/tracing/azotel: every client
// method then opens a span ("Client.Create", …) with a child span per HTTP
// attempt.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/overview
package dataverse
