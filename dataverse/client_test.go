package dataverse

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-cmp/cmp"
)

func TestNewClientValidatesOrgURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, url  string
		opts       *ClientOptions
		wantBase   string
		wantErrHas string
	}{
		{name: "plain", url: "https://contoso.crm.dynamics.com", wantBase: "https://contoso.crm.dynamics.com/api/data/v9.2/"},
		{name: "trailing slash and upper-case host", url: "https://Contoso.CRM4.dynamics.com/", wantBase: "https://contoso.crm4.dynamics.com/api/data/v9.2/"},
		{name: "full API URL keeps its version", url: "https://contoso.crm.dynamics.com/api/data/v9.1/", wantBase: "https://contoso.crm.dynamics.com/api/data/v9.1/"},
		{name: "version option", url: "https://contoso.crm.dynamics.com", opts: &ClientOptions{APIVersion: "v9.0"}, wantBase: "https://contoso.crm.dynamics.com/api/data/v9.0/"},
		{name: "path prefix kept", url: "https://host.example/org1", wantBase: "https://host.example/org1/api/data/v9.2/"},
		{name: "empty", url: "", wantErrHas: "it is empty"},
		{name: "no scheme", url: "contoso.crm.dynamics.com", wantErrHas: "not an absolute URL"},
		{name: "http", url: "http://contoso.crm.dynamics.com", wantErrHas: "only sent over https"},
		{name: "ftp", url: "ftp://contoso.crm.dynamics.com", wantErrHas: "scheme must be https"},
		{name: "user info", url: "https://u:p@contoso.crm.dynamics.com", wantErrHas: "user information"},
		{name: "query", url: "https://contoso.crm.dynamics.com/?x=1", wantErrHas: "query string"},
		{name: "fragment", url: "https://contoso.crm.dynamics.com/#x", wantErrHas: "fragment"},
		{name: "bad api suffix", url: "https://contoso.crm.dynamics.com/api/data/latest", wantErrHas: "version like v9.2"},
		{name: "conflicting versions", url: "https://contoso.crm.dynamics.com/api/data/v9.1", opts: &ClientOptions{APIVersion: "v9.2"}, wantErrHas: "make them agree"},
		{name: "bad version option", url: "https://contoso.crm.dynamics.com", opts: &ClientOptions{APIVersion: "9.2"}, wantErrHas: `"9.2" is not of the form v9.2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(tt.url, &fakeCredential{}, tt.opts)
			if tt.wantErrHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrHas) {
					t.Fatalf("NewClient(%q) error = %v, want one containing %q", tt.url, err, tt.wantErrHas)
				}
				return
			}
			if err != nil {
				t.Fatalf("NewClient(%q): %v", tt.url, err)
			}
			if got := c.BaseURL(); got != tt.wantBase {
				t.Errorf("BaseURL() = %q, want %q", got, tt.wantBase)
			}
		})
	}
}

func TestNewClientRejectsNilCredential(t *testing.T) {
	t.Parallel()
	_, err := NewClient("https://contoso.crm.dynamics.com", nil, nil)
	if err == nil || !strings.Contains(err.Error(), "credential is nil") {
		t.Fatalf("NewClient(nil credential) error = %v, want one about the nil credential", err)
	}
}

func TestNewClientDoesNotMutateOptions(t *testing.T) {
	t.Parallel()
	noop := policyFunc(func(r *policy.Request) (*http.Response, error) { return r.Next() })
	opts := &ClientOptions{}
	opts.PerRetryPolicies = make([]policy.Policy, 1, 4)
	opts.PerRetryPolicies[0] = noop
	if _, err := NewClient("https://contoso.crm.dynamics.com", &fakeCredential{}, opts); err != nil {
		t.Fatal(err)
	}
	if opts.Retry.ShouldRetry != nil || opts.Transport != nil || opts.APIVersion != "" || opts.Retry.MaxRetryDelay != 0 || opts.Retry.StatusCodes != nil {
		t.Errorf("NewClient changed the caller's options: %+v", opts)
	}
	if spare := opts.PerRetryPolicies[1:4]; spare[0] != nil || spare[1] != nil || spare[2] != nil {
		t.Errorf("NewClient appended into the caller's PerRetryPolicies backing array")
	}
}

func TestBaselineHeadersAndTokenScope(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"UserId":"7eb682f1-ca75-e511-80d4-00155d2a68d1","BusinessUnitId":"00000000-0000-0000-0000-000000000002","OrganizationId":"00000000-0000-0000-0000-000000000003"}`)
	}, nil)
	if _, err := f.client.WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	req := f.only()
	want := map[string]string{
		"Authorization":    "Bearer static-token",
		"Accept":           "application/json",
		"Odata-Maxversion": "4.0",
		"Odata-Version":    "4.0",
	}
	for k, v := range want {
		if got := req.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if ua := req.Header.Get("User-Agent"); !strings.HasPrefix(ua, "azsdk-go-dataverse/"+moduleVersion+" ") {
		t.Errorf("User-Agent = %q, want azsdk-go-dataverse/%s …", ua, moduleVersion)
	}
	if diff := cmp.Diff([][]string{{f.orgURL() + "/.default"}}, f.cred.scopes); diff != "" {
		t.Errorf("token scopes (-want +got):\n%s", diff)
	}
}

