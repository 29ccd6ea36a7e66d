package auth_test

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/d365s2s/d365/auth"
)

// certConfig is a certificate configuration against the fake STS.
func certConfig(t testing.TB, sts *fakeSTS, path string, password auth.Secret) auth.Config {
	cfg := sts.config(t)
	cfg.ClientSecret = ""
	cfg.CertificatePath = path
	cfg.CertificatePassword = password
	return cfg
}

// The certificate credential signs a client assertion the fake verifies against the registered
// certificate (PS256, x5t#S256, aud = token endpoint); the token says appidacr "2".
func TestCertificateCredential(t *testing.T) {
	t.Parallel()
	leaf := newRSACert(t, "d365 app cert", keyA)
	otherCA := newRSACert(t, "unrelated chain cert", keyB)
	fixture, err := os.ReadFile("testdata/cert-legacy.pfx")
	if err != nil {
		t.Fatal(err)
	}
	fixtureCerts, _, err := azidentity.ParseCertificates(fixture, []byte("fixture-password"))
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name     string
		path     string
		password auth.Secret
		register *x509.Certificate
	}{
		{"PEM certificate then key", writeTemp(t, "app.pem", leaf.certPEM, leaf.keyPEM), "", leaf.cert},
		{"PEM key then certificate", writeTemp(t, "app.pem", leaf.keyPEM, leaf.certPEM), "", leaf.cert},
		{"PEM with another certificate first", writeTemp(t, "app.pem", otherCA.certPEM, leaf.certPEM, leaf.keyPEM), "", leaf.cert},
		{"PEM with a password that only PKCS#12 would use", writeTemp(t, "app.pem", leaf.certPEM, leaf.keyPEM), "ignored", leaf.cert},
		{"PKCS#12 with password", "testdata/cert-legacy.pfx", "fixture-password", fixtureCerts[0]},
		{"PKCS#12 without password", "testdata/cert-legacy-nopass.pfx", "", fixtureCerts[0]},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			sts := newFakeSTS(t)
			sts.registerCert(tc.register)
			cfg := certConfig(t, sts, tc.path, tc.password)
			cred, err := auth.NewCredential(cfg, nil)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := getToken(t, cred, cfg.Scope())
			if err != nil {
				t.Fatalf("GetToken: %v", err)
			}
			c, err := auth.DecodeClaims(tok.Token)
			if err != nil {
				t.Fatal(err)
			}
			if c.AppIDACR != "2" || c.AppID != fakeClientID {
				t.Errorf("appid %q appidacr %q, want %s and 2 (certificate)", c.AppID, c.AppIDACR, fakeClientID)
			}
		})
	}
}

