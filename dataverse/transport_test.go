package dataverse

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
)

// The default transport sends no cookies: the server-affinity cookie Dataverse sets on its first
// response is never sent back, so requests spread over the web servers (send-parallel-requests).
// The server here sets ARRAffinity on every response, as Azure's front end does.
func TestDefaultTransportNeverReplaysCookies(t *testing.T) {
	t.Parallel()
	if DefaultHTTPClient().Jar != nil {
		t.Fatal("the default HTTP client has a cookie jar")
	}
	var (
		mu      sync.Mutex
		cookies []string
		calls   int
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		cookies = append(cookies, r.Header.Values("Cookie")...)
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "ARRAffinity", Value: "web-server-7", Path: "/", HttpOnly: true})
		http.SetCookie(w, &http.Cookie{Name: "ReqClientId", Value: "client-1", Path: "/"})
		writeJSON(w, 200, `{"value":[]}`)
	}))
	t.Cleanup(srv.Close)
	opts := &ClientOptions{}
	opts.InsecureAllowCredentialWithHTTP = true // a plain-HTTP test server; Transport stays the default
	c, err := NewClient(srv.URL+"/org1", &fakeCredential{}, opts)
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if _, err := c.List(context.Background(), "contacts", nil); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 3 || len(cookies) != 0 {
		t.Errorf("%d requests carried cookies %q, want 3 requests and no cookie", calls, cookies)
	}
}

// The default transport keeps a connection for every request the Governor can admit, speaks the
// protocol chosen by measurement, and an HTTP/1.1 client built from a TLS configuration that
// offers h2 drops h2 from ALPN without changing the caller's configuration.
func TestDefaultTransportSettings(t *testing.T) {
	t.Parallel()
	tr := DefaultHTTPClient().Transport.(*http.Transport)
	if tr.MaxConnsPerHost < DefaultGovernorMaxConcurrency || tr.MaxIdleConnsPerHost < DefaultGovernorMaxConcurrency {
		t.Errorf("MaxConnsPerHost %d, MaxIdleConnsPerHost %d; want both at least the Governor's maximum %d",
			tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost, DefaultGovernorMaxConcurrency)
	}
	if tr.Protocols == nil || !tr.Protocols.HTTP1() || tr.Protocols.HTTP2() != defaultUsesHTTP2 {
		t.Errorf("Protocols %v, want HTTP/1.1 and HTTP/2=%v", tr.Protocols, defaultUsesHTTP2)
	}
	if tr.TLSClientConfig == nil || tr.TLSClientConfig.MinVersion < 0x0303 {
		t.Errorf("TLS config %+v, want TLS 1.2 or later", tr.TLSClientConfig)
	}
	if tr.Proxy == nil {
		t.Error("no proxy from the environment")
	}
	conf := DefaultHTTPClient().Transport.(*http.Transport).TLSClientConfig.Clone()
	conf.NextProtos = []string{"h2", "http/1.1"}
	h1 := newHTTPClient(conf, false).Transport.(*http.Transport)
	if got := h1.TLSClientConfig.NextProtos; len(got) != 1 || got[0] != "http/1.1" {
		t.Errorf("HTTP/1.1 client offers %q", got)
	}
	if conf.NextProtos[0] != "h2" || len(conf.NextProtos) != 2 {
		t.Errorf("the caller's configuration changed to %q", conf.NextProtos)
	}
}

// NewHTTPClient gives a caller's TLS configuration (extra roots: a private CA, the emulator's)
// the default transport's other settings, and a nil configuration the default's TLS settings.
func TestNewHTTPClientKeepsTheDefaultSettings(t *testing.T) {
	t.Parallel()
	roots := x509.NewCertPool()
	conf := &tls.Config{MinVersion: tls.VersionTLS13, RootCAs: roots, NextProtos: []string{"h2", "http/1.1"}}
	for name, tc := range map[string]struct {
		conf    *tls.Config
		roots   *x509.CertPool
		minimum uint16
	}{
		"caller's configuration": {conf, roots, tls.VersionTLS13},
		"nil configuration":      {nil, nil, tls.VersionTLS12},
	} {
		t.Run(name, func(t *testing.T) {
			hc := NewHTTPClient(tc.conf)
			if hc.Jar != nil {
				t.Error("the client has a cookie jar: the affinity cookie would be replayed")
			}
			tr := hc.Transport.(*http.Transport)
			if tr.MaxConnsPerHost < DefaultGovernorMaxConcurrency || tr.Protocols == nil || tr.Protocols.HTTP2() != defaultUsesHTTP2 || tr.Proxy == nil {
				t.Errorf("MaxConnsPerHost %d, Protocols %v, proxy set %t; want the default transport's", tr.MaxConnsPerHost, tr.Protocols, tr.Proxy != nil)
			}
			if tr.TLSClientConfig.RootCAs != tc.roots || tr.TLSClientConfig.MinVersion != tc.minimum {
				t.Errorf("TLS roots %p, minimum %x; want %p, %x", tr.TLSClientConfig.RootCAs, tr.TLSClientConfig.MinVersion, tc.roots, tc.minimum)
			}
			if slices.Contains(tr.TLSClientConfig.NextProtos, "h2") && !defaultUsesHTTP2 {
				t.Errorf("offers %q over HTTP/1.1", tr.TLSClientConfig.NextProtos)
			}
		})
	}
}
