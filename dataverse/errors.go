package dataverse

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
)

// Dataverse error codes (the "code" of the error envelope, a platform
// HRESULT in hex) that callers commonly branch on. The full list is at
// https://learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes
const (
	CodeObjectDoesNotExist          = "0x80040217" // 404: no row with that id or key
	CodeResourceNotFound            = "0x8006088a" // 404: unknown entity set, function or segment (names are case-sensitive)
	CodeDuplicateRecord             = "0x80040237" // 412: a record with matching key values already exists
	CodeConcurrencyVersionMismatch  = "0x80060882" // 412: the ETag in If-Match is stale
	CodeDuplicateDetected           = "0x80040333" // 412: duplicate detection rule matched
	CodeUserNotMemberOfOrg          = "0x80072560" // 403: no application user for this app in the environment
	CodePrivilegeDenied             = "0x80040220" // 403: a security role lacks a privilege
	CodeUserNotAssignedRoles        = "0x80042f09" // 403: the application user has no security role
	CodeThrottledRequestCount       = "0x80072322" // 429: number of requests over the limit
	CodeThrottledExecutionTime      = "0x80072321" // 429: combined execution time over the limit
	CodeThrottledConcurrentRequests = "0x80072326" // 429: concurrent requests over the limit
)

// ResponseError is the error for every response whose status is not 2xx
// (and, for a $batch, for every failed part). Inspect it with errors.As:
//
//	var re *dataverse.ResponseError
//	if errors.As(err, &re) && re.Code == dataverse.CodeDuplicateRecord { … }
//
// Its text never contains request headers, so never the access token.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/compose-http-requests-handle-errors#parse-errors-from-the-response
type ResponseError struct {
	// StatusCode is the HTTP status, e.g. 404.
	StatusCode int
	// Code is Dataverse's error code, e.g. "0x80040217"; "" or "0x0" for
	// errors raised by the OData layer, "" when the body had no envelope.
	Code string
	// Message is the service's message, or a short excerpt of a non-JSON body.
	Message string
	// RetryAfter is the wait the service asked for (Retry-After on 429), or 0.
	RetryAfter time.Duration
	// RequestID is the service's request id (x-ms-service-request-id or
	// REQ_ID); quote it when asking Microsoft support about a failure.
	RequestID string
	// Method and Path identify the request. Path is relative to the Web API
	// base (e.g. "contacts(…)") and never includes the query string.
	Method, Path string
	// Challenge is the parsed WWW-Authenticate challenge of a 401, if any.
	Challenge *Challenge
	// Details holds the extra annotations of the error envelope
	// (for example "@Microsoft.PowerApps.CDS.HelpLink" or
	// "@Microsoft.PowerApps.CDS.ErrorDetails.OperationStatus"), sent when the
	// request asked for annotations.
	Details map[string]json.RawMessage
	// BatchPart identifies the failed part when the error came from a
	// $batch response; nil otherwise.
	BatchPart *BatchPartRef
	// RawResponse is the response; its body was read (at most 64 KiB) and
	// can be read again. Its Request is a copy of the request that failed
	// without the Authorization and Proxy-Authorization headers.
	RawResponse *http.Response
}

// Challenge is the bearer challenge of a 401 response:
// "WWW-Authenticate: Bearer authorization_uri=…, resource_id=…".
type Challenge struct {
	// AuthorizationURI is the Entra authority of the environment's tenant,
	// e.g. https://login.microsoftonline.com/<tenant id>/oauth2/authorize.
	AuthorizationURI string
	// ResourceID is the resource the service expects tokens for (the
	// environment URL).
	ResourceID string
}

// BatchPartRef identifies a part of a $batch request.
type BatchPartRef struct {
	// Index is the position of the part among all operations of the batch
	// (0-based, counting operations inside change sets), or -1 when the
	// service did not say which operation failed: without ContinueOnError
	// it answers a failure with that operation's response alone, which
	// names the operation only by its Content-ID (inside a change set).
	Index int
	// ContentID is the part's Content-ID, if it had one.
	ContentID string
}

