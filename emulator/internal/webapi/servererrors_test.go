package webapi_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/webapi"
)

// syncBuffer is a log destination the handler's goroutines share.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newLoggedEnv(t *testing.T) (*env, *syncBuffer) {
	t.Helper()
	var log syncBuffer
	e := newEnvConfig(t, "", nil, func(o *webapi.Options) {
		o.Logger = slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	return e, &log
}

// A 500 says only "An unexpected error occurred." on the wire: its cause must be in the log,
// at Error, for whoever reads a failed test or `d365 emulator -v`. Here the database is gone.
func TestServerErrorLogsItsCause(t *testing.T) {
	t.Parallel()
	e, log := newLoggedEnv(t)
	if resp := e.call("GET", "/api/data/v9.2/contacts", tokenAdmin, nil); resp.status != http.StatusOK {
		t.Fatalf("GET contacts: %d %s", resp.status, resp.body)
	}
	e.store.Close()
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/data/v9.2/contacts?$select=lastname", ""},
		{"POST", "/api/data/v9.2/contacts", `{"lastname":"x"}`},
	} {
		var body any
		if r.body != "" {
			body = r.body
		}
		resp := e.call(r.method, r.path, tokenAdmin, body)
		if resp.status != http.StatusInternalServerError {
			t.Fatalf("%s %s on a closed store: %d %s, want 500", r.method, r.path, resp.status, resp.body)
		}
	}
	out := log.String()
	for _, want := range []string{
		`level=ERROR msg="webapi: request failed" method=GET path=/api/data/v9.2/contacts`,
		`level=ERROR msg="webapi: request failed" method=POST path=/api/data/v9.2/contacts`,
		"status=500 code=0x80040216",
		"database is closed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the log lacks %q:\n%s", want, out)
		}
	}
}

// A request whose client went away (cancelled, connection closed) fails because of that: it is
// not a server error (nothing logged at Error) and no 500 is sent to anyone.
func TestAbandonedRequestIsNoServerError(t *testing.T) {
	t.Parallel()
	e, log := newLoggedEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A request's context is done once its client went away; the handler is driven directly,
	// since a client that gave up sends nothing.
	h, err := webapi.New(webapi.Options{Store: e.store, OrgURL: e.org, TenantID: tenantID, AuthorizationURI: e.org + "/authorize",
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	srv := withFakeIdentity(h)
	r, _ := http.NewRequestWithContext(ctx, "GET", e.org+"/api/data/v9.2/contacts", nil)
	r.Header.Set("Authorization", "Bearer "+tokenAdmin)
	aborted := func() (v any) {
		defer func() { v = recover() }()
		srv.ServeHTTP(&discardWriter{header: http.Header{}}, r)
		return nil
	}()
	if aborted != http.ErrAbortHandler {
		t.Errorf("the handler of a request whose client went away ended with %v, want panic(http.ErrAbortHandler)", aborted)
	}
	out := log.String()
	if strings.Contains(out, "level=ERROR") {
		t.Errorf("an abandoned request was logged as a server error:\n%s", out)
	}
	if !strings.Contains(out, `msg="webapi: request abandoned: the client went away"`) {
		t.Errorf("the log does not say the client went away:\n%s", out)
	}
}

type discardWriter struct {
	header http.Header
	status int
}

func (w *discardWriter) Header() http.Header         { return w.header }
func (w *discardWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *discardWriter) WriteHeader(status int)      { w.status = status }
