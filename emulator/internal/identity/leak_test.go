package identity

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestSecretsNeverLeak drives every kind of token request that carries the app's secret (or an
// assertion) and checks that no response body, header or log line contains the secret, the
// assertion or an issued access token.
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	e := newErrorEnv(t)
	ctx := context.Background()
	_, generated, err := e.svc.AddSecret(ctx, testClientID, "generated", time.Time{})
	must(t, err)
	assertion := e.assertion(t, e.cert, assertionSpec{})
	org := e.svc.Resource()

	type request struct {
		tenant string
		v      endpointVersion
		form   url.Values
		header http.Header
	}
	mod := func(f url.Values, kv ...string) url.Values {
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				f.Del(kv[i])
			} else {
				f.Set(kv[i], kv[i+1])
			}
		}
		return f
	}
	var reqs []request
	for _, secret := range []string{testSecret, generated} {
		base := func() url.Values { return mod(e.withOrg(secretForm()), "client_secret", secret) }
		reqs = append(reqs,
			request{testTenantID, tokenV2, base(), nil},
			request{testTenantDomain, tokenV1, mod(base(), "scope", "", "resource", org), nil},
			request{otherTenantID, tokenV2, base(), nil},                                            // wrong tenant
			request{"bad_tenant", tokenV2, base(), nil},                                             // malformed tenant
			request{"common", tokenV2, base(), nil},                                                 // tenantless
			request{testTenantID, tokenV2, mod(base(), "client_id", disabledClientID), nil},         // disabled
			request{testTenantID, tokenV2, mod(base(), "client_id", otherClientID), nil},            // app of another tenant
			request{testTenantID, tokenV2, mod(base(), "scope", org+"/user_impersonation"), nil},    // 1002012
			request{testTenantID, tokenV2, mod(base(), "scope", "https://x.example/.default"), nil}, // 500011
			request{testTenantID, tokenV2, mod(base(), "grant_type", "password"), nil},              // 70003
			request{testTenantID, tokenV2, mod(base(), "client_assertion", assertion, "client_assertion_type", clientAssertionType), nil},
			request{testTenantID, tokenV2, mod(base(), "client_secret", "", "client_id", ""),
				http.Header{"Authorization": {"Basic " + basic(testClientID, secret)}}},
			request{testTenantID, tokenV2, mod(base(), "client_secret", secret+"x"), nil}, // near miss
		)
	}
	reqs = append(reqs,
		request{testTenantID, tokenV2, e.withOrg(assertionForm(assertion)), nil},
		request{testTenantID, tokenV2, mod(e.withOrg(assertionForm(assertion)), "scope", "x/.default"), nil},
	)

	var issued []string
	var seen strings.Builder
	for _, r := range reqs {
		resp := e.post(t, e.tokenURL(r.tenant, r.v), r.form, r.header)
		seen.Write(resp.raw)
		for k, vs := range resp.header {
			seen.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
		if tok, ok := resp.body["access_token"].(string); ok {
			issued = append(issued, tok)
		}
	}
	if len(issued) < 4 {
		t.Fatalf("only %d requests succeeded; the test no longer covers the success path", len(issued))
	}
	logs := e.logs.String()
	if !strings.Contains(logs, "token issued") || !strings.Contains(logs, "token request rejected") {
		t.Fatalf("the logs do not record token requests:\n%s", logs)
	}
	for name, secret := range map[string]string{"secret": testSecret, "generated secret": generated, "assertion": assertion} {
		if strings.Contains(seen.String(), secret) {
			t.Errorf("a response contains the %s", name)
		}
		if strings.Contains(logs, secret) {
			t.Errorf("the log contains the %s", name)
		}
	}
	// The assertion's signature alone would identify it too.
	if sig := assertion[strings.LastIndexByte(assertion, '.')+1:]; strings.Contains(logs, sig) {
		t.Error("the log contains the assertion's signature")
	}
	for _, tok := range issued {
		if strings.Contains(logs, tok) || strings.Contains(logs, tok[strings.LastIndexByte(tok, '.')+1:]) {
			t.Error("the log contains an access token")
		}
	}
}
