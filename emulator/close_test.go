package emulator_test

import (
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/d365s2s/d365/emulator"
)

// otherClient is an HTTP/2 client with its own transport (another process's, as far as the
// emulator knows), trusting the emulator's CA.
func otherClient(emu *emulator.Emulator) *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: emu.CACertPool(), MinVersion: tls.VersionTLS12},
		ForceAttemptHTTP2: true,
	}}
}

// Close answers a request in flight in full, closes the idle HTTP/2 connection another client
// holds, and leaves nothing answering.
func TestCloseFinishesRequestsInFlight(t *testing.T) {
	t.Parallel()
	emu, err := emulator.New(&emulator.Options{Faults: []emulator.FaultRule{{
		Match:  emulator.FaultMatch{Table: "WhoAmI"},
		Action: emulator.FaultAction{Kind: emulator.ActionLatency, Delay: 300 * time.Millisecond},
	}}})
	if err != nil {
		t.Fatal(err)
	}
	creds := emu.Credentials()
	token := mustToken(t, emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))

	idle := otherClient(emu)
	resp, err := idle.Get(emu.URL() + "/_emulator/health")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.ProtoMajor != 2 {
		t.Fatalf("the other client speaks HTTP/%d, want HTTP/2", resp.ProtoMajor)
	}

	busy := otherClient(emu)
	type answer struct {
		status int
		body   string
		err    error
	}
	answered := make(chan answer, 1)
	go func() {
		req, _ := http.NewRequest(http.MethodGet, emu.OrgURL()+"/api/data/v9.2/WhoAmI", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := busy.Do(req)
		if err != nil {
			answered <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		answered <- answer{resp.StatusCode, string(body), err}
	}()
	// Wait until the request is in the emulator (its injected delay has started).
	for deadline := time.Now().Add(10 * time.Second); emu.Faults()[0].Matched == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the emulator")
		}
	}
	if err := emu.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	a := <-answered
	if a.err != nil || a.status != http.StatusOK || !jsonHas(a.body, "UserId") {
		t.Errorf("request in flight during Close: %d %q %v, want WhoAmI answered in full", a.status, a.body, a.err)
	}
	for name, c := range map[string]*http.Client{"idle other client": idle, "emulator's client": emu.HTTPClient()} {
		if resp, err := c.Get(emu.URL() + "/_emulator/health"); err == nil {
			resp.Body.Close()
			t.Errorf("%s: the emulator still answers (%d) after Close", name, resp.StatusCode)
		}
	}
}

func jsonHas(body, key string) bool {
	return strings.HasPrefix(body, "{") && strings.Contains(body, `"`+key+`"`)
}

// BenchmarkCloseWithAnotherClientsIdleHTTP2Connection measures Close while a client with its
// own transport holds an idle HTTP/2 connection (a CLI or another test's client): the server no
// longer waits for it to hang up after GOAWAY.
func BenchmarkCloseWithAnotherClientsIdleHTTP2Connection(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		emu, err := emulator.New(nil)
		if err != nil {
			b.Fatal(err)
		}
		c := otherClient(emu)
		resp, err := c.Get(emu.URL() + "/_emulator/health")
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		b.StartTimer()
		if err := emu.Close(); err != nil {
			b.Fatal(err)
		}
	}
}