func TestConcurrentCallsShareTokenAndConnections(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"contactid":"7eb682f1-ca75-e511-80d4-00155d2a68d1","fullname":"A"}`)
	}, nil)
	ctx := context.Background()
	// Sequential calls must reuse one kept-alive connection.
	for range 5 {
		var rec Record
		if err := f.client.Retrieve(ctx, "contacts", idA, &rec, nil); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.newConns.Load(); n != 1 {
		t.Errorf("5 sequential calls opened %d connections, want 1 (bodies not drained?)", n)
	}
	// Parallel calls share the client (run with -race).
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			var rec Record
			if err := f.client.Retrieve(ctx, "contacts", idA, &rec, nil); err != nil {
				errs <- err
				return
			}
			if rec["fullname"] != "A" {
				errs <- &ResponseError{Message: "wrong body"}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := f.cred.callCount(); n != 1 {
		t.Errorf("credential asked %d times for a token, want 1 (token reused)", n)
	}
	if n := len(f.reqs()); n != 37 {
		t.Errorf("server saw %d requests, want 37", n)
	}
}

// TestLogsRedactToken checks azcore's logging through this client: the
// Authorization header is REDACTED, the allow-listed headers are not, even
// when the caller's Logging.AllowedHeaders names Authorization (in any
// spelling), and the caller's slice is left as it was.
// Not parallel: the log listener is process-wide.
func TestLogsRedactToken(t *testing.T) {
	var mu sync.Mutex
	var logs strings.Builder
	azlog.SetListener(func(_ azlog.Event, msg string) {
		mu.Lock()
		defer mu.Unlock()
		logs.WriteString(msg)
		logs.WriteByte('\n')
	})
	t.Cleanup(func() { azlog.SetListener(nil) })
	for _, tc := range []struct {
		name    string
		allowed []string
	}{
		{"default allow-list", nil},
		{"caller allows Authorization", []string{"Authorization", "authorization", "AUTHORIZATION", " Authorization ", "Proxy-Authorization", "X-Custom-Diagnostic"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			logs.Reset()
			mu.Unlock()
			allowed := slices.Clone(tc.allowed)
			opts := &ClientOptions{}
			opts.Logging.AllowedHeaders = allowed
			f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("x-ms-service-request-id", "req-123")
				w.Header().Set("X-Custom-Diagnostic", "diag-1")
				w.Header().Set("Set-Cookie", "ARRAffinity=secret-cookie")
				writeError(w, 404, CodeObjectDoesNotExist, "contact With Id = x Does Not Exist")
			}, opts)
			f.cred.tokens = []string{"super-secret-token"}
			err := f.client.Retrieve(context.Background(), "contacts", idA, &Record{}, nil)
			if !IsNotFound(err) {
				t.Fatalf("Retrieve error = %v, want 404", err)
			}
			mu.Lock()
			out := logs.String()
			mu.Unlock()
			for _, secret := range []string{"super-secret-token", "secret-cookie"} {
				if strings.Contains(out, secret) || strings.Contains(err.Error(), secret) {
					t.Errorf("%q leaked into the log or the error:\n%s", secret, out)
				}
			}
			want := []string{"Authorization: REDACTED", "X-Ms-Service-Request-Id: req-123"}
			if tc.allowed != nil {
				want = append(want, "X-Custom-Diagnostic: diag-1") // the caller's other names still count
			}
			for _, w := range want {
				if !strings.Contains(out, w) {
					t.Errorf("log lacks %q:\n%s", w, out)
				}
			}
			if !slices.Equal(allowed, tc.allowed) {
				t.Errorf("the caller's AllowedHeaders became %q, want %q", allowed, tc.allowed)
			}
		})
	}
}
