package auth

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/d365s2s/d365/internal/httpheader"
)

// EntraError is an Entra ID (AADSTS) token-endpoint failure, parsed from the response body and
// explained for a Dataverse server-to-server setup. Credentials from [NewCredential] return it
// from GetToken; [Explain] produces it from any error chain holding an
// *azidentity.AuthenticationFailedError. Inspect it with errors.As:
//
//	var ee *auth.EntraError
//	if errors.As(err, &ee) && ee.Code == 7000215 { … }
//
// The original error stays reachable through Unwrap, so errors.As with
// *azidentity.AuthenticationFailedError keeps working. Neither the client secret nor any token
// appears in its text: Entra's response bodies carry neither.
type EntraError struct {
	// Code is the AADSTS number, e.g. 7000215; 0 when the response carried none.
	Code int
	// Codes is Entra's error_codes array (usually just Code).
	Codes []int
	// OAuthError is the OAuth 2.0 error code, e.g. "invalid_client".
	OAuthError string
	// Description is Entra's error_description without its trailing Trace ID/Correlation
	// ID/Timestamp lines. Microsoft warns its wording can change: branch on Code, not on it.
	Description string
	// TraceID, CorrelationID and Timestamp identify the failed request for Microsoft support.
	TraceID       string
	CorrelationID string
	Timestamp     time.Time
	// ErrorURI is Entra's link to the code's documentation.
	ErrorURI string
	// StatusCode is the HTTP status of the token response, e.g. 400 or 401.
	StatusCode int
	// RetryAfter is the Retry-After delay of a throttled (429/503) response; 0 when absent.
	RetryAfter time.Duration
	// Explanation says what the failure means for this setup, e.g. "the client secret is wrong".
	Explanation string
	// Fix says what to do, e.g. "use the secret's Value, not its Secret ID, …".
	Fix string

	err error
}

// Error returns "AADSTSnnnn: <explanation> — <fix>" plus the trace and correlation IDs.
func (e *EntraError) Error() string {
	var b strings.Builder
	b.WriteString(e.label())
	b.WriteString(": ")
	b.WriteString(e.Explanation)
	if e.Fix != "" {
		b.WriteString(" — ")
		b.WriteString(e.Fix)
	}
	if e.TraceID != "" || e.CorrelationID != "" {
		fmt.Fprintf(&b, " (trace ID %s, correlation ID %s)", orDash(e.TraceID), orDash(e.CorrelationID))
	}
	return b.String()
}

// Unwrap returns the credential's original error (an *azidentity.AuthenticationFailedError).
func (e *EntraError) Unwrap() error { return e.err }

// Format implements fmt.Formatter: %+v prints every field on its own line, for a verbose
// diagnostic; other verbs print Error().
func (e *EntraError) Format(f fmt.State, verb rune) {
	if verb != 'v' || !f.Flag('+') {
		fmt.Fprint(f, e.Error())
		return
	}
	fmt.Fprintf(f, "%s: %s", e.label(), e.Explanation)
	line := func(k, v string) {
		if v != "" {
			fmt.Fprintf(f, "\n  %-15s %s", k+":", v)
		}
	}
	line("Fix", e.Fix)
	line("OAuth error", e.OAuthError)
	if e.StatusCode != 0 {
		line("HTTP status", strconv.Itoa(e.StatusCode))
	}
	line("Entra says", e.Description)
	line("Trace ID", e.TraceID)
	line("Correlation ID", e.CorrelationID)
	if !e.Timestamp.IsZero() {
		line("Timestamp", e.Timestamp.UTC().Format(time.RFC3339))
	}
	if e.RetryAfter > 0 {
		line("Retry after", e.RetryAfter.String())
	}
	line("Reference", e.ErrorURI)
}

func (e *EntraError) label() string {
	if e.Code != 0 {
		return "AADSTS" + strconv.Itoa(e.Code)
	}
	if e.OAuthError != "" {
		return "Entra ID " + e.OAuthError
	}
	return "Entra ID HTTP " + strconv.Itoa(e.StatusCode)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// entraErrorBody is the JSON Entra ID returns from its token endpoints on failure.
type entraErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
}

var aadstsCode = regexp.MustCompile(`AADSTS(\d+)`)

// entraTimestampLayouts are the forms Entra's "timestamp" takes ("2024-05-01 10:11:12Z") plus RFC 3339.
var entraTimestampLayouts = []string{"2006-01-02 15:04:05Z07:00", "2006-01-02 15:04:05.9999999Z07:00", time.RFC3339Nano}

// newEntraError parses an Entra error response. It reads the body through runtime.Payload, which
// caches it, so the AuthenticationFailedError that carries the response can still print it. It
// returns nil when the body is not Entra's error JSON and the status is not a throttling one.
func newEntraError(resp *http.Response, cause error, h hints) *EntraError {
	body, _ := runtime.Payload(resp)
	var eb entraErrorBody
	parsed := json.Unmarshal(body, &eb) == nil && (eb.Error != "" || len(eb.ErrorCodes) > 0)
	throttled := resp.StatusCode == http.StatusTooManyRequests
	if !parsed && !throttled {
		return nil
	}
	e := &EntraError{
		Codes:         eb.ErrorCodes,
		OAuthError:    eb.Error,
		Description:   trimDescription(eb.ErrorDescription),
		TraceID:       eb.TraceID,
		CorrelationID: eb.CorrelationID,
		ErrorURI:      eb.ErrorURI,
		StatusCode:    resp.StatusCode,
		RetryAfter:    httpheader.RetryAfter(resp.Header.Get("Retry-After"), time.Now()),
		err:           cause,
	}
	if len(eb.ErrorCodes) > 0 {
		e.Code = eb.ErrorCodes[0]
	} else if m := aadstsCode.FindStringSubmatch(eb.ErrorDescription); m != nil {
		e.Code, _ = strconv.Atoi(m[1])
	}
	for _, layout := range entraTimestampLayouts {
		if t, err := time.Parse(layout, eb.Timestamp); err == nil {
			e.Timestamp = t
			break
		}
	}
	e.Explanation, e.Fix = explainCode(e, h)
	return e
}

// trimDescription drops the "Trace ID: … Correlation ID: … Timestamp: …" lines Entra appends,
// which EntraError carries as fields.
func trimDescription(d string) string {
	d = strings.ReplaceAll(d, "\r\n", "\n")
	var keep []string
	for _, l := range strings.Split(d, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "Trace ID:") || strings.HasPrefix(l, "Correlation ID:") || strings.HasPrefix(l, "Timestamp:") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, " ")
}
