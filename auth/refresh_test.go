package auth_test

import (
	"context"
	"encoding/json"
	"strconv"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/d365s2s/d365/auth"
)

// tokenRefresher is dataverse.TokenRefresher, which this package cannot import.
type tokenRefresher interface {
	RefreshToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error)
}

// RefreshToken asks the token service for a new token although azidentity's cache holds a valid
// one (it sends a claims request, which MSAL never answers from its cache), and the new token
// replaces the cached one: GetToken returns it afterwards without another request. With and
// without CAE, as azcore's bearer policy asks with EnableCAE.
func TestRefreshTokenBypassesTheCache(t *testing.T) {
	t.Parallel()
	for _, cae := range []bool{true, false} {
		t.Run("EnableCAE="+strconv.FormatBool(cae), func(t *testing.T) {
			t.Parallel()
			sts := newFakeSTS(t)
			cfg := sts.config(t)
			cred, err := auth.NewCredential(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			refresher, ok := cred.(tokenRefresher)
			if !ok {
				t.Fatalf("%T has no RefreshToken", cred)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			opts := policy.TokenRequestOptions{Scopes: []string{cfg.Scope()}, EnableCAE: cae}
			for range 2 {
				if _, err := cred.GetToken(ctx, opts); err != nil {
					t.Fatal(err)
				}
			}
			if n := sts.tokenRequests(); n != 1 {
				t.Fatalf("%d token requests for two GetToken calls, want 1 (the cache)", n)
			}
			before := time.Now().Unix()
			fresh, err := refresher.RefreshToken(ctx, opts)
			if err != nil {
				t.Fatalf("RefreshToken: %v", err)
			}
			if n := sts.tokenRequests(); n != 2 {
				t.Fatalf("%d token requests after RefreshToken, want 2: it must not answer from the cache", n)
			}
			// The request asked for a token issued not before now.
			var claims struct {
				AccessToken struct {
					NBF struct {
						Essential bool   `json:"essential"`
						Value     string `json:"value"`
					} `json:"nbf"`
				} `json:"access_token"`
			}
			seen := sts.claimsSeen()
			if err := json.Unmarshal([]byte(seen[1]), &claims); err != nil {
				t.Fatalf("claims %q: %v", seen[1], err)
			}
			nbf, _ := strconv.ParseInt(claims.AccessToken.NBF.Value, 10, 64)
			if !claims.AccessToken.NBF.Essential || nbf < before || nbf > time.Now().Unix() {
				t.Errorf("claims %s, want an essential nbf of now", seen[1])
			}
			if seen[0] != "" && !cae {
				t.Errorf("the first, ordinary request carried claims %q", seen[0])
			}
			again, err := cred.GetToken(ctx, opts)
			if err != nil || again.Token != fresh.Token || sts.tokenRequests() != 2 {
				t.Errorf("GetToken after the refresh: %v, same token %v, %d requests; want the refreshed token from the cache",
					err, again.Token == fresh.Token, sts.tokenRequests())
			}
		})
	}
}
