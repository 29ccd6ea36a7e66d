package webapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/d365s2s/d365/emulator/internal/caller"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/d365s2s/d365/emulator/internal/webapi"
)

// Bearer values the fake authenticator knows.
const (
	tokenAdmin     = "admin-token"    // System Administrator
	tokenReader    = "reader-token"   // a role with contact privileges only
	tokenStranger  = "stranger-token" // a valid app without an application user
	tokenDisabled  = "disabled-token" // a disabled application user
	tokenNoRoles   = "noroles-token"  // an application user without roles
	tokenPanic     = "panic-token"    // makes the authenticator panic
	tokenForeign   = "foreign-token"  // the admin app's client ID, issued by another tenant
	foreignTenant  = "0f0f0f0f-0000-4000-8000-000000000099"
	tenantID       = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	adminAppID     = "10000000-0000-0000-0000-000000000001"
	readerAppID    = "10000000-0000-0000-0000-000000000002"
	strangerAppID  = "10000000-0000-0000-0000-000000000003"
	disabledAppID  = "10000000-0000-0000-0000-000000000004"
	noRolesAppID   = "10000000-0000-0000-0000-000000000005"
	readerObjectID = "20000000-0000-0000-0000-000000000002"
)

// fakeValidate maps bearer values to callers, as a token validator would.
func fakeValidate(token string) (caller.Caller, error) {
	apps := map[string]string{
		tokenAdmin: adminAppID, tokenReader: readerAppID, tokenStranger: strangerAppID,
		tokenDisabled: disabledAppID, tokenNoRoles: noRolesAppID,
	}
	if token == tokenForeign {
		return caller.Caller{TenantID: foreignTenant, AppID: adminAppID}, nil
	}
	app, ok := apps[token]
	if !ok && token != tokenPanic {
		return caller.Caller{}, errors.New("the token's signature is not valid")
	}
	return caller.Caller{TenantID: tenantID, AppID: app, ObjectID: "20000000-0000-0000-0000-00000000000" + app[len(app)-1:]}, nil
}

// withFakeIdentity puts h behind the caller-identity middleware with
// fakeValidate, as the emulator puts the Web API behind it with the token
// service's validation. A request with tokenPanic reaches h with a context
// that panics when the handler reads its caller.
func withFakeIdentity(h http.Handler) http.Handler {
	identified := caller.Middleware(fakeValidate)(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "Bearer "+tokenPanic {
			h.ServeHTTP(w, r.WithContext(explodingContext{r.Context()}))
			return
		}
		identified.ServeHTTP(w, r)
	})
}

// explodingContext panics when anything is looked up in it.
type explodingContext struct{ context.Context }

func (explodingContext) Value(any) any { panic("context exploded") }

// env is a store and a handler behind a real TLS listener.
type env struct {
	t      *testing.T
	store  *store.Store
	srv    *httptest.Server
	client *http.Client
	org    string // the server's base URL
}

// newEnv starts an emulated Web API over HTTPS on an in-memory store
// (dataDir "") or a file store.
func newEnv(t *testing.T, dataDir string) *env {
	t.Helper()
	return newEnvWith(t, dataDir, nil)
}

// newEnvWith is newEnv with store options (a user schema, a clock).
func newEnvWith(t *testing.T, dataDir string, opts *store.Options) *env {
	t.Helper()
	return newEnvConfig(t, dataDir, opts, nil)
}

// newEnvConfig is newEnvWith with a hook that adjusts the handler's
// options (a larger body limit…).
func newEnvConfig(t *testing.T, dataDir string, opts *store.Options, configure func(*webapi.Options)) *env {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dataDir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	seedUsers(t, st)
	var handler http.Handler
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	srv.StartTLS()
	t.Cleanup(srv.Close)
	o := webapi.Options{
		Store:            st,
		OrgURL:           srv.URL,
		AuthorizationURI: srv.URL + "/" + tenantID + "/oauth2/authorize",
		TenantID:         tenantID,
		MaxBodyBytes:     64 << 10,
		Logger:           testLogger(t),
	}
	if configure != nil {
		configure(&o)
	}
	h, err := webapi.New(o)
	if err != nil {
		t.Fatal(err)
	}
	handler = withFakeIdentity(h)
	return &env{t: t, store: st, srv: srv, client: srv.Client(), org: srv.URL}
}

