package canned

import (
	"bytes"
	"crypto/tls"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestServers: the HTTP/2 server speaks h2 and the other HTTP/1.1 only,
// both answer a record GET with RecordBody and a collection GET with
// PageBody, and refuse other methods.
func TestServers(t *testing.T) {
	var out bytes.Buffer
	ca := filepath.Join(t.TempDir(), "ca.pem")
	p, err := StartPair(&out, ca)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for _, name := range []string{EnvH2URL, EnvH1URL, EnvCAFile} {
		if !strings.Contains(out.String(), "export "+name+"=") {
			t.Errorf("StartPair printed no %s:\n%s", name, out.String())
		}
	}
	if !strings.HasSuffix(out.String(), "# ready\n") {
		t.Errorf("StartPair output does not end with # ready:\n%s", out.String())
	}
	if pem, err := os.ReadFile(ca); err != nil || !bytes.Contains(pem, []byte("BEGIN CERTIFICATE")) {
		t.Errorf("certificate file: %v, %q", err, pem)
	}
	for _, tc := range []struct {
		srv       *Server
		wantMajor int
	}{{p.H2, 2}, {p.H1, 1}} {
		hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: tc.srv.CertPool()}, ForceAttemptHTTP2: true}}
		for path, want := range map[string]string{
			"/org/api/data/v9.2/contacts(7eb682f1-ca75-e511-80d4-00155d2a68d1)?$select=fullname": RecordBody,
			"/org/api/data/v9.2/contacts?$select=fullname":                                       PageBody,
		} {
			resp, err := hc.Get(tc.srv.URL + path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || string(body) != want {
				t.Errorf("GET %s: %s %q, want 200 %q", path, resp.Status, body, want)
			}
			if got := resp.Header.Get("x-ms-dop-hint"); got != "52" {
				t.Errorf("GET %s: x-ms-dop-hint %q, want 52", path, got)
			}
			if resp.ProtoMajor != tc.wantMajor {
				t.Errorf("GET %s from the HTTP/%d server spoke %s", path, tc.wantMajor, resp.Proto)
			}
		}
		resp, err := hc.Post(tc.srv.URL+"/org/api/data/v9.2/contacts", "application/json", strings.NewReader("{}"))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST: %s, want 405", resp.Status)
		}
	}
}
