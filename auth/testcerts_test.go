package auth_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testCert is a generated certificate and its private key, for client-certificate tests.
type testCert struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte // PKCS#8
}

// newTestCert makes a self-signed certificate for key, valid from notBefore to notAfter.
func newTestCert(t testing.TB, cn string, key crypto.Signer, notBefore, notAfter time.Time) testCert {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return testCert{
		cert:    cert,
		key:     key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
}

var (
	rsaKeysMu sync.Mutex
	rsaKeys   = map[string]*rsa.PrivateKey{}
)

// rsaKey returns the RSA-2048 key named name, generating it on first use: key generation takes
// seconds under -race, and tests need distinct keys only where names differ.
func rsaKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	rsaKeysMu.Lock()
	defer rsaKeysMu.Unlock()
	if k, ok := rsaKeys[name]; ok {
		return k
	}
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rsaKeys[name] = k
	return k
}

// Key names: tests share a few RSA keys (see rsaKey) and differ only where keys must differ.
const (
	keyA = "key A"
	keyB = "key B"
)

// newRSACert makes a currently valid RSA-2048 certificate for the named key.
func newRSACert(t testing.TB, cn, keyName string) testCert {
	t.Helper()
	return newTestCert(t, cn, rsaKey(t, keyName), time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

// newECCert makes a currently valid ECDSA P-256 certificate (which MSAL cannot use).
func newECCert(t testing.TB, cn string) testCert {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return newTestCert(t, cn, key, time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour))
}

// writeTemp writes the concatenation of parts to a new file in a test temp dir.
func writeTemp(t testing.TB, name string, parts ...[]byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	var data []byte
	for _, p := range parts {
		data = append(data, p...)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fmtPlusV renders an error the verbose way a CLI's --verbose would.
func fmtPlusV(err error) string { return fmt.Sprintf("%+v", err) }