func seedUsers(t *testing.T, st *store.Store) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.EnsureRole(ctx, "Contact Manager", []store.RolePrivilege{
		{Name: "prvCreateContact", Depth: store.DepthOrganization},
		{Name: "prvReadContact", Depth: store.DepthOrganization},
		{Name: "prvWriteContact", Depth: store.DepthOrganization},
	}); err != nil {
		t.Fatal(err)
	}
	users := []store.ApplicationUser{
		{ApplicationID: adminAppID, FullName: "Admin App", RoleNames: []string{store.SystemAdministrator}},
		{ApplicationID: readerAppID, AzureADObjectID: readerObjectID, FullName: "Reader App", RoleNames: []string{"Contact Manager"}},
		{ApplicationID: disabledAppID, FullName: "Disabled App", RoleNames: []string{store.SystemAdministrator}},
		{ApplicationID: noRolesAppID, FullName: "Roleless App"},
	}
	for _, u := range users {
		id, err := st.EnsureApplicationUser(ctx, u)
		if err != nil {
			t.Fatal(err)
		}
		if u.ApplicationID == disabledAppID {
			if err := st.SetUserDisabled(ctx, id, true); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// response is what a test looks at.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body as a JSON object.
func (r *response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(r.body))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// errorOf returns the code and message of an error envelope.
func (r *response) errorOf(t *testing.T) (code, message string) {
	t.Helper()
	m := r.json(t)
	e, ok := m["error"].(map[string]any)
	if !ok || len(m) != 1 {
		t.Fatalf("not an error envelope: %s", r.body)
	}
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return code, message
}

// call sends a request the way Dataverse clients do: OData headers,
// Accept JSON, If-None-Match: null, the bearer token, and a JSON body
// when given. Extra headers come as name, value pairs.
func (e *env) call(method, path, token string, body any, headers ...string) *response {
	e.t.Helper()
	var rd io.Reader
	if body != nil {
		switch b := body.(type) {
		case string:
			rd = strings.NewReader(b)
		case []byte:
			rd = bytes.NewReader(b)
		default:
			data, err := json.Marshal(b)
			if err != nil {
				e.t.Fatal(err)
			}
			rd = bytes.NewReader(data)
		}
	}
	// Callers write queries readably; encode what a client would.
	url := strings.ReplaceAll(path, " ", "%20")
	if !strings.HasPrefix(path, "https://") {
		url = e.org + url
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	req.Header.Set("If-None-Match", "null")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		switch {
		case headers[i+1] == "":
			req.Header.Del(headers[i])
		case headers[i] == "If-None-Match" || headers[i] == "Content-Type":
			req.Header.Set(headers[i], headers[i+1])
		default:
			req.Header.Add(headers[i], headers[i+1])
		}
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if resp.Header.Get("OData-Version") != "4.0" {
		e.t.Errorf("%s %s: OData-Version header = %q", method, path, resp.Header.Get("OData-Version"))
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}
}

const api = "/api/data/v9.2/"

// expectError checks a response's status and error envelope.
func expectError(t *testing.T, r *response, status int, code, messagePrefix string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d; want %d\n%s", r.status, status, r.body)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json; odata.metadata=minimal" {
		t.Errorf("error Content-Type = %q", ct)
	}
	gotCode, msg := r.errorOf(t)
	if gotCode != code || !strings.HasPrefix(msg, messagePrefix) {
		t.Errorf("error = %s %q; want %s %q…", gotCode, msg, code, messagePrefix)
	}
}

// testLogger sends the handler's log to the test log, so failures show
// the reason.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}
