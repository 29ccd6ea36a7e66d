package emulator_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/adminclient"
)

const expiredMessage = "Version stamp associated with the client has expired. Please perform a full sync."

// deltaLinkOf reads accounts with change tracking and returns the delta link of the last page.
func (a *ctAPI) deltaLinkOf(set, query string) string {
	a.t.Helper()
	_, link, _ := a.readAll(a.do(http.MethodGet, set+query, "odata.track-changes", ""), set, "", nil)
	return link
}

func wantExpired(t *testing.T, r ctResponse, what string) {
	t.Helper()
	code, msg := r.errorCode()
	if r.status != http.StatusBadRequest || code != "0x80044352" || msg != expiredMessage {
		t.Errorf("%s: %d %s %q, want 400 0x80044352 %q", what, r.status, code, msg, expiredMessage)
	}
}

func TestChangeTrackingTokenExpiresWithTheClock(t *testing.T) {
	a := newCTAPI(t, nil)
	a.create("accounts", map[string]any{"name": "x"})
	link := a.deltaLinkOf("accounts", "?$select=name")
	emu := a.env.Emulator
	if got := emu.ExpireChangeTrackingInDays(); got != 7 || emulator.DefaultExpireChangeTrackingInDays != 7 {
		t.Fatalf("ExpireChangeTrackingInDays = %d, want the documented default 7", got)
	}

	emu.SetClockOffset(6*24*time.Hour + 23*time.Hour)
	a.token = ctToken(t, a.env)
	if r := a.do(http.MethodGet, link, "", ""); r.status != http.StatusOK {
		t.Fatalf("a token 6 days 23 hours old: %d %s, want 200", r.status, r.raw)
	}
	emu.SetClockOffset(7*24*time.Hour + time.Hour)
	a.token = ctToken(t, a.env) // the old access token expired with the move
	wantExpired(t, a.do(http.MethodGet, link, "", ""), "a token 7 days 1 hour old")
	wantExpired(t, a.do(http.MethodGet, countLink(link), "", ""), "$count with a token 7 days 1 hour old")

	// A longer retention makes the same token valid again.
	if err := emu.SetExpireChangeTrackingInDays(30); err != nil {
		t.Fatal(err)
	}
	if r := a.do(http.MethodGet, link, "", ""); r.status != http.StatusOK {
		t.Errorf("with 30 days' retention: %d %s, want 200", r.status, r.raw)
	}
	// Reset returns to the configured retention.
	if err := emu.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := emu.ExpireChangeTrackingInDays(); got != 7 {
		t.Errorf("after Reset ExpireChangeTrackingInDays = %d, want 7", got)
	}
}

// countLink turns a delta link into the $count request of the same token.
func countLink(deltaLink string) string {
	u, q, _ := strings.Cut(deltaLink, "?")
	_, tok, _ := strings.Cut(q, "$deltatoken=")
	return u + "/$count?$deltatoken=" + tok
}

