package emulator_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// countingCredential records the distinct access tokens a client used.
type countingCredential struct {
	azcore.TokenCredential
	mu     sync.Mutex
	tokens map[string]time.Time // token -> ExpiresOn
}

func (c *countingCredential) GetToken(ctx context.Context, opts policy.TokenRequestOptions) (azcore.AccessToken, error) {
	tok, err := c.TokenCredential.GetToken(ctx, opts)
	if err == nil {
		c.mu.Lock()
		c.tokens[tok.Token] = tok.ExpiresOn
		c.mu.Unlock()
	}
	return tok, err
}

// TestFiveSecondTokensKeepABusyClientWorking keeps a dataverse client busy for 20 seconds while
// its access tokens live 5 seconds: every token expires several times under it, and no request
// may fail.
//
// The client starts working before t.Parallel: the test then waits for its parallel slot while
// the 20 seconds run, so the package's other tests run beside it rather than before it.
func TestFiveSecondTokensKeepABusyClientWorking(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 20 seconds")
	}
	const (
		lifetime = 5 * time.Second
		busyFor  = 20 * time.Second
		workers  = 2
		// pace keeps the client busy (about 40 requests a second) while leaving the CPU to the
		// package's other tests.
		pace = 50 * time.Millisecond
	)
	emu := start(t, &emulator.Options{TokenLifetime: lifetime})
	creds := emu.Credentials()
	cred := &countingCredential{
		TokenCredential: secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret),
		tokens:          map[string]time.Time{},
	}
	client, err := dataverse.NewClient(emu.OrgURL(), cred, &dataverse.ClientOptions{ClientOptions: azcore.ClientOptions{Transport: emu.HTTPClient()}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	deadline := time.Now().Add(busyFor)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		requests int
		failures []error
	)
	for w := range workers {
		wg.Go(func() {
			tick := time.NewTicker(pace)
			defer tick.Stop()
			for i := 0; time.Now().Before(deadline); i++ {
				<-tick.C
				var err error
				switch i % 3 {
				case 0:
					_, err = client.WhoAmI(ctx)
				case 1:
					_, err = client.Create(ctx, "contacts", dataverse.Record{"lastname": "Busy", "firstname": string(rune('A' + w))}, nil)
				default:
					_, err = client.List(ctx, "contacts", &dataverse.ListOptions{Query: dataverse.Query{Select: []string{"lastname"}, Top: 5}})
				}
				mu.Lock()
				requests++
				if err != nil {
					failures = append(failures, err)
				}
				mu.Unlock()
			}
		})
	}
	t.Parallel()
	wg.Wait()
	for i, err := range failures {
		if i == 5 {
			t.Errorf("… and %d more failures", len(failures)-5)
			break
		}
		t.Errorf("request failed: %v", err)
	}
	cred.mu.Lock()
	defer cred.mu.Unlock()
	// 20 s of 5 s tokens: the traffic outlived several tokens.
	if n := len(cred.tokens); n < 3 {
		t.Errorf("%d distinct tokens over %v of %v tokens, want several", n, busyFor, lifetime)
	}
	for tok := range cred.tokens {
		c := claims(t, tok)
		if got := time.Duration(c["exp"].(float64)-c["iat"].(float64)) * time.Second; got > lifetime+5*time.Minute {
			t.Errorf("token lifetime exp-iat = %v, want %v plus the 5-minute iat back-date", got, lifetime)
		}
		break
	}
	t.Logf("%d requests with %d tokens", requests, len(cred.tokens))
}
