// Package traffic is the emulator's HTTP middleware for what goes wrong in production:
// Dataverse's service protection limits, injected faults, and a request log that says why each
// request was refused.
//
// # Wiring
//
// One Controller wraps the emulator's whole handler; the emulator mounts its admin routes:
//
//	tc, err := traffic.New(traffic.Options{
//		Limits: o.Limits, // nil: Dataverse's defaults
//		Faults: o.Faults,
//		Seed:   o.FaultSeed,
//		Now:    e.clock.Now, // the emulator's clock, offset included (fault windows, log times)
//		// The one caller-identity middleware: Web API bearer tokens (validated once),
//		// the token endpoint's tenant path segment and client_id.
//		Identity:  caller.Middleware(validateToken),
//		Challenge: api.Challenge(), // the Web API's WWW-Authenticate value (caller.Challenge)
//		Logger:    logger.With("component", "traffic"),
//	})
//	tc.RegisterAdmin(adminMux)
//	server.Handler = tc.Wrap(mux)
//
// The controller runs the identity middleware itself, once the body has arrived, and only reads
// the caller it puts in the request context (caller.FromContext); so does the Web API behind it.
// When the Web API answers 401, the request log gives the caller's Refusal as the reason.
// A handler may say why it refuses a request with SetReason; the words go to the request log and
// must never hold a token or a secret.
//
// # Order of work per request
//
// Requests under the admin prefix (/_emulator/) pass straight through, unlogged. Every other
// request with two or more Authorization headers is refused with 400 before either is read.
// Then its body is read ahead, within Options.BodyReadTimeout (408 when it stalls) and through
// Options.BodyMeter (which may refuse it while it arrives), before anything meters the request:
// a slow sender holds no concurrent slot and spends no execution time. The request is then
// identified (Options.Identity), checked against the fault rules, then, when it is a
// Web API request (/api/data/) from a known application, checked against the service protection
// limits; it is served, and logged. A request answered by a fault is not metered. An injected
// delay (a latency rule) on a metered request is waited after admission: the request holds one of
// its caller's concurrent slots while it waits, and the wait counts towards the combined execution
// time, as a slow request does in Dataverse.
//
// # Service protection limits
//
// Counted per application user (tenant and app id), for Web API requests from authenticated
// callers only (webapi.md §5.1). A $batch is one request whose execution time accrues. The
// three limits, each off when zero:
//
//   - Requests: requests admitted in a sliding window (default 6,000 per 300 s), exact: the
//     window keeps each admitted request's arrival time. Refused with 429 0x80072322 "Number
//     of requests exceeded the limit of 6000 over time window of 300 seconds."
//   - ExecutionTime: the combined wall time of the handler for requests that finished in the
//     window (default 1,200,000 ms per 300 s), kept in Window/256 granules. Checked on arrival,
//     so a burst of long requests overshoots before it is refused, as in Dataverse. Refused with
//     0x80072321 "Combined execution time of incoming requests exceeded limit of 1,200,000
//     milliseconds over time window of 300 seconds. Decrease number of concurrent requests or
//     reduce the duration of requests and try again later."
//   - Concurrent: requests in flight (default 52); trips immediately. Refused with 0x80072326
//     "Number of concurrent requests exceeded the limit of 52."
//
// Numbers in the messages are the configured ones. A refusal is 429 Too Many Requests with
// Content-Type "application/json; odata.metadata=minimal", OData-Version 4.0, the Dataverse
// envelope {"error":{"code":…,"message":…}} and Retry-After in whole seconds. Every metered
// response (refusals included) carries x-ms-ratelimit-burst-remaining-xrm-requests (requests
// left in the window, counting this one) and x-ms-ratelimit-time-remaining-xrm-requests
// (execution time left, in seconds as Dataverse writes it: "1,200.00"); a header is left out
// when its limit is off.
//
// Retry-After rule (deterministic):
//
//   - Rate limits: the first refusal of a refusal period answers Retry-After = ⌈time until both
//     windows admit the caller again⌉, at least 1, and fixes the admission time (that request's
//     arrival plus its Retry-After) for every request of the application user. A request that
//     arrives before the admission time is refused with the same code even when the window
//     would admit it. A request arriving within a second of the period's first refusal
//     (retryAfterReactionTime, [unverified]) was in flight when the limit was reached: it gets
//     the seconds left until the admission time and does not lengthen anything. A later one is
//     a caller that had been told a Retry-After and came back early: it gets a longer
//     Retry-After of its own, the seconds left plus one for every early return of the period,
//     this one included ("strikes", at most 300). Early requests never move the admission
//     time, so parallel
//     workers of one application user that each honour their Retry-After never lock each other
//     out: each comes back at or after the admission time and is admitted unless the window has
//     meanwhile been refilled (then a new period starts, strikes from zero). A client that keeps
//     hammering sees Retry-After grow by a second per early return.
//   - Concurrency: Retry-After 1 and no strikes (the limit clears as soon as a request ends).
//
// # Clocks
//
// The limits run on the monotonic wall clock (time elapsed since the Controller was made), and
// so do the durations in the request log: moving the emulator's clock (Options.Now, which
// SetClockOffset moves) neither freezes a window nor charges execution time. The emulator's clock
// places the fault rules' time windows (from, until, for) and stamps the log's entries and
// Entra's error timestamps, which must follow the emulated time.
//
// Refused requests are not counted in the windows. SetLimits starts every window afresh.
//
// Presets: LimitsDefault (Dataverse's), LimitsOff (nothing metered, no headers), LimitsStrict
// (20 requests and 5 s of execution time per 10-second window, 4 concurrent: reached in seconds by
// a demo loop). A test that wants a 429 in milliseconds sets, say, Limits{Requests: 2, Window:
// time.Second}: the third request is refused with Retry-After: 1.
//
// # Fault rules
//
// A FaultRule has a match, a trigger and an action. JSON (the admin API) and YAML (scenario
// files) share one form, field names camelCase, durations as Go duration strings, times as
// RFC 3339:
//
//	{
//	  "id": "contacts-down",                 // optional; "f1", "f2", … when absent
//	  "description": "contacts fail twice",
//	  "match": {
//	    "pathPrefix": "/api/data/v9.2/",     // URL path prefix
//	    "table": "contacts",                 // Web API entity set ("$batch", "WhoAmI" work too)
//	    "methods": ["GET", "POST"],
//	    "tenantId": "…", "appId": "…"        // the caller's (case-insensitive; a tenant
//	                                         // domain is resolved to its GUID on both sides)
//	  },
//	  "trigger": {
//	    "nth": 3,                            // first call that may fire (1-based)
//	    "count": 2,                          // calls from nth on; 0: 1 with nth, all without; -1: all
//	    "probability": 0.5,                  // per selected call, seeded
//	    "from": "2025-01-31T09:00:00Z", "until": "…", "for": "30s"
//	  },
//	  "action": {
//	    "kind": "error",                     // error | throttle | latency | drop | tokenEndpointDown | expireDeltaToken
//	    "status": 503,                       // error: 400–599 (a known AADSTS code brings its own)
//	    "shape": "dataverse",                // dataverse | entra; default by path and code
//	    "code": "0x80040216",                // or "AADSTS7000222" for Entra
//	    "error": "invalid_client",           // Entra's OAuth error
//	    "message": "…",                      // Entra: without the "AADSTSnnnn: " prefix
//	    "retryAfter": 5,                     // seconds; throttle defaults to 1
//	    "delay": "2s",                       // latency
//	    "drop": true                         // tokenEndpointDown: drop instead of 503
//	  }
//	}
//
// Every call a rule matches (inside its time window) gets the next number n for that rule;
// nth/count select calls by number, then probability decides with a draw that depends only on
// the seed, the rule id and n, so the same seed replays the same failures. Latency rules that
// fire add up, then the first other rule that fires answers the request (later rules still count
// the call). A cancelled request stops waiting out an injected delay. Actions:
//
//   - error: Status with a Dataverse envelope (Web API paths, Dataverse codes) or Entra's error
//     JSON (other paths, AADSTS codes): error, error_description "AADSTSnnnn: … Trace ID: …
//     Correlation ID: … Timestamp: …", error_codes, timestamp, trace_id, correlation_id (the
//     caller's client-request-id when it is a GUID), error_uri. Defaults: Dataverse 429 →
//     0x80072322 and the limit's message (0x80072321 and 0x80072326 get theirs); 500 →
//     0x80040216 "An unexpected error occurred."; a Web API 401 without code and message →
//     empty body with Options.Challenge as WWW-Authenticate; otherwise 0x80040216 and
//     "<status text> (injected by the emulator's fault rule <id>)." Dataverse codes are
//     answered as written (Dataverse writes them in lower case). An AADSTS code the token
//     service knows brings its OAuth error, its wording (the caller's client ID and tenant
//     filled in) and, when status is absent, its status, from the catalogue both share (package
//     aadsts): 7000222, 7000215, 7000218 → 401 invalid_client; 700016 → 400
//     unauthorized_client; 90002 → 400 invalid_request; 1002012, 70011 → 400 invalid_scope;
//     500011 → 400 invalid_resource; … Entra-shaped defaults by status alone: 429 →
//     AADSTS90055; 5xx → AADSTS90033 temporarily_unavailable/server_error; 401 →
//     invalid_client AADSTS7000215; other 4xx → invalid_request AADSTS900144.
//   - throttle: 429 with Retry-After (1 unless retryAfter says otherwise), bodies as above.
//   - latency: waits delay, then passes the request on. On Web API paths the wait comes after
//     the service protection check, so a delayed request holds one of its caller's concurrent
//     slots and its wait counts towards the combined execution time, as a slow request does.
//     Rules are counted before that check, so a latency rule that fires on a request the limits
//     then refuse is spent without delaying anything (the log still names it).
//   - drop: closes the connection without a response (HTTP/1 hijack; HTTP/2 stream reset).
//     Go's HTTP client silently retries an idempotent request once when a reused connection is
//     closed before any response, so make such a rule fire on more than one call (or use POST)
//     if the client must see the error.
//   - tokenEndpointDown: on /{tenant}/oauth2/... only: 503 temporarily_unavailable AADSTS90033
//     (Entra's JSON), or with drop a dropped connection.
//   - expireDeltaToken: on Web API requests carrying $deltatoken only (others neither match nor
//     count): 400 0x80044352 "Version stamp associated with the client has expired. Please
//     perform a full sync."
//
// Decoding validates and names the field: "fault rule: trigger.probability: 1.5 is not between 0
// and 1 (0 or absent means always)"; unknown fields are refused; type errors name the format
// the author wrote ("got a YAML number, want a string" in a scenario file). ReplaceFaults swaps
// the whole list in one step (what the emulator's Reset does), keeping resolved time windows.
//
// # Request log
//
// A ring of the last Options.LogSize requests (default 10,000): seq, time, method, path (Web API
// query strings kept with token-like values REDACTED; other paths without query), status,
// outcome (dropped, cancelled, aborted), tenant, app, duration, and for every refusal (status
// >= 400, dropped, faulted) the reason in words: from SetReason, else the error body (the
// Dataverse envelope's message, the first sentence of Entra's error_description), else the
// fault or limit; plus the error code, the limit and the fault rule ids. Only the first 8 KiB of
// error bodies are looked at; success bodies, request bodies, tokens and secrets are never kept.
//
// # Admin API
//
// Under Options.AdminPrefix (default /_emulator/), served by AdminHandler or added to a mux by
// RegisterAdmin; JSON in and out, errors as {"error":{"code":"Invalid|NotFound|Conflict|
// MethodNotAllowed|Internal","message":"<what is wrong and how to fix it>"}}:
//
//	GET    /_emulator/limits          200 {"requests":6000,"executionTime":"20m0s","concurrent":52,"window":"5m0s","dopHint":16}
//	PUT    /_emulator/limits          body: limits, optionally {"preset":"strict", …overrides}; 200 the limits in force
//	GET    /_emulator/faults          200 {"seed":…,"faults":[rule + "matched","fired"]}
//	POST   /_emulator/faults          body: one rule; 201 the rule with its id, Location: /_emulator/faults/{id};
//	                                  400 invalid rule, 409 id in use
//	DELETE /_emulator/faults          204, removes every rule
//	GET    /_emulator/faults/{id}     200 the rule with its counters; 404
//	DELETE /_emulator/faults/{id}     204; 404
//	GET    /_emulator/log             200 {"entries":[{"seq","time","method","path","status","outcome",
//	                                  "tenantId","appId","durationMs","reason","code","limit","faults"}]}
//	                                  query: after=<seq>, since=<RFC 3339>, status=429 | 401,403 | 4xx,
//	                                  method, path (prefix), tenant, app, fault=<id>, refused=true,
//	                                  max=<n>
//	DELETE /_emulator/log             204
package traffic
