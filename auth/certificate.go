package auth

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// CertificateError is returned when the certificate file cannot be used. It names the file and
// says how to fix it; it never contains key material or the password.
type CertificateError struct {
	Path    string // the certificate file
	Problem string // what is wrong, e.g. "the private key is encrypted PEM"
	Fix     string // what to do about it
	Err     error  // the underlying error, if any
}

// Error returns one sentence: the file, the problem and the fix.
func (e *CertificateError) Error() string {
	return fmt.Sprintf("certificate file %q: %s: %s", e.Path, e.Problem, e.Fix)
}

// Unwrap returns the underlying error.
func (e *CertificateError) Unwrap() error { return e.Err }

// now is the clock used to check certificate validity; tests replace it.
var now = time.Now

// loadCertificate reads a PEM or PKCS#12 file with azidentity.ParseCertificates and checks what
// MSAL Go needs: an unencrypted RSA private key that matches one of the certificates, and that
// certificate within its validity period. It returns the certificates with the key's first.
func loadCertificate(path string, password Secret) ([]*x509.Certificate, crypto.PrivateKey, error) {
	fail := func(problem, fix string, err error) ([]*x509.Certificate, crypto.PrivateKey, error) {
		return nil, nil, &CertificateError{Path: path, Problem: problem, Fix: fix, Err: err}
	}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fail("the file does not exist", settingCertificatePath.hint()+" to the certificate file", err)
	case err != nil:
		return fail(fmt.Sprintf("the file cannot be read (%v)", errors.Unwrap(err)), "check the path and the file's permissions", err)
	}

	var certs []*x509.Certificate
	var key crypto.PrivateKey
	if isPEM(data) {
		if problem := pemProblem(data); problem != "" {
			switch problem {
			case "encrypted":
				return fail("the private key is encrypted PEM, which Go cannot decrypt",
					"write an unencrypted key (openssl pkey -in key.pem -out plain.pem) and protect the file with permissions, or use a PKCS#12 file with "+EnvCertificatePassword, nil)
			case "no certificate":
				return fail("the PEM file holds no certificate",
					"put the certificate (-----BEGIN CERTIFICATE-----) and its private key in one file", nil)
			case "no key":
				return fail("the PEM file holds a certificate but no private key",
					"append the private key (-----BEGIN PRIVATE KEY-----) to the same file; the portal's .cer is only the public half", nil)
			}
		}
		// The password only decrypts PKCS#12; ParseCertificates would skip PEM if one were given.
		certs, key, err = azidentity.ParseCertificates(data, nil)
		if err != nil {
			return fail("the PEM content cannot be parsed ("+err.Error()+")", "export the certificate and key again as PEM", err)
		}
	} else {
		certs, key, err = azidentity.ParseCertificates(data, []byte(password.Reveal()))
		if err != nil {
			return fail(pkcs12Problem(err, password.IsSet()))
		}
	}

	rsaKey, ok := key.(*rsa.PrivateKey)
	if !ok {
		return fail(fmt.Sprintf("the private key is %s, not RSA", keyKind(key)),
			"create an RSA certificate (e.g. openssl req -x509 -newkey rsa:2048 -nodes …); MSAL signs client assertions with RSA only", nil)
	}
	match := -1
	for i, c := range certs {
		if pub, ok := c.PublicKey.(*rsa.PublicKey); ok && pub.Equal(&rsaKey.PublicKey) {
			match = i
			break
		}
	}
	if match < 0 {
		return fail("no certificate in the file matches its private key",
			"put the certificate and the private key of the same key pair in the file", nil)
	}
	leaf := certs[match]
	t := now()
	switch {
	case t.After(leaf.NotAfter):
		return fail(fmt.Sprintf("the certificate %q expired on %s", leaf.Subject.CommonName, leaf.NotAfter.UTC().Format(time.DateOnly)),
			"create a new certificate, upload its public part to the app registration and point "+EnvCertificatePath+" at it", nil)
	case t.Before(leaf.NotBefore):
		return fail(fmt.Sprintf("the certificate %q is not valid before %s", leaf.Subject.CommonName, leaf.NotBefore.UTC().Format(time.RFC3339)),
			"check this machine's clock", nil)
	}
	if match != 0 {
		certs = append([]*x509.Certificate{leaf}, append(certs[:match:match], certs[match+1:]...)...)
	}
	return certs, rsaKey, nil
}

func isPEM(data []byte) bool { return bytes.Contains(data, []byte("-----BEGIN ")) }

// pemProblem finds what azidentity.ParseCertificates would report vaguely ("found no private
// key"): an encrypted key, no certificate, or no key at all.
func pemProblem(data []byte) string {
	var haveCert, haveKey, encrypted bool
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch {
		case block.Type == "CERTIFICATE":
			haveCert = true
		case block.Type == "ENCRYPTED PRIVATE KEY", strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED"):
			encrypted = true
		case strings.HasSuffix(block.Type, "PRIVATE KEY"):
			haveKey = true
		}
	}
	switch {
	case encrypted:
		return "encrypted"
	case !haveCert:
		return "no certificate"
	case !haveKey:
		return "no key"
	}
	return ""
}

// pkcs12Problem turns golang.org/x/crypto/pkcs12 errors (reached through azidentity) into words.
// The package's error values are matched by text because auth does not import the frozen
// pkcs12 package itself.
func pkcs12Problem(err error, havePassword bool) (string, string, error) {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "password incorrect"):
		if !havePassword {
			return "the PKCS#12 file is password-protected", settingCertificatePassword.hint() + " to its password", err
		}
		return "the PKCS#12 password is wrong", "check " + settingCertificatePassword.named(), err
	case strings.Contains(msg, "unknown digest algorithm"), strings.Contains(msg, "algorithm"), strings.Contains(msg, "OID"):
		return "the PKCS#12 file uses algorithms Go cannot read (OpenSSL 3 exports AES-256 with a SHA-256 MAC by default)",
			"re-export it with `openssl pkcs12 -export -legacy …`, or convert it to PEM with `openssl pkcs12 -in cert.pfx -nodes -out cert.pem`", err
	case strings.Contains(msg, "multiple private keys"):
		return "the file holds more than one private key", "keep only the key of the registered certificate", err
	case strings.Contains(msg, "found no certificate"), strings.Contains(msg, "didn't find any certificate"):
		return "the PKCS#12 file holds no certificate", "export the certificate together with its private key", err
	case strings.Contains(msg, "found no private key"):
		return "the PKCS#12 file holds no private key", "export the certificate together with its private key", err
	}
	return "the file is neither PEM nor a PKCS#12 archive Go can read (" + msg + ")",
		"use a PEM file with the certificate and an unencrypted private key, or a PKCS#12 (.pfx) file", err
}

func keyKind(key crypto.PrivateKey) string {
	switch key.(type) {
	case nil:
		return "missing"
	case interface{ Public() crypto.PublicKey }:
		t := fmt.Sprintf("%T", key)
		switch {
		case strings.Contains(t, "ecdsa"):
			return "ECDSA"
		case strings.Contains(t, "ed25519"):
			return "Ed25519"
		}
		return t
	}
	return fmt.Sprintf("%T", key)
}
