package emulator_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/d365s2s/d365/emulator"
)

// testCert is an RSA client certificate with its key.
type testCert struct {
	cert *x509.Certificate
	key  *rsa.PrivateKey
	pem  []byte // the certificate only
}

var (
	certsOnce sync.Once
	certs     [3]*testCert
)

// clientCert returns one of three client certificates, generated once per test binary (RSA key
// generation is slow under -race).
func clientCert(t testing.TB, i int) *testCert {
	t.Helper()
	certsOnce.Do(func() {
		var wg sync.WaitGroup
		for i := range certs {
			wg.Go(func() { certs[i] = newTestCert("d365-test-client-" + string(rune('a'+i))) })
		}
		wg.Wait()
	})
	return certs[i]
}

func newTestCert(cn string) *testCert {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(now.UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		panic(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCert{cert: cert, key: key, pem: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// clientOptions points azidentity at the emulator and trusts its CA.
func clientOptions(emu *emulator.Emulator) azcore.ClientOptions {
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: emu.AuthorityHost()},
		Transport: emu.HTTPClient(),
		Retry:     policy.RetryOptions{MaxRetries: -1},
	}
}

func secretCredential(t testing.TB, emu *emulator.Emulator, tenant, clientID, secret string) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewClientSecretCredential(tenant, clientID, secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: clientOptions(emu), DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

func certCredential(t testing.TB, emu *emulator.Emulator, tenant, clientID string, c *testCert) azcore.TokenCredential {
	t.Helper()
	cred, err := azidentity.NewClientCertificateCredential(tenant, clientID, []*x509.Certificate{c.cert}, c.key,
		&azidentity.ClientCertificateCredentialOptions{ClientOptions: clientOptions(emu), DisableInstanceDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	return cred
}

// getToken asks cred for a token for the emulator's organization.
func getToken(emu *emulator.Emulator, cred azcore.TokenCredential) (azcore.AccessToken, error) {
	return cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{emu.OrgURL() + "/.default"}})
}

func mustToken(t testing.TB, emu *emulator.Emulator, cred azcore.TokenCredential) string {
	t.Helper()
	tok, err := getToken(emu, cred)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	return tok.Token
}

// aadstsCode returns the first AADSTS code of an azidentity failure, or 0.
func aadstsCode(t testing.TB, err error) int {
	t.Helper()
	var afe *azidentity.AuthenticationFailedError
	if !errors.As(err, &afe) || afe.RawResponse == nil {
		t.Fatalf("error %v is not an Entra failure with a response", err)
	}
	body, _ := io.ReadAll(afe.RawResponse.Body)
	afe.RawResponse.Body = io.NopCloser(bytes.NewReader(body))
	var e struct {
		ErrorCodes []int `json:"error_codes"`
	}
	if err := json.Unmarshal(body, &e); err != nil || len(e.ErrorCodes) == 0 {
		t.Fatalf("Entra answered %q, want a body with error_codes", body)
	}
	return e.ErrorCodes[0]
}

// claims decodes a JWT's claims without checking it.
func claims(t testing.TB, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(raw, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

func header(t testing.TB, token string) map[string]any {
	t.Helper()
	raw, err := base64.RawURLEncoding.DecodeString(strings.Split(token, ".")[0])
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	if err := json.Unmarshal(raw, &h); err != nil {
		t.Fatal(err)
	}
	return h
}

// apiResult is a Web API answer: status and, for errors, the Dataverse error code and message.
type apiResult struct {
	status  int
	code    string
	message string
	body    map[string]any
}

// callAPI sends a Web API request with a bearer token.
func callAPI(t testing.TB, emu *emulator.Emulator, token, method, path, body string) apiResult {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, emu.OrgURL()+"/api/data/v9.2/"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	req.Header.Set("Accept", "application/json")
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := emu.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	res := apiResult{status: resp.StatusCode}
	if len(raw) > 0 {
		var m map[string]any
		if json.Unmarshal(raw, &m) == nil {
			res.body = m
			if e, ok := m["error"].(map[string]any); ok {
				res.code, _ = e["code"].(string)
				res.message, _ = e["message"].(string)
			}
		}
	}
	return res
}

// adminCall sends a JSON request to the admin API and decodes the answer into out (when not nil).
func adminCall(t testing.TB, emu *emulator.Emulator, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, emu.URL()+"/_emulator/"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := emu.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, raw, err)
		}
	}
	return resp.StatusCode
}

// adminErr is the admin API's error body.
type adminErr struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// fmtV, fmtPlusV and fmtSharpV format v as %v, %+v and %#v do, for tests that a value prints
// no secret in any of fmt's forms.
func fmtV(v any) string      { return fmt.Sprintf("%v", v) }
func fmtPlusV(v any) string  { return fmt.Sprintf("%+v", v) }
func fmtSharpV(v any) string { return fmt.Sprintf("%#v", v) }

// randomTenantScenario is a scenario whose tenant and app get random IDs on the first start (the
// ones a restart must not draw again), named after the test: a tenant <name>.onmicrosoft.com, an
// app <name>-app with the secret "<name>-secret-value-0123456789", and its application user.
func randomTenantScenario(t *testing.T, name string) *emulator.Scenario {
	t.Helper()
	sc, err := emulator.ParseScenario([]byte(fmt.Sprintf(`
tenants:
  - {domain: %[1]s.onmicrosoft.com}
apps:
  - name: %[1]s-app
    secrets: [{value: "%[1]s-secret-value-0123456789"}]
applicationUsers:
  - {app: %[1]s-app, roles: [System Administrator]}
`, name)), name+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return sc
}
