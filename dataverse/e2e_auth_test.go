package dataverse_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/auth"
	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// scriptedCredential hands out the tokens of tokens in turn (the last one for ever after) and counts
// the calls.
type scriptedCredential struct {
	mu     sync.Mutex
	tokens []func() (string, error)
	calls  int
}

func (s *scriptedCredential) GetToken(context.Context, policy.TokenRequestOptions) (azcore.AccessToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	next := s.tokens[min(s.calls, len(s.tokens)-1)]
	s.calls++
	tok, err := next()
	return azcore.AccessToken{Token: tok, ExpiresOn: time.Now().Add(time.Hour)}, err
}

func (s *scriptedCredential) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func fixed(tok string) func() (string, error) { return func() (string, error) { return tok, nil } }

// wantChallenge checks a 401 from env's emulator: typed, with the challenge parsed, the token kept
// out of the message, and one fresh token asked for before giving up.
func wantChallenge(t *testing.T, env *e2eEnv, err error, token string) {
	t.Helper()
	var re *dataverse.ResponseError
	if !errors.As(err, &re) || !dataverse.IsUnauthorized(err) {
		t.Fatalf("error %v, want a 401 *ResponseError", err)
	}
	if re.Challenge == nil {
		t.Fatalf("401 without a parsed challenge: %+v", re)
	}
	wantAuth := env.emu.URL() + "/" + env.emu.TenantID() + "/oauth2/authorize"
	if re.Challenge.AuthorizationURI != wantAuth || strings.TrimSuffix(re.Challenge.ResourceID, "/") != env.emu.OrgURL() {
		t.Errorf("challenge %+v, want authorization_uri %s and resource_id %s", re.Challenge, wantAuth, env.emu.OrgURL())
	}
	msg := err.Error()
	if strings.Contains(msg, token) || strings.Contains(msg, token[len(token)-20:]) {
		t.Errorf("the error text contains the access token: %s", msg)
	}
	if !strings.Contains(msg, env.emu.OrgURL()) {
		t.Errorf("the error %q does not name the resource the environment expects", msg)
	}
}

// TestE2EUnauthorizedTokens: a token for another environment and an expired token are refused with
// a 401 challenge that the client parses; the client asks for a fresh token once, then gives up.
func TestE2EUnauthorizedTokens(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	other := newE2E(t, nil)
	ctx := t.Context()

	t.Run("other environment", func(t *testing.T) {
		foreign := other.token(t) // signed by another emulator, for its URL
		cred := &scriptedCredential{tokens: []func() (string, error){fixed(foreign)}}
		wire := &wireLog{next: env.emu.HTTPClient()}
		client := newClient(t, env.emu, cred, &dataverse.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: wire}})
		_, err := client.WhoAmI(ctx)
		wantChallenge(t, env, err, foreign)
		if n := cred.count(); n != 2 {
			t.Errorf("the credential was asked %d times, want 2 (the first token and one fresh one after the challenge)", n)
		}
		if n := wire.count(http.MethodGet, "WhoAmI"); n != 1 {
			t.Errorf("%d WhoAmI requests, want 1: the credential had no other token, so nothing is resent", n)
		}
	})

	t.Run("expired", func(t *testing.T) {
		// A dedicated emulator: moving its clock must not disturb the other subtest.
		exp := newE2E(t, nil)
		tok := exp.token(t)
		exp.emu.SetClockOffset(2 * time.Hour)
		client := newClient(t, exp.emu, &scriptedCredential{tokens: []func() (string, error){fixed(tok)}}, nil)
		_, err := client.WhoAmI(ctx)
		wantChallenge(t, exp, err, tok)
	})

	t.Run("fresh token after the challenge", func(t *testing.T) {
		good := env.token(t)
		cred := &scriptedCredential{tokens: []func() (string, error){fixed(other.token(t)), fixed(good)}}
		client := newClient(t, env.emu, cred, nil)
		me, err := client.WhoAmI(ctx)
		if err != nil {
			t.Fatalf("WhoAmI with a stale cached token: %v, want success after one fresh token", err)
		}
		if me.UserID.String() == "" || cred.count() != 2 {
			t.Errorf("WhoAmI = %+v after %d token requests, want 2", me, cred.count())
		}
		// The fresh token is kept: no more token requests.
		if _, err := client.RetrieveVersion(ctx); err != nil || cred.count() != 2 {
			t.Errorf("second call: %v after %d token requests", err, cred.count())
		}
	})
}

