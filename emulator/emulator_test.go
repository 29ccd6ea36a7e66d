package emulator_test

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator"
)

// start runs an emulator for the test and closes it at the end.
func start(t *testing.T, opts *emulator.Options) *emulator.Emulator {
	t.Helper()
	emu, err := emulator.New(opts)
	if err != nil {
		t.Fatalf("emulator.New: %v", err)
	}
	t.Cleanup(func() {
		if err := emu.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return emu
}

// v1Token gets a token the way the seed article's ADAL code does: a v1 request with resource=.
func v1Token(t *testing.T, emu *emulator.Emulator) string {
	t.Helper()
	creds := emu.Credentials()
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {creds.ClientID},
		"client_secret": {creds.ClientSecret},
		"resource":      {emu.OrgURL()},
	}
	resp, err := emu.HTTPClient().PostForm(emu.URL()+"/"+creds.TenantID+"/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   string `json:"expires_in"`
	}
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("token: %d %s", resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	if body.AccessToken == "" || body.ExpiresIn == "" {
		t.Fatalf("v1 token response lacks access_token or string expires_in: %+v", body)
	}
	return body.AccessToken
}

// seedRequest sends a Web API request with the headers of the seed article's CrmRequest.
func seedRequest(t *testing.T, emu *emulator.Emulator, token, method, path string, body io.Reader) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, emu.OrgURL()+"/api/data/v9.2/"+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	req.Header.Set("Prefer", `odata.include-annotations="*"`)
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := emu.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func TestSeedArticleFlowWithPlainHTTP(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	token := v1Token(t, emu)

	resp := seedRequest(t, emu, token, http.MethodPost, "contacts", strings.NewReader(`{"firstname":"Seed","lastname":"Article"}`))
	if resp.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("create: %d %s", resp.StatusCode, b)
	}
	if !strings.HasPrefix(resp.Header.Get("OData-EntityId"), emu.OrgURL()+"/api/data/v9.2/contacts(") {
		t.Errorf("OData-EntityId = %q", resp.Header.Get("OData-EntityId"))
	}

	resp = seedRequest(t, emu, token, http.MethodGet, "contacts?$select=firstname,lastname", nil)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET contacts: %d %s", resp.StatusCode, b)
	}
	var page struct {
		Context string           `json:"@odata.context"`
		Value   []map[string]any `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
		t.Fatal(err)
	}
	if len(page.Value) != 1 || page.Value[0]["lastname"] != "Article" {
		t.Fatalf("contacts = %v, want the one created", page.Value)
	}
	if page.Value[0]["@odata.etag"] == nil {
		t.Errorf("record lacks @odata.etag: %v", page.Value[0])
	}
}

func TestUnauthenticatedRequestGetsChallenge(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	resp := seedRequest(t, emu, "not-a-token", http.MethodGet, "WhoAmI", nil)
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("status = %d, want 401", resp.StatusCode)
	}
	want := "Bearer authorization_uri=" + emu.URL() + "/" + emu.TenantID() + "/oauth2/authorize, resource_id=" + emu.OrgURL() + "/"
	if got := resp.Header.Get("WWW-Authenticate"); got != want {
		t.Errorf("WWW-Authenticate = %q, want %q", got, want)
	}
}

func TestCAIsARealAuthorityAndLeafCoversLoopbackNames(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	block, _ := pem.Decode(emu.CACertPEM())
	if block == nil {
		t.Fatal("CACertPEM is not PEM")
	}
	ca, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !ca.IsCA || ca.KeyUsage&x509.KeyUsageCertSign == 0 {
		t.Errorf("CA certificate: IsCA=%v KeyUsage=%v, want a CA that signs certificates", ca.IsCA, ca.KeyUsage)
	}
	resp, err := emu.HTTPClient().Get(emu.URL() + "/_emulator/health")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	leaf := resp.TLS.PeerCertificates[0]
	if leaf.IsCA {
		t.Error("the server certificate is a CA: want a leaf signed by the CA")
	}
	if err := leaf.CheckSignatureFrom(ca); err != nil {
		t.Errorf("leaf not signed by the CA: %v", err)
	}
	for _, host := range []string{"127.0.0.1", "::1", "localhost"} {
		if err := leaf.VerifyHostname(host); err != nil {
			t.Errorf("leaf does not cover %s: %v", host, err)
		}
	}
}

func TestRestartOnDataDirKeepsCAKeysAppsAndRecords(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil { // a data directory others may list and read
		t.Fatal(err)
	}
	first, err := emulator.New(&emulator.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	token := v1Token(t, first)
	resp := seedRequest(t, first, token, http.MethodPost, "contacts", strings.NewReader(`{"lastname":"Persistent"}`))
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	entityID := resp.Header.Get("OData-EntityId")
	caPEM := first.CACertPEM()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, emulator.CACertFile)); err != nil {
		t.Fatalf("CA certificate not kept in the data directory: %v", err)
	}
	// The database holds the token signing key: owner-only, like the CA key, even in a
	// directory that others may read.
	if fi, err := os.Stat(filepath.Join(dir, "emulator.db")); err != nil {
		t.Fatal(err)
	} else if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("emulator.db mode = %o, want 600", perm)
	}

	second := start(t, &emulator.Options{DataDir: dir})
	if string(second.CACertPEM()) != string(caPEM) {
		t.Error("the CA changed across a restart on the same data directory")
	}
	// The port changed, and with it the organization URL (the token audience), so ask with a
	// fresh token; the identity package's tests cover old tokens surviving a restart.
	id := entityID[strings.LastIndex(entityID, "(")+1 : len(entityID)-1]
	fresh := v1Token(t, second)
	resp = seedRequest(t, second, fresh, http.MethodGet, "contacts("+id+")?$select=lastname", nil)
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("record after restart: %d %s", resp.StatusCode, b)
	}
	var rec map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&rec); err != nil {
		t.Fatal(err)
	}
	if rec["lastname"] != "Persistent" {
		t.Errorf("record after restart = %v", rec)
	}
}

func TestCredentialsNeverPrintTheSecret(t *testing.T) {
	t.Parallel()
	c := emulator.Credentials{TenantID: "t", ClientID: "c", ClientSecret: "s3cr3t-value"}
	for _, s := range []string{c.String(), fmtV(c), fmtPlusV(c), fmtSharpV(c)} {
		if strings.Contains(s, "s3cr3t-value") {
			t.Errorf("formatted credentials contain the secret: %s", s)
		}
	}
}