// A certificate the app does not have registered gets Entra's 700027, explained.
func TestUnregisteredCertificate(t *testing.T) {
	t.Parallel()
	sts := newFakeSTS(t)
	sts.registerCert(newRSACert(t, "registered cert", keyA).cert)
	used := newRSACert(t, "some other cert", keyB)
	cfg := certConfig(t, sts, writeTemp(t, "app.pem", used.certPEM, used.keyPEM), "")
	cred, err := auth.NewCredential(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = getToken(t, cred, cfg.Scope())
	var ee *auth.EntraError
	if !errors.As(err, &ee) || ee.Code != 700027 {
		t.Fatalf("err = %v, want AADSTS700027", err)
	}
	if want := "AADSTS700027: the certificate that signed the client assertion is not registered on app " + fakeClientID; !strings.HasPrefix(ee.Error(), want) {
		t.Errorf("Error() = %q\nwant prefix %q", ee.Error(), want)
	}
}

// Unusable certificate files fail in NewCredential, before any request, with the file, the
// problem and the fix — and without key material or the password.
func TestCertificateFileProblems(t *testing.T) {
	t.Parallel()
	good := newRSACert(t, "good", keyA)
	other := newRSACert(t, "other", keyB)
	ec := newECCert(t, "ec")
	expired := newTestCert(t, "expired", rsaKey(t, keyA), time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	future := newTestCert(t, "future", rsaKey(t, keyA), time.Now().Add(24*time.Hour), time.Now().Add(48*time.Hour))
	keyBlock, _ := pem.Decode(good.keyPEM)
	encryptedPKCS8 := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: keyBlock.Bytes})
	encryptedLegacy := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Headers: map[string]string{"Proc-Type": "4,ENCRYPTED", "DEK-Info": "AES-256-CBC,00112233445566778899AABBCCDDEEFF"}, Bytes: keyBlock.Bytes})

	cases := []struct {
		name     string
		path     string
		password auth.Secret
		problem  string
		fix      string
	}{
		{"encrypted PKCS#8 PEM", writeTemp(t, "c.pem", good.certPEM, encryptedPKCS8), "", "the private key is encrypted PEM, which Go cannot decrypt", "openssl pkey"},
		{"encrypted legacy PEM", writeTemp(t, "c.pem", good.certPEM, encryptedLegacy), "", "the private key is encrypted PEM", "PKCS#12"},
		{"certificate only (the portal's .cer)", writeTemp(t, "c.pem", good.certPEM), "", "the PEM file holds a certificate but no private key", "append the private key"},
		{"key only", writeTemp(t, "c.pem", good.keyPEM), "", "the PEM file holds no certificate", "put the certificate"},
		{"ECDSA key", writeTemp(t, "c.pem", ec.certPEM, ec.keyPEM), "", "the private key is ECDSA, not RSA", "create an RSA certificate"},
		{"key of another certificate", writeTemp(t, "c.pem", good.certPEM, other.keyPEM), "", "no certificate in the file matches its private key", "same key pair"},
		{"expired certificate", writeTemp(t, "c.pem", expired.certPEM, good.keyPEM), "", `the certificate "expired" expired on`, "create a new certificate"},
		{"certificate not yet valid", writeTemp(t, "c.pem", future.certPEM, good.keyPEM), "", `the certificate "future" is not valid before`, "clock"},
		{"garbage", writeTemp(t, "c.bin", []byte("this is not a certificate at all")), "", "the file is neither PEM nor a PKCS#12 archive Go can read", "PKCS#12 (.pfx)"},
		{"PKCS#12 with the wrong password", "testdata/cert-legacy.pfx", "wrong-password", "the PKCS#12 password is wrong", "check AZURE_CLIENT_CERTIFICATE_PASSWORD (Config.CertificatePassword)"},
		{"PKCS#12 without its password", "testdata/cert-legacy.pfx", "", "the PKCS#12 file is password-protected", "set AZURE_CLIENT_CERTIFICATE_PASSWORD or Config.CertificatePassword"},
		{"PKCS#12 from OpenSSL 3 defaults", "testdata/cert-aes-sha256.pfx", "fixture-password", "the PKCS#12 file uses algorithms Go cannot read", "openssl pkcs12 -export -legacy"},
	}
	sts := newFakeSTS(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := auth.NewCredential(certConfig(t, sts, tc.path, tc.password), nil)
			var ce *auth.CertificateError
			if !errors.As(err, &ce) {
				t.Fatalf("err = %v (%T), want *auth.CertificateError", err, err)
			}
			if ce.Path != tc.path || !strings.HasPrefix(ce.Problem, tc.problem) || !strings.Contains(ce.Fix, tc.fix) {
				t.Errorf("got path %q, problem %q, fix %q\nwant %q, problem starting %q, fix containing %q", ce.Path, ce.Problem, ce.Fix, tc.path, tc.problem, tc.fix)
			}
			if !strings.HasPrefix(err.Error(), `certificate file "`+tc.path+`": `+tc.problem) {
				t.Errorf("Error() = %q", err)
			}
			keyBody := strings.Split(string(good.keyPEM), "\n")[2]
			if strings.Contains(err.Error(), keyBody) || (tc.password != "" && strings.Contains(err.Error(), tc.password.Reveal())) {
				t.Errorf("error contains key material or the password: %q", err)
			}
		})
	}
	if n := sts.tokenRequests(); n != 0 {
		t.Errorf("token requests = %d, want none for unusable certificates", n)
	}
}

// Missing files are caught by Validate with the variable to set.
func TestCertificatePathValidation(t *testing.T) {
	t.Parallel()
	sts := newFakeSTS(t)
	dir := t.TempDir()
	for path, want := range map[string]string{
		dir + "/nope.pem": "does not exist: set AZURE_CLIENT_CERTIFICATE_PATH or Config.CertificatePath to an existing file",
		dir:               "is a directory: set AZURE_CLIENT_CERTIFICATE_PATH or Config.CertificatePath to a file",
	} {
		_, err := auth.NewCredential(certConfig(t, sts, path, ""), nil)
		var ce *auth.ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want ConfigError containing %q", path, err, want)
		}
	}
}
