package ca

import (
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadOrCreateKeepsTheCAInTheDirectory(t *testing.T) {
	t.Parallel()
	dir, now := t.TempDir(), time.Now()
	first, err := LoadOrCreate(dir, now)
	if err != nil {
		t.Fatal(err)
	}
	again, err := LoadOrCreate(dir, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !first.Cert.Equal(again.Cert) || string(first.CertPEM) != string(again.CertPEM) {
		t.Error("a second start on the same directory made a new CA; clients trusting ca.pem would break")
	}
	if info, err := os.Stat(filepath.Join(dir, keyFile)); err != nil || info.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, mode %v; want 0600", err, info.Mode().Perm())
	}
	inMemory, err := LoadOrCreate("", now)
	if err != nil || inMemory.Cert.Equal(first.Cert) {
		t.Errorf("without a directory: %v, or the same CA as the directory's", err)
	}
}

func TestLeafVerifiesForTheLoopbackNamesAndTheHost(t *testing.T) {
	t.Parallel()
	now := time.Now()
	authority, err := LoadOrCreate("", now)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := authority.Leaf("emulator.test", now)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(leaf.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(authority.Cert)
	for _, name := range []string{"127.0.0.1", "::1", "localhost", "emulator.test"} {
		if _, err := cert.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: now}); err != nil {
			t.Errorf("leaf for %s: %v", name, err)
		}
	}
	if _, err := cert.Verify(x509.VerifyOptions{DNSName: "other.test", Roots: roots, CurrentTime: now}); err == nil {
		t.Error("the leaf verified for a name it was not issued for")
	}
}

func TestLoadOrCreateRefusesACertificateWithoutItsKey(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := LoadOrCreate(dir, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, keyFile)); err != nil {
		t.Fatal(err)
	}
	_, err := LoadOrCreate(dir, time.Now())
	if err == nil || !strings.Contains(err.Error(), "remove "+filepath.Join(dir, CertFile)) {
		t.Errorf("err = %v, want one saying to remove ca.pem", err)
	}
}
