package dataverse_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	azlog "github.com/Azure/azure-sdk-for-go/sdk/azcore/log"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// TestE2ERequestOptionsReachTheService: every per-request option goes out as its header (or the
// tag query parameter) on a real write, and the service accepts the request.
func TestE2ERequestOptionsReachTheService(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()
	step := uuid.New()
	opts := dataverse.RequestOptions{
		BypassCustomPluginExecution:             true,
		BypassBusinessLogicExecution:            []string{"CustomSync", "CustomAsync"},
		BypassBusinessLogicExecutionStepIDs:     []uuid.UUID{step},
		DuplicateDetection:                      true,
		SuppressCallbackRegistrationExpanderJob: true,
		SolutionUniqueName:                      "contoso_core",
		StrongConsistency:                       true,
		Tag:                                     "sync run 7 & more",
		Header:                                  http.Header{"X-Correlation": {"job-42"}},
	}
	env.wire.take()
	res, err := env.client.Create(ctx, "contacts", map[string]any{"lastname": "With options"}, &dataverse.CreateOptions{RequestOptions: opts})
	if err != nil {
		t.Fatalf("Create with every request option: %v", err)
	}
	reqs := requestsTo(env.wire.take(), http.MethodPost, "contacts")
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	h := reqs[0].Header
	for name, want := range map[string]string{
		"MSCRM.BypassCustomPluginExecution":             "true",
		"MSCRM.BypassBusinessLogicExecution":            "CustomSync,CustomAsync",
		"MSCRM.BypassBusinessLogicExecutionStepIds":     step.String(),
		"MSCRM.SuppressDuplicateDetection":              "false",
		"MSCRM.SuppressCallbackRegistrationExpanderJob": "true",
		"MSCRM.SolutionUniqueName":                      "contoso_core",
		"Consistency":                                   "Strong",
		"X-Correlation":                                 "job-42",
	} {
		if got := h.Get(name); got != want {
			t.Errorf("header %s = %q, want %q", name, got, want)
		}
	}
	q, err := url.ParseQuery(reqs[0].Query)
	if err != nil || q.Get("tag") != "sync run 7 & more" {
		t.Errorf("query %q: tag = %q, want the tag", reqs[0].Query, q.Get("tag"))
	}
	var c e2eContact
	if err := env.client.Retrieve(ctx, "contacts", res.ID, &c, &dataverse.RetrieveOptions{Select: []string{"lastname"}, RequestOptions: opts}); err != nil || c.LastName != "With options" {
		t.Errorf("Retrieve with every request option = %+v, %v", c, err)
	}
}

// TestE2EContextDeadline: a request slower than the context's deadline ends with the deadline's
// error, and a read is not retried past it.
func TestE2EContextDeadline(t *testing.T) {
	t.Parallel()
	env := newE2E(t, &e2eSetup{client: fastRetries})
	// A first call takes the token and the connection, so that the deadline below is spent on
	// the delayed request alone, even on a loaded machine under -race.
	if _, err := env.client.WhoAmI(t.Context()); err != nil {
		t.Fatal(err)
	}
	before := env.wire.count(http.MethodGet, "WhoAmI")
	addFault(t, env, emulator.FaultRule{
		Match:  emulator.FaultMatch{Table: "WhoAmI"},
		Action: emulator.FaultAction{Kind: emulator.ActionLatency, Delay: time.Minute},
	})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := env.client.WhoAmI(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WhoAmI slower than its deadline: %v, want context.DeadlineExceeded", err)
	}
	if n := env.wire.count(http.MethodGet, "WhoAmI") - before; n != 1 {
		t.Errorf("%d attempts, want 1: nothing is retried after the deadline", n)
	}
}

// TestE2ELogsNeverHoldSecrets: with azcore's logging on, a token request (client secret), calls
// with the token and a 401 challenge log their requests with the Authorization header redacted;
// neither the secret nor a token appears.
//
// Not parallel: the azcore log listener is process-wide.
func TestE2ELogsNeverHoldSecrets(t *testing.T) {
	var mu sync.Mutex
	var logs strings.Builder
	azlog.SetListener(func(_ azlog.Event, msg string) {
		mu.Lock()
		defer mu.Unlock()
		logs.WriteString(msg)
		logs.WriteByte('\n')
	})
	t.Cleanup(func() { azlog.SetListener(nil) })

	env := newE2E(t, nil)
	other := newE2E(t, nil)
	ctx := t.Context()
	if _, err := env.client.Create(ctx, "contacts", map[string]any{"lastname": "Logged"}, nil); err != nil {
		t.Fatal(err)
	}
	foreign := other.token(t)
	bad := newClient(t, env.emu, &scriptedCredential{tokens: []func() (string, error){fixed(foreign)}}, nil)
	if _, err := bad.WhoAmI(ctx); !dataverse.IsUnauthorized(err) {
		t.Fatalf("WhoAmI with a foreign token: %v", err)
	}
	own := env.token(t)

	mu.Lock()
	text := logs.String()
	mu.Unlock()
	if !strings.Contains(text, "/api/data/v9.2/contacts") || !strings.Contains(text, "Authorization: REDACTED") {
		t.Fatalf("the log does not show the requests with a redacted Authorization header:\n%.2000s", text)
	}
	for what, secret := range map[string]string{
		"client secret": env.emu.Credentials().ClientSecret,
		"access token":  own,
		"foreign token": foreign,
	} {
		if strings.Contains(text, secret) || strings.Contains(text, secret[len(secret)-16:]) {
			t.Errorf("the log contains the %s", what)
		}
	}
}
