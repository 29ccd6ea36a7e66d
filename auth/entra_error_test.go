package auth_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/d365s2s/d365/auth"
)

// entraResponse builds the *http.Response azidentity attaches to an AuthenticationFailedError.
func entraResponse(status int, body string, header http.Header) *http.Response {
	if header == nil {
		header = http.Header{}
	}
	req := &http.Request{Method: http.MethodPost, URL: &url.URL{Scheme: "https", Host: "login.microsoftonline.com", Path: "/t/oauth2/v2.0/token"}}
	return &http.Response{StatusCode: status, Status: fmt.Sprintf("%d %s", status, http.StatusText(status)),
		Header: header, Body: io.NopCloser(strings.NewReader(body)), Request: req}
}

func entraBody(oauthError string, code int, msg string) string {
	return fmt.Sprintf(`{"error":%q,"error_description":"AADSTS%d: %s\r\nTrace ID: 0000aaaa-0000-0000-0000-000000000001\r\nCorrelation ID: 0000bbbb-0000-0000-0000-000000000002\r\nTimestamp: 2025-03-01 10:11:12Z","error_codes":[%d],"timestamp":"2025-03-01 10:11:12Z","trace_id":"0000aaaa-0000-0000-0000-000000000001","correlation_id":"0000bbbb-0000-0000-0000-000000000002","error_uri":"https://login.microsoftonline.com/error?code=%d"}`,
		oauthError, code, msg, code, code)
}

const ids = " (trace ID 0000aaaa-0000-0000-0000-000000000001, correlation ID 0000bbbb-0000-0000-0000-000000000002)"

// Every AADSTS code the reference lists gets its own explanation and fix. Without a credential's
// context (Explain on a bare error) the sentences fall back to generic nouns.
func TestExplainEachAADSTSCode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		code int
		want string
	}{
		{7000215, "AADSTS7000215: the client secret is wrong — use the secret's Value, not its Secret ID, and check it belongs to this app"},
		{7000222, "AADSTS7000222: the client secret has expired — create a new secret under Certificates & secrets of the app and set AZURE_CLIENT_SECRET to its Value (a certificate avoids secret expiry)"},
		{700016, "AADSTS700016: the app was not found in the tenant — set AZURE_CLIENT_ID to the Application (client) ID (not the Object ID) and AZURE_TENANT_ID to the tenant the app is registered in; a multi-tenant app needs admin consent in this tenant first"},
		{90002, "AADSTS90002: the tenant does not exist at the authority host — check AZURE_TENANT_ID for typos; a US Government or China tenant needs its own cloud, which the org URL's host selects, or set AZURE_AUTHORITY_HOST"},
		{900023, "AADSTS900023: the tenant identifier is neither a GUID nor a valid domain — set AZURE_TENANT_ID (Config.TenantID) to the Directory (tenant) ID on the app registration's Overview page"},
		{500011, "AADSTS500011: Entra ID knows no resource named the org URL in this tenant — set D365_URL to the environment URL exactly as the Power Platform admin center shows it, scheme and host only (no /api/data or /XRMServices path), and check the environment belongs to the tenant"},
		{1002012, "AADSTS1002012: the requested scope is not valid for an app-only token — request exactly <org URL>/.default; the client-credentials grant accepts no other scope"},
		{70011, "AADSTS70011: the requested scope is not valid for an app-only token — request exactly <org URL>/.default; the client-credentials grant accepts no other scope"},
		{700027, "AADSTS700027: the certificate that signed the client assertion is not registered on the app — upload this certificate's public part under Certificates & secrets, or point AZURE_CLIENT_CERTIFICATE_PATH at the registered certificate (compare thumbprints)"},
		{700024, "AADSTS700024: the client assertion is outside its valid time range — correct this machine's clock (sync it with NTP); the assertion is stamped with local time"},
		{7000218, "AADSTS7000218: the token request carried neither a client secret nor a client assertion — set AZURE_CLIENT_SECRET or AZURE_CLIENT_CERTIFICATE_PATH; if one is set, check that no proxy strips the request body"},
		{7000112, "AADSTS7000112: the app is disabled in the tenant — ask a tenant administrator to enable the app's enterprise application (service principal) for sign-in"},
		{50049, "AADSTS50049: the authority the authority host is not a known Entra ID instance — leave AZURE_AUTHORITY_HOST empty to infer it from the org URL, or set it to https://login.microsoftonline.com/ (.us for US Government, login.chinacloudapi.cn for China)"},
		{50196, "AADSTS50196: Entra ID detected a request loop: tokens were requested too often — create one credential per process and share it, so tokens are cached instead of requested per call; wait a few minutes before retrying"},
		{53003, "AADSTS53003: a Conditional Access policy blocked the token for the app — ask a tenant administrator to check the Conditional Access policies for workload identities (the sign-in logs name the policy)"},
		{65001, "AADSTS65001: consent or an app-role assignment is missing — Dataverse server-to-server access needs neither: request the org URL/.default with the client-credentials grant and give the app an application user with a security role in Dataverse; a multi-tenant app needs admin consent in this tenant first"},
		{501051, "AADSTS501051: consent or an app-role assignment is missing"},
		{12345, "AADSTS12345: Entra ID rejected the token request (invalid_request): Something unusual happened. — see https://login.microsoftonline.com/error?code=12345"},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprint(tc.code), func(t *testing.T) {
			t.Parallel()
			resp := entraResponse(400, entraBody("invalid_request", tc.code, "Something unusual happened. More words follow."), nil)
			orig := &azidentity.AuthenticationFailedError{RawResponse: resp}
			err := auth.Explain(fmt.Errorf("calling Dataverse: %w", orig))
			var ee *auth.EntraError
			if !errors.As(err, &ee) {
				t.Fatalf("Explain = %v (%T), want *auth.EntraError", err, err)
			}
			if ee.Code != tc.code || ee.Explanation == "" {
				t.Errorf("Code %d, Explanation %q", ee.Code, ee.Explanation)
			}
			if !strings.HasPrefix(ee.Error(), tc.want) || !strings.HasSuffix(ee.Error(), ids) {
				t.Errorf("Error() =\n%s\nwant prefix\n%s\nand suffix %s", ee.Error(), tc.want, ids)
			}
			explanation, fix := auth.Explanation(tc.code)
			if explanation == "" || (tc.code != 12345 && fix == "") {
				t.Errorf("Explanation(%d) = %q, %q", tc.code, explanation, fix)
			}
			var back *azidentity.AuthenticationFailedError
			if !errors.As(err, &back) || back != orig {
				t.Error("the azidentity error is not reachable through Unwrap")
			}
		})
	}
}