// Error implements error, for example
// "dataverse: GET contacts(…): 404 0x80040217: contact With Id = … Does Not Exist".
func (e *ResponseError) Error() string {
	var b strings.Builder
	b.WriteString("dataverse: ")
	if e.Method != "" || e.Path != "" {
		b.WriteString(e.Method)
		if e.Path != "" {
			b.WriteByte(' ')
			b.WriteString(e.Path)
		}
		b.WriteString(": ")
	}
	if e.BatchPart != nil {
		if e.BatchPart.Index < 0 {
			b.WriteString("an operation the service did not name")
		} else {
			fmt.Fprintf(&b, "batch part %d", e.BatchPart.Index)
		}
		if e.BatchPart.ContentID != "" {
			fmt.Fprintf(&b, " (Content-ID %s)", e.BatchPart.ContentID)
		}
		b.WriteString(": ")
	}
	fmt.Fprintf(&b, "%d", e.StatusCode)
	if e.Code != "" && e.Code != "0x0" {
		b.WriteByte(' ')
		b.WriteString(e.Code)
	} else if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteByte(' ')
		b.WriteString(t)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if h := e.hint(); h != "" {
		b.WriteString(" (")
		b.WriteString(h)
		b.WriteByte(')')
	}
	if e.RequestID != "" {
		b.WriteString(" [request id ")
		b.WriteString(e.RequestID)
		b.WriteByte(']')
	}
	return b.String()
}

// hint returns what to do about well-known failures.
func (e *ResponseError) hint() string {
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		h := "the access token was rejected: a token for another environment or tenant, or an expired token, is the usual cause"
		if c := e.Challenge; c != nil && (c.ResourceID != "" || c.AuthorizationURI != "") {
			h += "; the environment expects a token"
			if c.ResourceID != "" {
				h += " for resource " + c.ResourceID + " (scope " + strings.TrimRight(c.ResourceID, "/") + "/.default)"
			}
			if c.AuthorizationURI != "" {
				h += " from authority " + c.AuthorizationURI
			}
		}
		return h
	case e.Code == CodeUserNotMemberOfOrg:
		return "the app has no application user in this environment: create one (Power Platform admin center → Environment → Application users) and give it a security role"
	case e.Code == CodeUserNotAssignedRoles:
		return "the application user has no security role: assign one in Power Platform admin center → Environment → Application users"
	case e.Code == CodePrivilegeDenied:
		return "add the missing privilege to a security role of the user the message names: the application user, or the impersonated user when the request impersonates one"
	case e.Code == CodeResourceNotFound:
		return "names in the URL are case-sensitive: entity sets are plural names such as 'accounts' (the service document, GET on the Web API base, lists them) and functions and actions are listed in $metadata"
	case e.Code == CodeChangeTrackingNotEnabled:
		return "turn on \"Track changes\" for the table (Power Apps → Tables → the table → Properties → Advanced options), or set its ChangeTrackingEnabled metadata property to true"
	case e.Code == CodeConcurrencyVersionMismatch:
		return "the record changed since its ETag was read: read it again and reapply the change"
	case e.StatusCode == http.StatusTooManyRequests:
		if e.RetryAfter > 0 {
			return "service protection limit reached; retry after " + e.RetryAfter.String()
		}
		return "service protection limit reached"
	}
	return ""
}

// IsNotFound reports whether err is a *ResponseError with status 404
// (a missing record, entity set or function).
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsThrottled reports whether err is a *ResponseError with status 429
// (service protection limits); its RetryAfter says how long to wait.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/api-limits
func IsThrottled(err error) bool { return hasStatus(err, http.StatusTooManyRequests) }

// IsPreconditionFailed reports whether err is a *ResponseError with status
// 412: a stale ETag (CodeConcurrencyVersionMismatch), a create-only upsert
// hitting an existing record (CodeDuplicateRecord) or duplicate detection.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/perform-conditional-operations-using-web-api
func IsPreconditionFailed(err error) bool { return hasStatus(err, http.StatusPreconditionFailed) }