// TestChangeTrackingTokensExpireWithAReset: after Reset (or Restore) the history a token
// describes is gone, so a token taken before it is expired, however many writes follow; one
// taken after it is valid.
func TestChangeTrackingTokensExpireWithAReset(t *testing.T) {
	a := newCTAPI(t, nil)
	a.create("accounts", map[string]any{"name": "before"})
	old := a.deltaLinkOf("accounts", "?$select=name")
	for i := range 5 {
		a.create("accounts", map[string]any{"name": "more before " + strings.Repeat("x", i)})
	}
	if err := a.env.Emulator.Reset(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.token = ctToken(t, a.env)
	fresh := a.deltaLinkOf("accounts", "?$select=name")
	for range 10 {
		a.create("accounts", map[string]any{"name": "after"})
	}
	wantExpired(t, a.do(http.MethodGet, old, "", ""), "a token taken before Reset")
	got, _, _ := a.readAll(a.do(http.MethodGet, fresh, "", ""), "accounts", "", nil)
	if len(got) != 10 {
		t.Errorf("a token taken after Reset gave %d changes, want the 10 creates", len(got))
	}
}

func TestChangeTrackingExpiryThroughTheAdminAPIAndScenario(t *testing.T) {
	sc, err := emulator.ParseScenario([]byte(`
organization:
  expireChangeTrackingInDays: 2
tenants:
  - {domain: ct.onmicrosoft.com}
apps:
  - name: ct-app
    secrets: [{value: "ct-secret-value-0123456789"}]
applicationUsers:
  - {app: ct-app, roles: [System Administrator]}
`), "ct.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := newCTAPI(t, &emulator.Options{Scenario: sc})
	a.create("accounts", map[string]any{"name": "x"})
	ctx := context.Background()
	admin, err := adminclient.New(a.env.Emulator.URL(), a.env.Emulator.HTTPClient())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := admin.ExpireChangeTrackingInDays(ctx); err != nil || got != 2 {
		t.Fatalf("admin ExpireChangeTrackingInDays = %d, %v; want the scenario's 2", got, err)
	}
	link := a.deltaLinkOf("accounts", "?$select=name")
	a.env.Emulator.SetClockOffset(3 * 24 * time.Hour)
	a.token = ctToken(t, a.env)
	wantExpired(t, a.do(http.MethodGet, link, "", ""), "3 days with the scenario's 2")

	a.env.Emulator.SetClockOffset(0)
	a.token = ctToken(t, a.env)
	if err := admin.SetExpireChangeTrackingInDays(ctx, 0); err != nil {
		t.Fatal(err)
	}
	wantExpired(t, a.do(http.MethodGet, link, "", ""), "retention 0 set through the admin API")
	if err := admin.SetExpireChangeTrackingInDays(ctx, 366); err == nil {
		t.Error("SetExpireChangeTrackingInDays(366) succeeded; want the 0–365 range refused")
	}
	if got, _ := admin.ExpireChangeTrackingInDays(ctx); got != 0 {
		t.Errorf("a refused setting changed the retention to %d", got)
	}

	bad, err := emulator.ParseScenario([]byte("organization:\n  expireChangeTrackingInDays: -1\n"), "bad.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if emu, err := emulator.New(&emulator.Options{Scenario: bad}); err == nil {
		emu.Close()
		t.Error("a scenario with expireChangeTrackingInDays -1 was accepted")
	} else if got := err.Error(); !containsAll(got, "bad.yaml", "expireChangeTrackingInDays", "0 to 365") {
		t.Errorf("scenario error %q does not name the file, the field and the range", got)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func TestChangeTrackingFaultRuleExpiresDeltaTokensOnDemand(t *testing.T) {
	a := newCTAPI(t, nil)
	a.create("accounts", map[string]any{"name": "x"})
	if _, err := a.env.Emulator.AddFault(emulator.FaultRule{ID: "expire",
		Match:   emulator.FaultMatch{Table: "accounts"},
		Trigger: emulator.FaultTrigger{Nth: 2},
		Action:  emulator.FaultAction{Kind: emulator.ActionExpireDeltaToken}}); err != nil {
		t.Fatal(err)
	}
	// The initial read carries no delta token: the rule neither fires nor counts it.
	link := a.deltaLinkOf("accounts", "?$select=name")
	if r := a.do(http.MethodGet, link, "", ""); r.status != http.StatusOK {
		t.Fatalf("first delta read: %d %s, want 200 (the rule fires on the 2nd)", r.status, r.raw)
	}
	wantExpired(t, a.do(http.MethodGet, link, "", ""), "second delta read")
	if r := a.do(http.MethodGet, link, "", ""); r.status != http.StatusOK {
		t.Errorf("third delta read: %d, want 200", r.status)
	}
	if err := (emulator.FaultRule{Action: emulator.FaultAction{Kind: emulator.ActionExpireDeltaToken, Status: 503}}).Validate(); err == nil {
		t.Error("an expireDeltaToken rule with a status was accepted")
	}
}
