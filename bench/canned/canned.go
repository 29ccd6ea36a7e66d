// Package canned is a canned Dataverse Web API over HTTPS for measuring
// clients: every GET is answered at once with the same small JSON body, so
// what a benchmark of a client sees is the client's own cost (TLS, HTTP,
// request building, decoding), not the server's.
//
// A GET of a single record (a path ending in ")") returns RecordBody; any
// other GET returns PageBody, a one-page collection without a next link.
// Anything else is 405. The server never checks the Authorization header.
//
// It is used by the CPU-per-GET benchmarks of package dataverse and by the
// Node.js peers under bench/ (through bench/cannedserver), so every client
// is measured against the same bytes.
package canned

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
)

// RecordBody is the answer to GET contacts(<id>)?$select=fullname,emailaddress1:
// what Dataverse sends for that retrieve, annotations included.
const RecordBody = `{"@odata.context":"https://org.example/api/data/v9.2/$metadata#contacts(fullname,emailaddress1)/$entity","@odata.etag":"W/\"1294503\"","fullname":"Ada Lovelace","emailaddress1":"ada@example.com","contactid":"7eb682f1-ca75-e511-80d4-00155d2a68d1"}`

// PageBody is the answer to GET contacts?$select=fullname,emailaddress1: a
// last page (no @odata.nextLink) of 5 rows.
const PageBody = `{"@odata.context":"https://org.example/api/data/v9.2/$metadata#contacts(fullname,emailaddress1)","value":[` +
	`{"@odata.etag":"W/\"1294503\"","fullname":"Ada Lovelace","emailaddress1":"ada@example.com","contactid":"7eb682f1-ca75-e511-80d4-00155d2a68d1"},` +
	`{"@odata.etag":"W/\"1294504\"","fullname":"Charles Babbage","emailaddress1":"charles@example.com","contactid":"8eb682f1-ca75-e511-80d4-00155d2a68d1"},` +
	`{"@odata.etag":"W/\"1294505\"","fullname":"Grace Hopper","emailaddress1":"grace@example.com","contactid":"9eb682f1-ca75-e511-80d4-00155d2a68d1"},` +
	`{"@odata.etag":"W/\"1294506\"","fullname":"Alan Turing","emailaddress1":"alan@example.com","contactid":"aeb682f1-ca75-e511-80d4-00155d2a68d1"},` +
	`{"@odata.etag":"W/\"1294507\"","fullname":"Edsger Dijkstra","emailaddress1":"edsger@example.com","contactid":"beb682f1-ca75-e511-80d4-00155d2a68d1"}]}`

// PageRows is the number of rows in PageBody.
const PageRows = 5

// DOPHint is the x-ms-dop-hint every answer carries: the degree of
// parallelism Dataverse recommends, here its maximum of 52 concurrent
// requests, so a client that follows the hint (d365's Governor) lets 52
// calls in flight (and queues the rest at 64).
const DOPHint = 52

// Handler answers every GET with RecordBody or PageBody.
func Handler() http.Handler {
	record := []byte(RecordBody)
	page := []byte(PageBody)
	dopHint := []string{strconv.Itoa(DOPHint)}
	recordLen := strconv.Itoa(len(record))
	pageLen := strconv.Itoa(len(page))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet {
			w.Header().Set("Allow", http.MethodGet)
			http.Error(w, "the canned server answers GET only", http.StatusMethodNotAllowed)
			return
		}
		body, n := page, pageLen
		if strings.HasSuffix(r.URL.Path, ")") {
			body, n = record, recordLen
		}
		h := w.Header()
		h["Content-Type"] = []string{"application/json; odata.metadata=minimal"}
		h["Odata-Version"] = []string{"4.0"}
		h["X-Ms-Dop-Hint"] = dopHint
		h["Content-Length"] = []string{n}
		_, _ = w.Write(body)
	})
}

// Server is a running canned Web API.
type Server struct {
	srv *httptest.Server
	// URL is the server's root, "https://127.0.0.1:<port>"; any path below
	// it is served (use <URL>/api/data/v9.2/ as a Web API base).
	URL string
	// HTTP2 reports whether the server offers h2 in TLS ALPN; when false
	// it speaks HTTP/1.1 only.
	HTTP2 bool
}

// Start starts a canned server on a loopback port with a fresh
// self-signed certificate (valid for 127.0.0.1). With http2 false the
// server offers only HTTP/1.1.
func Start(http2 bool) *Server {
	srv := httptest.NewUnstartedServer(Handler())
	srv.EnableHTTP2 = http2
	// Quiet "TLS handshake error ... EOF" lines from connections a client
	// pool closes before use.
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	return &Server{srv: srv, URL: srv.URL, HTTP2: http2}
}

// CAPEM returns the server's certificate in PEM, for a client's trust store
// (NODE_EXTRA_CA_CERTS for Node.js, x509.CertPool for Go).
func (s *Server) CAPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.srv.Certificate().Raw})
}

// CertPool returns a pool trusting only the server's certificate.
func (s *Server) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(s.srv.Certificate())
	return p
}

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }

// Pair is an HTTP/2 server and an HTTP/1.1-only server sharing one
// certificate, as bench/cannedserver runs them.
type Pair struct {
	H2, H1 *Server
	// CAFile is the PEM file of their certificate.
	CAFile string
}

// Environment variables naming a running Pair, as StartPair prints them and
// the benchmarks read them.
const (
	EnvH2URL  = "D365_CANNED_H2_URL"
	EnvH1URL  = "D365_CANNED_H1_URL"
	EnvCAFile = "D365_CANNED_CA"
)

// StartPair starts an HTTP/2 and an HTTP/1.1-only server, writes their
// certificate to caFile and prints one "export NAME=value" line per
// variable to out, then "# ready".
func StartPair(out io.Writer, caFile string) (*Pair, error) {
	p := &Pair{H2: Start(true), H1: Start(false), CAFile: caFile}
	if err := os.WriteFile(caFile, p.H2.CAPEM(), 0o644); err != nil {
		p.Close()
		return nil, fmt.Errorf("canned: writing the certificate: %w", err)
	}
	_, err := fmt.Fprintf(out, "export %s=%s\nexport %s=%s\nexport %s=%s\n# ready\n",
		EnvH2URL, p.H2.URL, EnvH1URL, p.H1.URL, EnvCAFile, caFile)
	if err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// Close stops both servers.
func (p *Pair) Close() {
	p.H2.Close()
	p.H1.Close()
}
