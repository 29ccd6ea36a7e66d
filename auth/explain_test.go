package auth_test

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/d365s2s/d365/auth"
)

// realError performs a GET with client and returns its (expected) error.
func realError(t *testing.T, client *http.Client, u string) error {
	t.Helper()
	resp, err := client.Get(u)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET %s succeeded, want an error", u)
	}
	return err
}

// Network and TLS failures from anywhere (the Dataverse client too) get an explanation and a fix.
func TestExplainNetworkErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	port := srv.Listener.Addr().(*net.TCPAddr).Port

	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()

	cases := []struct {
		name string
		err  error
		want string // prefix of Error()
	}{
		{"unknown CA", realError(t, &http.Client{}, srv.URL),
			"the TLS certificate of " + srv.Listener.Addr().String() + " is signed by a CA this machine does not trust — set D365_CA_FILE (Config.CAFile) to the CA that signed it: the emulator's ca.pem, or your TLS-inspecting proxy's CA (Get \"" + srv.URL + "\": tls: failed to verify certificate: x509: certificate signed by unknown authority)"},
		{"host name not in the certificate", realError(t, srv.Client(), fmt.Sprintf("https://localhost:%d/", port)),
			fmt.Sprintf("the TLS certificate of localhost:%d is issued for other host names — use a host name the certificate names in D365_URL and AZURE_AUTHORITY_HOST (for the emulator: 127.0.0.1 or localhost)", port)},
		{"connection refused", realError(t, &http.Client{}, closedURL),
			"nothing is listening at " + strings.TrimPrefix(closedURL, "http://") + " — start the emulator (d365 emulator) or correct the host and port in D365_URL and AZURE_AUTHORITY_HOST"},
		{"unknown host", &url.Error{Op: "Post", URL: "https://login.microsoftonline.con/t/oauth2/v2.0/token",
			Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "login.microsoftonline.con", IsNotFound: true}}},
			"the host login.microsoftonline.con does not resolve — check the spelling of D365_URL and AZURE_AUTHORITY_HOST"},
		{"certificate error flattened into text by a library",
			errors.New("ClientSecretCredential: unable to resolve an endpoint: http call(https://emulator.local:8443/t/v2.0/.well-known/openid-configuration)(GET) error: x509: certificate signed by unknown authority"),
			"the TLS certificate of emulator.local:8443 is signed by a CA this machine does not trust"},
		{"issuer mismatch", errors.New(`ResolveEndpoints(): issuer from OIDC discovery "https://a/t/v2.0" does not match authority "https://b/t/"`),
			"the authority's discovery document names a different issuer than the authority host — set AZURE_AUTHORITY_HOST to the host that issues the tokens"},
		{"timeout", fmt.Errorf("getting token: %w", context.DeadlineExceeded),
			"the request to the server timed out — check network access and the proxy settings (HTTPS_PROXY, NO_PROXY)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := auth.Explain(tc.err)
			var xe *auth.ExplainedError
			if !errors.As(err, &xe) {
				t.Fatalf("Explain(%v) = %T, want *auth.ExplainedError", tc.err, err)
			}
			if !strings.HasPrefix(err.Error(), tc.want) {
				t.Errorf("Error() =\n%s\nwant prefix\n%s", err, tc.want)
			}
			if !errors.Is(err, tc.err) {
				t.Error("the original error is not reachable with errors.Is")
			}
		})
	}
}

// The typed x509 error stays reachable through an explanation, for callers that inspect it.
func TestExplainKeepsTypedCause(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	t.Cleanup(srv.Close)
	err := auth.Explain(realError(t, &http.Client{}, srv.URL))
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("errors.As(x509.UnknownAuthorityError) failed on %v", err)
	}
}