// IsUnauthorized reports whether err is a *ResponseError with status 401
// (the access token was missing, expired or for another environment).
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsForbidden reports whether err is a *ResponseError with status 403 (no
// application user, no role, or a missing privilege).
func IsForbidden(err error) bool { return hasStatus(err, http.StatusForbidden) }

// HasCode reports whether err is a *ResponseError with the given Dataverse
// error code (compared case-insensitively, e.g. CodeDuplicateRecord).
func HasCode(err error, code string) bool {
	var re *ResponseError
	return errors.As(err, &re) && strings.EqualFold(re.Code, code)
}

func hasStatus(err error, status int) bool {
	var re *ResponseError
	return errors.As(err, &re) && re.StatusCode == status
}

// errorEnvelope is the body of a failed Web API request:
// {"error":{"code":"0x80040217","message":"…", "@annotation": …}}.
type errorEnvelope struct {
	Error map[string]json.RawMessage `json:"error"`
}

// newResponseError builds the error for resp, whose status is not 2xx. The
// body was already read by azcore (bounded by errorBodyLimiter).
func (c *Client) newResponseError(resp *http.Response) *ResponseError {
	// Read (and buffer) the body first: Payload may replace resp.Body, and
	// the copy kept below must share the buffered one.
	body, _ := runtime.Payload(resp)
	e := &ResponseError{
		StatusCode:  resp.StatusCode,
		RetryAfter:  retryAfter(resp.Header),
		RequestID:   requestID(resp.Header),
		RawResponse: withoutCredentials(resp),
	}
	if req := resp.Request; req != nil {
		e.Method = req.Method
		if req.URL != nil {
			e.Path = c.displayPath(req.URL.Path)
		}
	}
	if resp.StatusCode == http.StatusUnauthorized {
		e.Challenge = parseChallenge(resp.Header)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); strings.HasPrefix(mt, "multipart/") {
		return e // a $batch body: ExecuteBatch reads its parts
	}
	fillFromBody(e, body)
	return e
}

// withoutCredentials returns resp as a *ResponseError may keep it: the
// transport's response points at the request as it was sent, signed with
// the access token, and an error must never lead to the token (a caller
// printing err with %#v, a deep dumper, a logger walking RawResponse). It
// returns a shallow copy of resp whose Request is a shallow copy with a
// cloned Header without the credential headers, a URL without user info
// and no Response: after a redirect that field holds the redirecting
// response, whose request was signed too and whose body still points into
// the connection's buffers (where the raw request, token included, was
// written). resp and its request, which the pipeline owns, are not
// modified; the body is shared.
func withoutCredentials(resp *http.Response) *http.Response {
	if resp == nil || resp.Request == nil {
		return resp
	}
	req := *resp.Request
	req.Header = make(http.Header, len(resp.Request.Header))
	for k, v := range resp.Request.Header {
		if !isCredentialHeader(k) {
			req.Header[k] = slices.Clone(v)
		}
	}
	if u := req.URL; u != nil && u.User != nil {
		noUser := *u
		noUser.User = nil
		req.URL = &noUser
	}
	req.Response = nil
	cp := *resp
	cp.Request = &req
	return &cp
}

// fillFromBody sets Code, Message and Details from an error body.
func fillFromBody(e *ResponseError, body []byte) {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	var env errorEnvelope
	if err := json.Unmarshal(body, &env); err == nil && env.Error != nil {
		for k, v := range env.Error {
			switch k {
			case "code":
				e.Code = jsonText(v)
			case "message":
				e.Message = jsonText(v)
			default:
				if e.Details == nil {
					e.Details = map[string]json.RawMessage{}
				}
				e.Details[k] = v
			}
		}
		return
	}
	e.Message = excerpt(body)
}

// jsonText returns a JSON string's value, or the raw JSON for other types
// (some services send numeric codes).
func jsonText(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	if string(raw) == "null" {
		return ""
	}
	return string(raw)
}

// excerpt returns the first line-ish of a non-JSON error body, with control
// characters removed, so an HTML error page or a proxy message stays short.
func excerpt(body []byte) string {
	const max = 300
	s := strings.TrimSpace(string(body))
	if s == "" || strings.HasPrefix(s, "<") {
		return "" // empty, or markup that would not read well
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func requestID(h http.Header) string {
	if id := h.Get("x-ms-service-request-id"); id != "" {
		return id
	}
	return h.Get("REQ_ID")
}

// displayPath returns p relative to the Web API base path when it is below
// it ("contacts(…)"), else p unchanged.
func (c *Client) displayPath(p string) string {
	if rest, ok := strings.CutPrefix(p, c.baseURL.Path); ok && rest != "" {
		return rest
	}
	return p
}