// TestE2EForbiddenWithoutApplicationUser: an app registration that Entra knows but Dataverse does not
// gets 403 0x80072560 with the fix in words; with an application user and no role, 403
// 0x80042f09; with a role it works.
func TestE2EForbiddenWithoutApplicationUser(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()
	app, err := env.emu.CreateApp(ctx, emulator.NewApp{DisplayName: "no app user yet"})
	if err != nil {
		t.Fatal(err)
	}
	_, secret, err := env.emu.AddSecret(ctx, app.ClientID, emulator.NewSecret{})
	if err != nil {
		t.Fatal(err)
	}
	cred := appSecretCredential(t, env.emu, app.TenantID, app.ClientID, secret)
	client := newClient(t, env.emu, cred, nil)

	_, err = client.WhoAmI(ctx)
	re := wantResponseError(t, "WhoAmI without an application user", err, http.StatusForbidden, dataverse.CodeUserNotMemberOfOrg)
	if !dataverse.IsForbidden(err) || !strings.Contains(re.Error(), "Application users") || !strings.Contains(re.Error(), "create one") {
		t.Errorf("error %q does not say to create the application user", re.Error())
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error contains the client secret")
	}

	if _, err := env.emu.CreateApplicationUser(ctx, emulator.NewApplicationUser{App: app.ClientID}); err != nil {
		t.Fatal(err)
	}
	_, err = client.Create(ctx, "contacts", map[string]any{"lastname": "Roleless"}, nil)
	re = wantResponseError(t, "Create by an application user without roles", err, http.StatusForbidden, dataverse.CodeUserNotAssignedRoles)
	if !strings.Contains(re.Error(), "security role") {
		t.Errorf("error %q does not say to assign a security role", re.Error())
	}

	if err := env.emu.SetApplicationUserRoles(ctx, app.ClientID, []string{emulator.DefaultRoleName}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Create(ctx, "contacts", map[string]any{"lastname": "Roleful"}, nil); err != nil {
		t.Errorf("Create after the role was assigned: %v", err)
	}
}

// tokenRequests is a transport that counts the token requests passing through it.
type tokenRequests struct {
	next policy.Transporter
	n    atomic.Int32
}

func (c *tokenRequests) Do(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPost && strings.HasSuffix(req.URL.Path, "/oauth2/v2.0/token") {
		c.n.Add(1)
	}
	return c.next.Do(req)
}

// TestE2EExpiredTokenRefreshedPastTheCache: real azidentity behind auth.NewCredential. The
// emulator's clock moves past the token's expiry while azidentity's cache, on this machine's
// clock, still holds the token for valid for most of an hour, so asking the credential again
// would return the rejected token. After the 401 challenge the client asks the credential for a
// token past its cache (dataverse.TokenRefresher), resends once and succeeds; later calls use the
// new token without asking again.
func TestE2EExpiredTokenRefreshedPastTheCache(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()
	creds := env.emu.Credentials()
	tokens := &tokenRequests{next: env.emu.HTTPClient()}
	cred, err := auth.NewCredential(auth.Config{
		OrgURL:        env.emu.OrgURL(),
		TenantID:      creds.TenantID,
		ClientID:      creds.ClientID,
		ClientSecret:  auth.Secret(creds.ClientSecret),
		AuthorityHost: env.emu.AuthorityHost(),
	}, &auth.CredentialOptions{ClientOptions: azcore.ClientOptions{Transport: tokens}})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cred.(dataverse.TokenRefresher); !ok {
		t.Fatalf("auth.NewCredential's credential %T is not a dataverse.TokenRefresher", cred)
	}
	wire := &wireLog{next: env.emu.HTTPClient()}
	client := newClient(t, env.emu, cred, &dataverse.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: wire}})

	if _, err := client.WhoAmI(ctx); err != nil {
		t.Fatal(err)
	}
	if n := tokens.n.Load(); n != 1 {
		t.Fatalf("%d token requests for the first call, want 1", n)
	}
	env.emu.SetClockOffset(61 * time.Minute)
	if _, err := client.WhoAmI(ctx); err != nil {
		t.Fatalf("WhoAmI after the token expired on the service's clock: %v, want success with a new token", err)
	}
	if n := tokens.n.Load(); n != 2 {
		t.Errorf("%d token requests, want 2: one new token past azidentity's cache after the challenge", n)
	}
	var statuses []int
	for _, r := range wire.take() {
		statuses = append(statuses, r.Status)
	}
	if diff := cmp.Diff([]int{http.StatusOK, http.StatusUnauthorized, http.StatusOK}, statuses); diff != "" {
		t.Errorf("WhoAmI statuses (-want +got):\n%s", diff)
	}
	if _, err := client.RetrieveVersion(ctx); err != nil || tokens.n.Load() != 2 {
		t.Errorf("next call: %v after %d token requests; want success with the new token, no new request", err, tokens.n.Load())
	}
}
