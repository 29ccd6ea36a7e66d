// Package ca is the emulator's own certificate authority: created once (and kept in the data
// directory when there is one), trusted by clients through its PEM certificate, and signing a
// fresh leaf certificate for the loopback names on every start, so a restart on the same data
// directory keeps working for clients that already trust it.
package ca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// File names of the certificate authority inside Options.DataDir. The certificate is public and
// meant to be handed to clients (D365_CA_FILE); the key stays private to the emulator.
const (
	CertFile = "ca.pem"
	keyFile  = "ca-key.pem"
)

// Authority is the emulator's own CA. Clients trust it, and it signs a fresh leaf certificate
// for the loopback names on every start.
type Authority struct {
	// Cert is the CA certificate.
	Cert *x509.Certificate
	// CertPEM is Cert in PEM, the file clients trust (D365_CA_FILE).
	CertPEM []byte
	key     *ecdsa.PrivateKey
}

// LoadOrCreate reads the CA from dir, or creates one (and writes it to dir when dir is not "").
func LoadOrCreate(dir string, now time.Time) (*Authority, error) {
	if dir != "" {
		ca, err := readCA(dir)
		if err == nil {
			return ca, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	ca, keyPEM, err := newCA(now)
	if err != nil {
		return nil, err
	}
	if dir != "" {
		// Write the key first and the certificate last: a half-written pair then reads as "no CA"
		// (the certificate is missing) and is regenerated, never as a certificate without its key.
		if err := writeFileAtomic(filepath.Join(dir, keyFile), keyPEM, 0o600); err != nil {
			return nil, fmt.Errorf("emulator: write CA key: %w", err)
		}
		if err := writeFileAtomic(filepath.Join(dir, CertFile), ca.CertPEM, 0o644); err != nil {
			return nil, fmt.Errorf("emulator: write CA certificate: %w", err)
		}
	}
	return ca, nil
}

func readCA(dir string) (*Authority, error) {
	certPEM, err := os.ReadFile(filepath.Join(dir, CertFile))
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(filepath.Join(dir, keyFile))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("emulator: %s exists but %s does not; remove %s to create a new CA",
				filepath.Join(dir, CertFile), keyFile, filepath.Join(dir, CertFile))
		}
		return nil, err
	}
	certBlock, _ := pem.Decode(certPEM)
	if certBlock == nil || certBlock.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("emulator: %s holds no PEM certificate", filepath.Join(dir, CertFile))
	}
	cert, err := x509.ParseCertificate(certBlock.Bytes)
	if err != nil {
		return nil, fmt.Errorf("emulator: parse %s: %w", filepath.Join(dir, CertFile), err)
	}
	keyBlock, _ := pem.Decode(keyPEM)
	if keyBlock == nil {
		return nil, fmt.Errorf("emulator: %s holds no PEM key", filepath.Join(dir, keyFile))
	}
	key, err := x509.ParseECPrivateKey(keyBlock.Bytes)
	if err != nil {
		return nil, fmt.Errorf("emulator: parse %s: %w", filepath.Join(dir, keyFile), err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) {
		return nil, fmt.Errorf("emulator: %s does not match %s; remove both to create a new CA",
			keyFile, CertFile)
	}
	return &Authority{Cert: cert, key: key, CertPEM: certPEM}, nil
}

func newCA(now time.Time) (*Authority, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: generate CA key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          randomSerial(),
		Subject:               pkix.Name{CommonName: "d365 emulator local CA", Organization: []string{"d365 emulator"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
		SubjectKeyId:          keyID(&key.PublicKey),
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: create CA certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	ca := &Authority{
		Cert:    cert,
		CertPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		key:     key,
	}
	return ca, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), nil
}

// Leaf issues a server certificate for the loopback names (127.0.0.1, ::1, localhost)
// plus host when it is another name or address.
func (ca *Authority) Leaf(host string, now time.Time) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("emulator: generate server key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: randomSerial(),
		Subject:      pkix.Name{CommonName: "localhost", Organization: []string{"d365 emulator"}},
		NotBefore:    now.Add(-time.Hour),
		// Within the CA's lifetime and under the 398 days clients accept for a server certificate.
		NotAfter:     minTime(now.AddDate(0, 0, 397), ca.Cert.NotAfter),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		SubjectKeyId: keyID(&key.PublicKey),
	}
	if host != "" && host != "localhost" {
		if ip := net.ParseIP(host); ip != nil {
			if !ip.IsLoopback() && !ip.IsUnspecified() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, host)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.Cert, &key.PublicKey, ca.key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("emulator: create server certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Cert.Raw}, PrivateKey: key}, nil
}

func randomSerial() *big.Int {
	limit := new(big.Int).Lsh(big.NewInt(1), 127)
	n, err := rand.Int(rand.Reader, limit)
	if err != nil {
		// crypto/rand never fails on supported platforms (Go 1.24+ panics inside Read instead).
		panic(err)
	}
	return n
}

func keyID(pub *ecdsa.PublicKey) []byte {
	der, _ := x509.MarshalPKIXPublicKey(pub)
	sum := sha256.Sum256(der)
	return sum[:20]
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// writeFileAtomic writes data to a temporary file beside path and renames it into place, so a
// crash never leaves a truncated file behind.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
