package dataverse_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// The client's overhead per request over a bare net/http call to the same emulator endpoint, over
// the same HTTPS transport, with a token fetched once. Both sides decode the response into the same
// struct. The emulator runs in the benchmark's process, so ns/op and allocs/op include its work;
// it is the same for both sides, so the difference between a client/… and its bare/… benchmark is
// the client's overhead: the azcore pipeline (retry bookkeeping, bearer-token policy with its cached
// token, logging checks, telemetry), URL building and the error check.
//
//	go test -run '^$' -bench 'E2E' -benchmem -count 6 ./dataverse
//
// Results and the machine they came from: docs/benchmarks.md.

// benchEnv is an emulator without service protection limits (a benchmark sends far more than
// 6,000 requests in 5 minutes) with a client, a static token and one contact.
func benchEnv(b *testing.B) (*e2eEnv, string, uuid.UUID) {
	b.Helper()
	off := emulator.LimitsOff()
	env := newE2E(b, &e2eSetup{emulator: &emulator.Options{Limits: &off}})
	res, err := env.client.Create(b.Context(), "contacts",
		map[string]any{"firstname": "Ada", "lastname": "Lovelace", "emailaddress1": "ada@example.com"}, nil)
	if err != nil {
		b.Fatal(err)
	}
	return env, env.token(b), res.ID
}

// bareGet sends a GET with the headers the client sends and decodes the JSON body into out.
func bareGet(b *testing.B, hc *http.Client, url, token string, out any) {
	req, err := http.NewRequestWithContext(b.Context(), http.MethodGet, url, nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	resp, err := hc.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		b.Fatalf("%d %s", resp.StatusCode, body)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		b.Fatal(err)
	}
}

func BenchmarkE2EWhoAmI(b *testing.B) {
	env, token, _ := benchEnv(b)
	ctx := b.Context()
	b.Run("client", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := env.client.WhoAmI(ctx); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		hc := env.emu.HTTPClient()
		url := env.emu.OrgURL() + "/api/data/v9.2/WhoAmI"
		b.ReportAllocs()
		for b.Loop() {
			var me dataverse.WhoAmIResponse
			bareGet(b, hc, url, token, &me)
		}
	})
}

func BenchmarkE2ERetrieve(b *testing.B) {
	env, token, id := benchEnv(b)
	ctx := b.Context()
	type contact struct {
		ID       uuid.UUID `json:"contactid"`
		FullName string    `json:"fullname"`
		Email    string    `json:"emailaddress1"`
		ETag     string    `json:"@odata.etag"`
	}
	b.Run("client", func(b *testing.B) {
		opts := &dataverse.RetrieveOptions{Select: []string{"fullname", "emailaddress1"}}
		b.ReportAllocs()
		for b.Loop() {
			var c contact
			if err := env.client.Retrieve(ctx, "contacts", id, &c, opts); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		hc := env.emu.HTTPClient()
		url := env.emu.OrgURL() + "/api/data/v9.2/contacts(" + id.String() + ")?$select=fullname%2Cemailaddress1"
		b.ReportAllocs()
		for b.Loop() {
			var c contact
			bareGet(b, hc, url, token, &c)
		}
	})
}
