package auth

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
)

// FailFastOnTLSErrors returns an azcore per-retry policy that marks TLS certificate verification
// failures (unknown CA, wrong host name, expired certificate) as not retriable. azcore retries
// every transport error three times with back-off, which turns "set D365_CA_FILE" into a
// ten-second hang; a certificate does not become trusted by asking again. NewCredential installs
// it on the credential's pipeline; add it to a Dataverse client's ClientOptions.PerRetryPolicies
// for the same behaviour there.
func FailFastOnTLSErrors() policy.Policy { return failFastOnTLS{} }

type failFastOnTLS struct{}

func (failFastOnTLS) Do(req *policy.Request) (*http.Response, error) {
	resp, err := req.Next()
	if err != nil && isCertificateError(err) {
		return resp, &nonRetriableError{err: err}
	}
	return resp, err
}

// isCertificateError reports TLS certificate verification failures.
func isCertificateError(err error) bool {
	var (
		verifyErr   *tls.CertificateVerificationError
		unknownCA   x509.UnknownAuthorityError
		hostnameErr x509.HostnameError
		invalidCert x509.CertificateInvalidError
	)
	return errors.As(err, &verifyErr) || errors.As(err, &unknownCA) || errors.As(err, &hostnameErr) ||
		errors.As(err, &invalidCert) || strings.Contains(err.Error(), "x509: ")
}

// nonRetriableError carries the NonRetriable marker azcore's retry policy looks for
// (sdk/internal/errorinfo.NonRetriable), keeping the original error in the chain.
type nonRetriableError struct{ err error }

func (e *nonRetriableError) Error() string { return e.err.Error() }
func (e *nonRetriableError) Unwrap() error { return e.err }

// NonRetriable marks the error as not worth retrying.
func (*nonRetriableError) NonRetriable() {}
