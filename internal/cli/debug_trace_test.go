package cli

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The --debug trace shows requests and responses with every credential redacted: the
// Authorization header (its scheme kept), client_secret and client_assertion in a token
// request's form body, tokens in a JSON body, and anything shaped like a JWT; the body still
// reaches the caller whole.
func TestDebugTransportRedacts(t *testing.T) {
	t.Parallel()
	const (
		secret    = "Zq8~client~secret~value"
		assertion = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhcHAifQ.c2lnbmF0dXJl"
		token     = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJvcmcifQ.dG9rZW5zaWc"
	)
	respBody := `{"token_type":"Bearer","expires_in":3599,"access_token":"` + token + `"}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Set-Cookie", "fpc=opaque-cookie")
		io.WriteString(w, respBody)
	}))
	t.Cleanup(srv.Close)

	var trace bytes.Buffer
	client := &http.Client{Transport: &debugTransport{next: http.DefaultTransport, trace: &debugTrace{w: &trace}}}
	tests := []struct {
		name        string
		req         func() *http.Request
		wantInTrace []string
	}{
		{"token request with a secret", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, srv.URL+"/tenant/oauth2/v2.0/token",
				strings.NewReader("grant_type=client_credentials&client_id=app&client_secret="+secret+"&scope=https%3A%2F%2Forg%2F.default"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, []string{"> [1] POST " + srv.URL + "/tenant/oauth2/v2.0/token", "client_secret=%5BREDACTED%5D", "client_id=app", `"access_token":"[REDACTED]"`, "< [1] HTTP/1.1 200 OK", "Set-Cookie: [REDACTED]"}},
		{"token request with an assertion", func() *http.Request {
			r, _ := http.NewRequest(http.MethodPost, srv.URL+"/tenant/oauth2/v2.0/token",
				strings.NewReader("client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion="+assertion))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}, []string{"client_assertion=%5BREDACTED%5D", "client_assertion_type=urn"}},
		{"Dataverse request with a bearer token", func() *http.Request {
			r, _ := http.NewRequest(http.MethodGet, srv.URL+"/api/data/v9.2/WhoAmI", nil)
			r.Header.Set("Authorization", "Bearer "+token)
			return r
		}, []string{"> Authorization: Bearer [REDACTED]", "GET " + srv.URL + "/api/data/v9.2/WhoAmI"}},
	}
	for _, tt := range tests {
		trace.Reset()
		resp, err := client.Do(tt.req())
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != respBody {
			t.Errorf("%s: the caller got %q, want the whole body", tt.name, got)
		}
		out := trace.String()
		for _, leak := range []string{secret, assertion, token, "opaque-cookie", "eyJ"} {
			if strings.Contains(out, leak) {
				t.Errorf("%s: trace holds %q:\n%s", tt.name, leak, out)
			}
		}
		for _, want := range tt.wantInTrace {
			if !strings.Contains(out, want) {
				t.Errorf("%s: trace lacks %q:\n%s", tt.name, want, out)
			}
		}
	}
}

func TestRedactBody(t *testing.T) {
	t.Parallel()
	tests := []struct{ contentType, in, want string }{
		{"application/json", `{"refresh_token": "abc", "id_token":"x\"y", "name":"keep"}`, `{"refresh_token": "[REDACTED]", "id_token":"[REDACTED]", "name":"keep"}`},
		{"application/x-www-form-urlencoded", "password=p&username=u", "password=%5BREDACTED%5D&username=u"},
		{"application/x-www-form-urlencoded", "%zz=bad;client_secret=s", "[REDACTED]"},
		{"text/plain", "see eyJa.eyJb.c for details", "see [REDACTED] for details"},
	}
	for _, tt := range tests {
		if got := redactBody(tt.contentType, tt.in); got != tt.want {
			t.Errorf("redactBody(%q, %q) = %q, want %q", tt.contentType, tt.in, got, tt.want)
		}
	}
}
