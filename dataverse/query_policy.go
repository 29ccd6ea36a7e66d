package dataverse

import (
	"net/http"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// Keeping the query string away from azcore's retry policy.
//
// azcore's retry policy starts every try with
//
//	log.Writef(log.EventRetryPolicy, "=====> Try=%d for %s %s", try, method, sanitizer.GetSanitizedURL(*url))
//
// and Go evaluates the arguments before Writef looks for a listener, so
// every try of every call parses the query string, redacts it, sorts and
// re-encodes it and formats the URL, whether or not anything logs:
// about 11 allocations and 2-3 µs of CPU per GET with a $select (see
// docs/benchmarks.md, "CPU per GET"). A URL without a query skips the
// parsing and re-encoding.
//
// deferQueryPolicy (a per-call policy, so it runs before the retry policy)
// takes the query off the request's URL and keeps it as an operation value;
// restoreQueryPolicy (a per-retry policy, so it runs on each try's copy of
// the request, before the logging policy and the transport) puts it back.
// The server, the logging policy (which sanitises only when a listener
// wants requests), tracing and the *ResponseError (built from the
// response's request) all see the full URL; only the retry policy's
// "=====> Try" line shows the path alone.
//
// newPipeline (client.go) appends deferQueryPolicy to the per-call
// policies, after the caller's (so those still see the query), and puts
// restoreQueryPolicy first among the per-try policies (so attemptPolicy,
// the bearer policy, governPolicy and the caller's per-try policies all
// see it).
//
// query_policy_test.go checks the pair in a Client's pipeline.

// deferredQuery is the operation value carrying a request's query string
// from deferQueryPolicy to restoreQueryPolicy.
type deferredQuery string

// deferQueryPolicy takes the query string off the request URL before the
// retry policy sees it. See restoreQueryPolicy.
type deferQueryPolicy struct{}

// Do implements policy.Policy.
func (deferQueryPolicy) Do(req *policy.Request) (*http.Response, error) {
	u := req.Raw().URL
	if u.RawQuery == "" {
		return req.Next()
	}
	q := u.RawQuery
	req.SetOperationValue(deferredQuery(q))
	u.RawQuery = ""
	resp, err := req.Next()
	u.RawQuery = q // the caller's request is as it was
	return resp, err
}

// restoreQueryPolicy puts back, on each try's request, the query string
// deferQueryPolicy kept.
type restoreQueryPolicy struct{}

// Do implements policy.Policy.
func (restoreQueryPolicy) Do(req *policy.Request) (*http.Response, error) {
	var q deferredQuery
	if req.OperationValue(&q) && q != "" && req.Raw().URL.RawQuery == "" {
		req.Raw().URL.RawQuery = string(q)
	}
	return req.Next()
}
