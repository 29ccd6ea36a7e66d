package cli

import (
	"errors"
	"net"
	"net/http"
	"strings"
	"syscall"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// failFastOnUnreachable is an azcore per-retry policy that marks "the host does not resolve"
// and "nothing listens at the address" as not retriable. azcore retries every transport error
// with back-off, so a typo in --url took ten to twenty seconds to report; a name that does not
// resolve or a port that refuses connections now fails at once, and auth.Explain names the host.
// A temporary DNS failure (a resolver timeout) is still retried.
type failFastOnUnreachable struct{}

func (failFastOnUnreachable) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	if err != nil && isUnreachable(err) {
		return resp, &unreachableError{err: err}
	}
	return resp, err
}

// isUnreachable reports a DNS name that does not exist or a refused connection.
func isUnreachable(err error) bool {
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsNotFound || !dnsErr.IsTemporary && !dnsErr.IsTimeout
	}
	return errors.Is(err, syscall.ECONNREFUSED) || strings.Contains(err.Error(), "no such host") ||
		strings.Contains(err.Error(), "connection refused")
}

// unreachableError carries the NonRetriable marker azcore's retry policy looks for, keeping the
// original error in the chain for auth.Explain.
type unreachableError struct{ err error }

func (e *unreachableError) Error() string { return e.err.Error() }
func (e *unreachableError) Unwrap() error { return e.err }

// NonRetriable marks the error as not worth retrying.
func (*unreachableError) NonRetriable() {}
