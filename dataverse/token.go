package dataverse

import (
	"context"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// TokenRefresher is implemented by credentials that can get a new access
// token on demand, bypassing the token cache they keep. azidentity
// credentials answer GetToken from their cache until five minutes before a
// token expires, so when the service rejects a token that the credential
// still holds for valid (it was revoked, the service's clock is ahead, the
// signing keys rolled), asking GetToken again returns the same rejected
// token. After a 401 with a bearer challenge, a Client whose credential
// returns the rejected token again asks RefreshToken for a new one, and
// resends the request once with it. The credential of auth.NewCredential
// implements it.
//
// RefreshToken must return a token that was not served from a cache, and
// should store it where GetToken finds it, so that later calls use it.
type TokenRefresher interface {
	RefreshToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error)
}

// errSameToken is what onChallenge reports when the credential has no other
// token than the one the service just rejected: resending the request would
// only be rejected again, so the 401 goes back to the caller.
var errSameToken = errors.New("dataverse: the credential returned the access token the service rejected")

// challengedCredential is the credential the bearer-token policy uses: the
// caller's, plus the memory of the last token the service rejected, so that
// the credential's cache cannot hand that token out again when a refresher
// can do better. Only a SHA-256 of the token is kept.
type challengedCredential struct {
	cred     azcore.TokenCredential
	rejected atomic.Pointer[[sha256.Size]byte]
	// lean is the last token the bearer-token policy obtained, which the
	// lean first try sends (lean.go); nil before the first and after a 401.
	lean atomic.Pointer[leanToken]
}

// GetToken implements azcore.TokenCredential.
func (w *challengedCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := w.getToken(ctx, opts)
	if err == nil && opts.EnableCAE {
		// Only the bearer policy asks with EnableCAE (Client.Governor does
		// not): this is the token it caches and sends.
		w.keepLeanToken(tok)
	}
	return tok, err
}

func (w *challengedCredential) getToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := w.cred.GetToken(ctx, opts)
	if err != nil {
		return tok, err
	}
	if r := w.rejected.Load(); r == nil || *r != sha256.Sum256([]byte(tok.Token)) {
		return tok, nil
	}
	refresher, ok := w.cred.(TokenRefresher)
	if !ok {
		return tok, nil // onChallenge sees the same token and does not resend
	}
	return refresher.RefreshToken(ctx, opts)
}

// bearerRefreshMargin is how long before a token's expiry azcore's
// bearer-token policy (v1.24.0, runtime/policy_bearer_token.go,
// shouldRefresh) gets a new one when the token names no RefreshOn.
const bearerRefreshMargin = 5 * time.Minute

// leanToken is an access token as the lean first try sends it. It is never
// printed: the type has no fields a formatter would show but the header.
type leanToken struct {
	// authorization is the Authorization header value, "Bearer <token>",
	// in a slice shared by every lean request and never modified.
	authorization []string
	// refreshAt is when the bearer policy would stop sending the token
	// and get a new one: its RefreshOn, else bearerRefreshMargin before
	// its expiry.
	refreshAt time.Time
}

// String keeps the token out of anything that prints a leanToken.
func (*leanToken) String() string { return "leanToken(REDACTED)" }

// GoString keeps the token out of %#v.
func (*leanToken) GoString() string { return "leanToken(REDACTED)" }

// keepLeanToken records the token the bearer policy got.
func (w *challengedCredential) keepLeanToken(tok azcore.AccessToken) {
	if tok.Token == "" {
		return
	}
	at := tok.RefreshOn
	if at.IsZero() {
		at = tok.ExpiresOn.Add(-bearerRefreshMargin)
	}
	w.lean.Store(&leanToken{authorization: []string{"Bearer " + tok.Token}, refreshAt: at})
}

// leanToken returns the token the lean first try may send: the bearer
// policy's last one, while the policy would still send it without asking
// the credential again; nil otherwise (the call takes the pipeline, whose
// bearer policy refreshes it).
func (w *challengedCredential) leanToken() *leanToken {
	t := w.lean.Load()
	if t == nil || !time.Now().Before(t.refreshAt) {
		return nil
	}
	return t
}

// forgetLeanToken drops t after the service answered it with 401: the
// bearer policy drops its cached token then, and the next call takes the
// pipeline, which gets a new one.
func (w *challengedCredential) forgetLeanToken(t *leanToken) {
	w.lean.CompareAndSwap(t, nil)
}

// forgetLeanAuthorization drops the lean token when it is the one in
// authorization, which the service answered with 401.
func (w *challengedCredential) forgetLeanAuthorization(authorization string) {
	if t := w.lean.Load(); t != nil && t.authorization[0] == authorization {
		w.lean.CompareAndSwap(t, nil)
	}
}

// reject remembers the token of a request the service answered with 401.
func (w *challengedCredential) reject(authorization string) {
	tok, ok := strings.CutPrefix(authorization, "Bearer ")
	if !ok || tok == "" {
		return
	}
	sum := sha256.Sum256([]byte(tok))
	w.rejected.Store(&sum)
}

// onChallenge is the bearer policy's hook for a 401 response carrying a
// WWW-Authenticate challenge that is not a CAE claims challenge. Dataverse
// answers every rejected token with such a challenge
// ("Bearer authorization_uri=…, resource_id=…"). Before calling it, the
// bearer policy has expired its cached token, so authorize asks the
// credential again; the policy then resends the request once and returns
// whatever comes back (a second 401 is not retried again).
//
// The rejected token is remembered first, so that if the credential's own
// cache hands it out again, a TokenRefresher is asked for a new one. If the
// token is still the same, resending is pointless: errSameToken makes
// attemptPolicy return the 401 as it is.
func (c *Client) onChallenge(req *policy.Request, _ *http.Response, authorize func(policy.TokenRequestOptions) error) error {
	sent := req.Raw().Header.Get("Authorization")
	c.cred.reject(sent)
	if err := authorize(policy.TokenRequestOptions{Scopes: c.scopes()}); err != nil {
		return err
	}
	if req.Raw().Header.Get("Authorization") == sent {
		return errSameToken
	}
	return nil
}
