package auth

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// ExplainedError wraps an error that is not Entra's own (TLS, DNS, connection, configuration of
// the authority) with what it means and how to fix it.
type ExplainedError struct {
	// Explanation says what went wrong, e.g. "the server's TLS certificate is signed by an
	// unknown CA".
	Explanation string
	// Fix says what to do, e.g. "set D365_CA_FILE to the emulator's ca.pem".
	Fix string
	// Err is the original error.
	Err error
}

// Error returns "<explanation> — <fix> (<original error>)".
func (e *ExplainedError) Error() string {
	s := e.Explanation
	if e.Fix != "" {
		s += " — " + e.Fix
	}
	if e.Err != nil {
		s += " (" + summarize(e.Err) + ")"
	}
	return s
}

// Unwrap returns the original error.
func (e *ExplainedError) Unwrap() error { return e.Err }

// Explain turns an error from a token request or a Dataverse call into one that says what it
// means for this setup and how to fix it: an *[EntraError] for Entra ID (AADSTS) failures, an
// *[ExplainedError] for untrusted or mismatched TLS certificates, unknown hosts, refused
// connections, timeouts and authority problems. Errors it does not recognise, nil, and errors
// already explained are returned unchanged; the original stays reachable with errors.As/Is.
func Explain(err error) error {
	return explainWith(err, hints{})
}

// trimTroubleshooting drops azidentity's generic troubleshooting link; the explanation replaces it.
func trimTroubleshooting(s string) string {
	if i := strings.Index(s, ". To troubleshoot, visit"); i >= 0 {
		return s[:i]
	}
	return s
}

// causeMarkers pick the informative line out of a multi-line library message.
var causeMarkers = []string{"x509:", "tls:", "dial tcp", "lookup ", "connection refused", "no such host", "timeout", "deadline", "does not match authority"}

// summarize reduces an error to one line: the network or TLS cause when one of MSAL's or
// azidentity's multi-line messages contains it, otherwise the first line.
func summarize(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		return trimTroubleshooting(urlErr.Error())
	}
	msg := trimTroubleshooting(err.Error())
	lines := strings.Split(msg, "\n")
	if len(lines) == 1 {
		return msg
	}
	for _, l := range lines {
		for _, m := range causeMarkers {
			if strings.Contains(l, m) {
				return strings.TrimSpace(l)
			}
		}
	}
	return strings.TrimSpace(lines[0]) + " …"
}

func explainWith(err error, h hints) error {
	if err == nil {
		return nil
	}
	var (
		entra     *EntraError
		explained *ExplainedError
		cfgErr    *ConfigError
		certErr   *CertificateError
	)
	if errors.As(err, &entra) || errors.As(err, &explained) || errors.As(err, &cfgErr) || errors.As(err, &certErr) {
		return err
	}
	var authErr *azidentity.AuthenticationFailedError
	if errors.As(err, &authErr) && authErr.RawResponse != nil {
		if e := newEntraError(authErr.RawResponse, err, h); e != nil {
			return e
		}
		resp := authErr.RawResponse
		host := "the authority"
		if resp.Request != nil && resp.Request.URL != nil {
			host = resp.Request.URL.Host
		}
		return &ExplainedError{
			Explanation: fmt.Sprintf("%s answered HTTP %d without an Entra ID error body", host, resp.StatusCode),
			Fix:         "check that " + EnvAuthorityHost + " points at Entra ID (or the emulator) and that no proxy answers in its place",
			Err:         err,
		}
	}
	return explainTransport(err, h)
}

// explainTransport recognises network and TLS failures, by type where the chain keeps them and
// by text where a library flattened them into a string (MSAL formats some errors with %v).
func explainTransport(err error, h hints) error {
	msg := err.Error()
	host := hostInError(err)
	wrap := func(explanation, fix string) error {
		return &ExplainedError{Explanation: explanation, Fix: fix, Err: err}
	}

	var unknownCA x509.UnknownAuthorityError
	var hostnameErr x509.HostnameError
	var invalidCert x509.CertificateInvalidError
	var dnsErr *net.DNSError
	switch {
	case errors.As(err, &unknownCA) || strings.Contains(msg, "certificate signed by unknown authority"):
		fix := "set " + settingCAFile.named() + " to the CA that signed it: the emulator's ca.pem, or your TLS-inspecting proxy's CA"
		if h.caFile != "" {
			fix = fmt.Sprintf("%s is %q, but that file does not hold the CA that signed %s's certificate; point it at the right CA (the running emulator's ca.pem)", EnvCAFile, h.caFile, host)
		}
		return wrap(fmt.Sprintf("the TLS certificate of %s is signed by a CA this machine does not trust", host), fix)
	case errors.As(err, &hostnameErr) || strings.Contains(msg, "x509: certificate is valid for"):
		return wrap(fmt.Sprintf("the TLS certificate of %s is issued for other host names", host),
			"use a host name the certificate names in "+EnvOrgURL+" and "+EnvAuthorityHost+" (for the emulator: 127.0.0.1 or localhost)")
	case errors.As(err, &invalidCert) && invalidCert.Reason == x509.Expired, strings.Contains(msg, "x509: certificate has expired"):
		return wrap(fmt.Sprintf("the TLS certificate of %s has expired or is not yet valid", host),
			"check this machine's clock; if it is right, the server needs a new certificate")
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound, strings.Contains(msg, "no such host"):
		return wrap(fmt.Sprintf("the host %s does not resolve", host),
			"check the spelling of "+EnvOrgURL+" and "+EnvAuthorityHost+"; without network access to Microsoft use the emulator (d365 emulator)")
	case errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(msg, "connection refused"):
		return wrap(fmt.Sprintf("nothing is listening at %s", host),
			"start the emulator (d365 emulator) or correct the host and port in "+EnvOrgURL+" and "+EnvAuthorityHost)
	case strings.Contains(msg, "does not match authority"):
		return wrap("the authority's discovery document names a different issuer than the authority host",
			"set "+EnvAuthorityHost+" to the host that issues the tokens; a proxy or mirror in front of Entra ID cannot stand in for it")
	case strings.Contains(msg, "authority host without https"):
		return wrap("the authority host is not an https URL", "set "+EnvAuthorityHost+" to an https:// URL")
	case errors.Is(err, context.DeadlineExceeded) || strings.Contains(msg, "Client.Timeout exceeded"):
		return wrap(fmt.Sprintf("the request to %s timed out", host),
			"check network access and the proxy settings (HTTPS_PROXY, NO_PROXY)")
	}
	return err
}

// hostInError finds the host an error is about: a *url.Error's URL, a DNS name, or a URL in the
// text. "the server" when none is found.
func hostInError(err error) string {
	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		if u, perr := url.Parse(urlErr.URL); perr == nil && u.Host != "" {
			return u.Host
		}
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.Name != "" {
		return dnsErr.Name
	}
	msg := err.Error()
	if i := strings.Index(msg, "https://"); i >= 0 {
		rest := msg[i+len("https://"):]
		if j := strings.IndexAny(rest, "/\"' )\n"); j >= 0 {
			rest = rest[:j]
		}
		if rest != "" {
			return rest
		}
	}
	return "the server"
}
