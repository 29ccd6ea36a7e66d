package dataverse_test

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"

	"github.com/d365s2s/d365/dataverse"
)

// A Client that must trust another root (a private CA, the emulator's) keeps the default
// transport's properties through NewHTTPClient: HTTP/1.1 connections, one per request the
// Governor admits, and no cookie jar, so parallel work spreads over the environment's web servers.
// Pass it as the Client's transport: ClientOptions{ClientOptions: azcore.ClientOptions{Transport: hc}}.
func ExampleNewHTTPClient() {
	roots := x509.NewCertPool() // e.g. the system roots plus the CA file's certificates
	hc := dataverse.NewHTTPClient(&tls.Config{MinVersion: tls.VersionTLS12, RootCAs: roots})

	tr := hc.Transport.(*http.Transport)
	fmt.Println("HTTP/2:", tr.Protocols.HTTP2())
	fmt.Println("connections per host:", tr.MaxConnsPerHost)
	fmt.Println("cookie jar:", hc.Jar != nil)
	// Output:
	// HTTP/2: false
	// connections per host: 64
	// cookie jar: false
}