func TestEntraErrorFields(t *testing.T) {
	t.Parallel()
	resp := entraResponse(401, entraBody("invalid_client", 7000215, "Invalid client secret provided."), nil)
	orig := &azidentity.AuthenticationFailedError{RawResponse: resp}
	var ee *auth.EntraError
	if !errors.As(auth.Explain(orig), &ee) {
		t.Fatal("not an EntraError")
	}
	want := auth.EntraError{
		Code: 7000215, Codes: []int{7000215}, OAuthError: "invalid_client",
		Description: "AADSTS7000215: Invalid client secret provided.",
		TraceID:     "0000aaaa-0000-0000-0000-000000000001", CorrelationID: "0000bbbb-0000-0000-0000-000000000002",
		Timestamp: time.Date(2025, 3, 1, 10, 11, 12, 0, time.UTC), ErrorURI: "https://login.microsoftonline.com/error?code=7000215",
		StatusCode: 401,
	}
	got := *ee
	if got.Code != want.Code || fmt.Sprint(got.Codes) != fmt.Sprint(want.Codes) || got.OAuthError != want.OAuthError ||
		got.Description != want.Description || got.TraceID != want.TraceID || got.CorrelationID != want.CorrelationID ||
		!got.Timestamp.Equal(want.Timestamp) || got.ErrorURI != want.ErrorURI || got.StatusCode != want.StatusCode {
		t.Errorf("EntraError = %+v\nwant fields of %+v", got, want)
	}
	// Parsing must leave the body readable for azidentity's own message.
	if !strings.Contains(orig.Error(), `"error": "invalid_client"`) {
		t.Errorf("azidentity message after parsing:\n%s", orig.Error())
	}
	verbose := fmt.Sprintf("%+v", ee)
	for _, line := range []string{
		"AADSTS7000215: the client secret is wrong",
		"\n  Fix:            use the secret's Value",
		"\n  OAuth error:    invalid_client",
		"\n  HTTP status:    401",
		"\n  Entra says:     AADSTS7000215: Invalid client secret provided.",
		"\n  Trace ID:       0000aaaa-0000-0000-0000-000000000001",
		"\n  Correlation ID: 0000bbbb-0000-0000-0000-000000000002",
		"\n  Timestamp:      2025-03-01T10:11:12Z",
		"\n  Reference:      https://login.microsoftonline.com/error?code=7000215",
	} {
		if !strings.Contains(verbose, line) {
			t.Errorf("%%+v lacks %q:\n%s", line, verbose)
		}
	}
	if fmt.Sprintf("%v", ee) != ee.Error() || fmt.Sprintf("%s", ee) != ee.Error() {
		t.Errorf("the %%v and %%s verbs must print Error()")
	}
}

