package auth

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"
)

// HTTPClient returns an *http.Client for both the credential and the Dataverse client, so that
// one keep-alive connection pool, one proxy setting and one set of trusted roots serve the whole
// process. Its transport trusts the system roots plus every certificate in CAFile, requires TLS
// 1.2 or later, takes the proxy from HTTPS_PROXY/NO_PROXY, and keeps idle connections for reuse.
// The client has no overall timeout: azcore and MSAL bound each request with the context.
//
// Call it once per process and pass the result as ClientOptions.Transport to the credential and
// other Azure SDK clients; each call builds a new connection pool. A dataverse.Client is better
// served by dataverse.NewHTTPClient(c.TLSConfig()): the same trust, over HTTP/1.1 connections
// that spread parallel requests over Dataverse's web servers.
func (c Config) HTTPClient() (*http.Client, error) {
	tlsConfig, err := c.TLSConfig()
	if err != nil {
		return nil, err
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = http.ProxyFromEnvironment
	t.TLSClientConfig = tlsConfig
	t.ForceAttemptHTTP2 = true
	t.MaxIdleConnsPerHost = 16 // Dataverse clients run concurrent requests against one host
	t.IdleConnTimeout = 90 * time.Second
	t.TLSHandshakeTimeout = 10 * time.Second
	return &http.Client{Transport: t}, nil
}

// TLSConfig returns the TLS settings HTTPClient uses: minimum TLS 1.2 and, when CAFile is set, a
// root pool of the system roots plus CAFile's certificates. Without CAFile RootCAs stays nil,
// which means the system roots.
func (c Config) TLSConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.CAFile == "" {
		return cfg, nil
	}
	pool, err := c.rootPool()
	if err != nil {
		return nil, err
	}
	cfg.RootCAs = pool
	return cfg, nil
}

// rootPool is the system pool (empty where the platform has none) plus CAFile.
func (c Config) rootPool() (*x509.CertPool, error) {
	where := c.from(fieldCAFile, settingCAFile)
	data, err := os.ReadFile(c.CAFile)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("CA file %q%s does not exist: %s to the PEM file to trust (the emulator writes ca.pem)", c.CAFile, where, settingCAFile.hint())
		}
		return nil, fmt.Errorf("CA file %q%s cannot be read: %w", c.CAFile, where, errors.Unwrap(err))
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue // a bundle may carry other blocks; only certificates are trusted
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("CA file %q%s: certificate %d is not valid X.509: %w", c.CAFile, where, n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("CA file %q%s contains no PEM certificate (no \"-----BEGIN CERTIFICATE-----\" block): %s to a PEM CA certificate such as the emulator's ca.pem", c.CAFile, where, settingCAFile.hint())
	}
	return pool, nil
}
