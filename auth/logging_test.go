package auth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"

	"github.com/d365s2s/d365/auth"
)

// Even when the caller asks azcore to log bodies, neither the client secret (in the token
// request) nor the access token (in the response) reaches the log, and neither appears in any
// rendering of a failure. Not parallel: the azcore log listener is process-wide.
func TestSecretAndTokenNeverLogged(t *testing.T) {
	var mu sync.Mutex
	var logs strings.Builder
	azlog.SetListener(func(ev azlog.Event, msg string) {
		mu.Lock()
		defer mu.Unlock()
		logs.WriteString(string(ev) + ": " + msg + "\n")
	})
	t.Cleanup(func() { azlog.SetListener(nil) })

	sts := newFakeSTS(t)
	cfg := sts.config(t)
	opts := &auth.CredentialOptions{ClientOptions: azcore.ClientOptions{
		Logging: policy.LogOptions{IncludeBody: true, AllowedHeaders: []string{"Authorization"}},
	}}
	cred, err := auth.NewCredential(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := getToken(t, cred, cfg.Scope())
	if err != nil {
		t.Fatal(err)
	}

	bad := cfg
	bad.ClientSecret = auth.Secret("Bad~" + sts.secret)
	badCred, err := auth.NewCredential(bad, opts)
	if err != nil {
		t.Fatal(err)
	}
	_, failure := getToken(t, badCred, cfg.Scope())
	var ee *auth.EntraError
	if !errors.As(failure, &ee) || ee.Code != 7000215 {
		t.Fatalf("err = %v, want AADSTS7000215", failure)
	}

	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, "/oauth2/v2.0/token") {
		t.Fatalf("the listener saw no token request; the test would prove nothing:\n%s", out)
	}
	for name, text := range map[string]string{
		"azcore log": out, "Error()": failure.Error(), "%+v": fmtPlusV(failure),
	} {
		for what, s := range map[string]string{"secret": sts.secret, "token": tok.Token, "token signature": tok.Token[strings.LastIndex(tok.Token, ".")+1:]} {
			if strings.Contains(text, s) {
				t.Errorf("%s contains the %s", name, what)
			}
		}
	}
	if opts.ClientOptions.Logging.IncludeBody != true || len(opts.ClientOptions.PerRetryPolicies) != 0 {
		t.Error("NewCredential modified the caller's options")
	}
}

// A Dataverse-style azcore pipeline with a bearer-token policy on the credential surfaces the
// EntraError to the caller of the pipeline (the dataverse client's situation), over the one
// shared HTTP client.
func TestEntraErrorSurvivesTheBearerTokenPolicy(t *testing.T) {
	t.Parallel()
	sts := newFakeSTS(t)
	cfg := sts.config(t)
	cfg.ClientSecret = "Wrong~secret~value~0000000000000000000000"
	hc, err := cfg.HTTPClient()
	if err != nil {
		t.Fatal(err)
	}
	cred, err := auth.NewCredential(cfg, &auth.CredentialOptions{ClientOptions: azcore.ClientOptions{Transport: hc}})
	if err != nil {
		t.Fatal(err)
	}
	pl := runtime.NewPipeline("dataverse-test", "v0.0.0", runtime.PipelineOptions{
		PerRetry: []policy.Policy{runtime.NewBearerTokenPolicy(cred, []string{cfg.Scope()}, nil)},
	}, &policy.ClientOptions{Transport: hc})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := runtime.NewRequest(ctx, http.MethodGet, sts.URL()+"/api/data/v9.2/WhoAmI")
	if err != nil {
		t.Fatal(err)
	}
	_, err = pl.Do(req)
	var ee *auth.EntraError
	if !errors.As(err, &ee) || ee.Code != 7000215 {
		t.Fatalf("pipeline error = %v, want an *auth.EntraError with AADSTS7000215", err)
	}
	if n := sts.tokenRequests(); n != 1 {
		t.Errorf("token requests = %d, want 1: an Entra rejection must not be retried", n)
	}
}

// A managed identity's token request carries a credential in a header (App Service:
// X-IDENTITY-HEADER; Azure Arc: Authorization: Basic; Service Fabric: Secret). A caller that
// allows those headers in its logging options still gets them REDACTED, and its options are left
// as they were. Not parallel: the azcore log listener and the environment are process-wide.
func TestManagedIdentityHeadersNeverLogged(t *testing.T) {
	const identitySecret = "identity-header-secret-0123456789"
	var mu sync.Mutex
	var logs strings.Builder
	azlog.SetListener(func(ev azlog.Event, msg string) {
		mu.Lock()
		defer mu.Unlock()
		logs.WriteString(string(ev) + ": " + msg + "\n")
	})
	t.Cleanup(func() { azlog.SetListener(nil) })

	// An App Service managed-identity endpoint: it answers only when the identity header is sent.
	var sawHeader bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sawHeader = r.Header.Get("X-IDENTITY-HEADER") == identitySecret
		mu.Unlock()
		if r.Header.Get("X-IDENTITY-HEADER") != identitySecret {
			http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"mi-access-token","expires_on":"%d","resource":%q,"token_type":"Bearer"}`,
			time.Now().Add(time.Hour).Unix(), r.URL.Query().Get("resource"))
	}))
	t.Cleanup(srv.Close)
	t.Setenv("IDENTITY_ENDPOINT", srv.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", identitySecret)

	allowed := []string{"X-IDENTITY-HEADER", "x-identity-header", "Authorization", "Secret"}
	opts := &auth.CredentialOptions{ClientOptions: azcore.ClientOptions{
		Logging: policy.LogOptions{AllowedHeaders: allowed},
	}}
	cfg := auth.Config{OrgURL: "https://contoso.crm.dynamics.com", Method: auth.MethodManagedIdentity}
	cred, err := auth.NewCredential(cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := getToken(t, cred, cfg.Scope())
	if err != nil || tok.Token != "mi-access-token" {
		t.Fatalf("GetToken = %q, %v; want the managed identity's token", tok.Token, err)
	}
	mu.Lock()
	out, saw := logs.String(), sawHeader
	mu.Unlock()
	if !saw || !strings.Contains(out, "X-Identity-Header: REDACTED") {
		t.Fatalf("the identity header was not sent and logged REDACTED; the test would prove nothing:\n%s", out)
	}
	if strings.Contains(out, identitySecret) {
		t.Errorf("the log contains the identity header's secret:\n%s", out)
	}
	if want := []string{"X-IDENTITY-HEADER", "x-identity-header", "Authorization", "Secret"}; !slices.Equal(allowed, want) {
		t.Errorf("the caller's AllowedHeaders became %q, want %q", allowed, want)
	}
}