func TestEntraErrorShapes(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		resp  *http.Response
		check func(t *testing.T, err error)
	}{
		{"code only in the description", entraResponse(400, `{"error":"invalid_request","error_description":"AADSTS900023: Specified tenant identifier 'x y' is neither a valid DNS name, nor a valid external domain."}`, nil),
			func(t *testing.T, err error) {
				var ee *auth.EntraError
				if !errors.As(err, &ee) || ee.Code != 900023 || ee.TraceID != "" {
					t.Fatalf("err = %v", err)
				}
				if strings.Contains(ee.Error(), "trace ID") {
					t.Errorf("Error() mentions absent IDs: %q", ee.Error())
				}
			}},
		{"429 without a body, Retry-After as a date", entraResponse(429, "", http.Header{"Retry-After": {time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)}}),
			func(t *testing.T, err error) {
				var ee *auth.EntraError
				if !errors.As(err, &ee) || ee.StatusCode != 429 || ee.Code != 0 {
					t.Fatalf("err = %v", err)
				}
				if ee.RetryAfter < 80*time.Second || ee.RetryAfter > 91*time.Second {
					t.Errorf("RetryAfter = %v, want about 90s", ee.RetryAfter)
				}
				if !strings.HasPrefix(ee.Error(), "Entra ID HTTP 429: Entra ID is throttling token requests for the app — create one credential per process and share it, so tokens are cached; retry after ") {
					t.Errorf("Error() = %q", ee.Error())
				}
			}},
		{"HTML from a proxy", entraResponse(502, "<html><body>Bad gateway</body></html>", nil),
			func(t *testing.T, err error) {
				var xe *auth.ExplainedError
				if !errors.As(err, &xe) {
					t.Fatalf("err = %v (%T), want *auth.ExplainedError", err, err)
				}
				if want := "login.microsoftonline.com answered HTTP 502 without an Entra ID error body — check that AZURE_AUTHORITY_HOST points at Entra ID (or the emulator) and that no proxy answers in its place"; !strings.HasPrefix(xe.Error(), want) {
					t.Errorf("Error() = %q\nwant prefix %q", xe.Error(), want)
				}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.check(t, auth.Explain(&azidentity.AuthenticationFailedError{RawResponse: tc.resp}))
		})
	}
}

func TestExplainLeavesOtherErrorsAlone(t *testing.T) {
	t.Parallel()
	if auth.Explain(nil) != nil {
		t.Error("Explain(nil) != nil")
	}
	plain := errors.New("something else")
	if auth.Explain(plain) != plain {
		t.Error("an unrecognised error was changed")
	}
	resp := entraResponse(401, entraBody("invalid_client", 7000215, "x"), nil)
	once := auth.Explain(&azidentity.AuthenticationFailedError{RawResponse: resp})
	if twice := auth.Explain(once); twice != once {
		t.Error("explaining an explained error wrapped it again")
	}
	if noResp := (&azidentity.AuthenticationFailedError{}); auth.Explain(noResp) != error(noResp) {
		t.Error("an AuthenticationFailedError without a response was changed")
	}
}
