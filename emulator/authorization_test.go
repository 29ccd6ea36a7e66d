package emulator_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator"
)

// A request with two Authorization headers is refused with 400 whichever comes first: serving it
// by the first would let a proxy and the emulator disagree on who the caller is.
func TestTwoAuthorizationHeadersAreRefused(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	token := v1Token(t, emu)
	creds := emu.Credentials()
	basic := "Basic " + basicAuth(creds.ClientID, creds.ClientSecret)
	for _, tt := range []struct {
		name, method, path string
		headers            []string
		body               string
		wantCode           string // Dataverse's error code, or Entra's error
	}{
		{"Web API, valid token first", http.MethodGet, "/api/data/v9.2/WhoAmI", []string{"Bearer " + token, "Bearer not-a-token"}, "", "0x0"},
		{"Web API, valid token second", http.MethodGet, "/api/data/v9.2/WhoAmI", []string{"Bearer not-a-token", "Bearer " + token}, "", "0x0"},
		{"Web API, the same token twice", http.MethodGet, "/api/data/v9.2/WhoAmI", []string{"Bearer " + token, "Bearer " + token}, "", "0x0"},
		{"token endpoint, two Basic credentials", http.MethodPost, "/" + creds.TenantID + "/oauth2/v2.0/token", []string{basic, basic},
			url.Values{"grant_type": {"client_credentials"}, "scope": {emu.OrgURL() + "/.default"}}.Encode(), "invalid_request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(tt.method, emu.URL()+tt.path, strings.NewReader(tt.body))
			if tt.body != "" {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			for _, h := range tt.headers {
				req.Header.Add("Authorization", h)
			}
			resp, err := emu.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d %s, want 400", resp.StatusCode, body)
			}
			var e struct {
				Error any `json:"error"`
			}
			if err := json.Unmarshal(body, &e); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			code := ""
			switch v := e.Error.(type) {
			case string:
				code = v
			case map[string]any:
				code, _ = v["code"].(string)
			}
			if code != tt.wantCode {
				t.Errorf("error code %q, want %q: %s", code, tt.wantCode, body)
			}
			if strings.Contains(string(body), token) || strings.Contains(string(body), creds.ClientSecret) {
				t.Error("the answer echoes a credential")
			}
		})
	}
	log := emu.RequestLog(emulator.LogFilter{Status: []int{400}})
	if len(log) != 4 || !strings.Contains(log[0].Reason, "Authorization") {
		t.Errorf("request log of the refusals = %+v", log)
	}
}

func basicAuth(user, password string) string {
	r, _ := http.NewRequest(http.MethodGet, "https://x", nil)
	r.SetBasicAuth(url.QueryEscape(user), url.QueryEscape(password))
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Basic ")
}
