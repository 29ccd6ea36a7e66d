package identity

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestRestartKeepsState opens a second Service on the same database file, as a restarted
// emulator does: tenants, apps, secrets, certificates and signing keys survive, and tokens issued
// before the restart still validate.
func TestRestartKeepsState(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	must(t, e.svc.DisableApp(ctx, testClientID))
	must(t, e.svc.EnableApp(ctx, testClientID))
	r := e.post(t, e.tokenURL(testTenantID, tokenV2), e.withOrg(secretForm()), nil)
	if r.status != http.StatusOK {
		t.Fatalf("token before restart: %d %s", r.status, r.raw)
	}
	oldToken := r.body["access_token"].(string)
	_, err := e.svc.RotateSigningKey(ctx)
	must(t, err)
	rotatedToken := e.issue(t, e.svc.Resource())
	keysBefore := e.svc.SigningKeys()
	certsBefore, err := e.svc.Certificates(ctx, testClientID)
	must(t, err)
	secretsBefore, err := e.svc.Secrets(ctx, testClientID)
	must(t, err)

	restarted, err := New(ctx, openTestDB(t, e.dbPath), Options{BaseURL: e.svc.BaseURL(), Now: e.clock.Now})
	must(t, err)
	if diff := cmp.Diff(keysBefore, restarted.SigningKeys()); diff != "" {
		t.Errorf("signing keys after restart (-before +after):\n%s", diff)
	}
	for name, raw := range map[string]string{"pre-rotation": oldToken, "post-rotation": rotatedToken} {
		if _, err := restarted.ValidateAccessToken(raw); err != nil {
			t.Errorf("%s token after restart: %v", name, err)
		}
	}
	app, err := restarted.App(ctx, testClientID)
	must(t, err)
	if app != (App{ClientID: testClientID, TenantID: testTenantID, ObjectID: testObjectID, DisplayName: testAppName}) {
		t.Errorf("app after restart = %+v", app)
	}
	certsAfter, err := restarted.Certificates(ctx, testClientID)
	must(t, err)
	secretsAfter, err := restarted.Secrets(ctx, testClientID)
	must(t, err)
	if diff := cmp.Diff(certsBefore, certsAfter); diff != "" {
		t.Errorf("certificates after restart (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(secretsBefore, secretsAfter); diff != "" {
		t.Errorf("secrets after restart (-before +after):\n%s", diff)
	}

	// The restarted service authenticates the stored secret and certificate, and signs with the
	// rotated key.
	for name, form := range map[string]url.Values{
		"secret":      e.withOrg(secretForm()),
		"certificate": e.withOrg(assertionForm(e.assertion(t, e.cert, assertionSpec{}))),
	} {
		req := httptest.NewRequest(http.MethodPost, e.tokenURL(testTenantDomain, tokenV2), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		restarted.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("%s token after restart: %d %s", name, rec.Code, rec.Body)
		}
	}
	tok, err := restarted.ValidateAccessToken(e.issue(t, e.svc.Resource()))
	must(t, err)
	if tok.KeyID != keysBefore[0].KeyID {
		t.Errorf("signing key after restart %s, want the rotated %s", tok.KeyID, keysBefore[0].KeyID)
	}
}
