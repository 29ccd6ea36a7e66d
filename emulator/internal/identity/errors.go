package identity

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Errors returned by the admin methods. Test for them with errors.Is; the error text says which
// object was missing or in conflict.
var (
	// ErrNotFound means the tenant, app, secret or certificate named does not exist.
	ErrNotFound = errors.New("not found")
	// ErrConflict means the object exists with different identifying values.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means an argument is malformed (not a GUID, not a domain, empty, …).
	ErrInvalid = errors.New("invalid argument")
)

// errorURIBase is where Entra's error_uri points (Microsoft's public error lookup page). The
// emulator keeps the real address: it documents the code; it is never fetched by clients.
const errorURIBase = "https://login.microsoftonline.com/error?code="

// entraTimestampLayout is the layout of Entra's "timestamp" field and of the Timestamp line in
// error_description, e.g. "2023-06-11 13:40:19Z".
const entraTimestampLayout = "2006-01-02 15:04:05Z"

// dotNetRoundTripLayout is .NET's "o" format, which Entra uses for times inside messages such as
// AADSTS700024 ("Current time: 2024-10-02T22:05:03.6755165Z").
const dotNetRoundTripLayout = "2006-01-02T15:04:05.0000000Z"

// certificateCredentialsDoc is the page Entra's assertion errors point to.
const certificateCredentialsDoc = "https://learn.microsoft.com/entra/identity-platform/certificate-credentials"

// aadError is one Entra (AADSTS) failure: the OAuth 2.0 error code, the HTTP status, the AADSTS
// number and the message. The message has neither the "AADSTSnnnn: " prefix nor the trace lines;
// writeAADError adds both.
type aadError struct {
	status  int
	oauth   string
	code    int
	message string
}

func (e *aadError) Error() string { return "AADSTS" + strconv.Itoa(e.code) + ": " + e.message }

// The catalogue below holds every AADSTS answer the emulator gives. Wording follows real Entra
// responses quoted in public issue trackers and Microsoft's docs (see entra.md §1.6); entries
// marked [unverified] are best guesses.

func errTenantNotFound(tenant string) *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 90002, "Tenant '" + tenant +
		"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. " +
		"Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."}
}

func errEmptyTenantGUID(tenant string) *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 90002, "Requested tenant identifier '" + tenant +
		"' is not valid. Tenant identifiers may not be an empty GUID."}
}

func errTenantMalformed(tenant string) *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 900023, "Specified tenant identifier '" + tenant +
		"' is neither a valid DNS name, nor a valid external domain."}
}

// errTenantlessClientCredentials answers a client-credentials request sent to /common,
// /organizations or /consumers. The wording is Entra's for /common and /consumers; that
// /organizations gets the same answer is [unverified].
func errTenantlessClientCredentials() *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 9001023, "The grant type is not supported over the " +
		"/common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint."}
}

func errMissingParameter(name string) *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 900144,
		"The request body must contain the following parameter: '" + name + "'."}
}

func errMalformedRequest() *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid."}
}

func errPostOnly(method string) *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 900561,
		"The endpoint only accepts POST, OPTIONS requests. Received a " + method + " request."}
}

func errUnsupportedGrantType(grant string) *aadError {
	return &aadError{http.StatusBadRequest, "unsupported_grant_type", 70003,
		"The app requested an unsupported grant type '" + grant + "'."}
}

func errResourceParameterOnV2() *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 901002, "The 'resource' request parameter is not supported."}
}

func errScopeNotDefault(scope string) *aadError {
	return &aadError{http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope " + scope +
		" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."}
}

// errScopeInvalid answers a scope list naming more than one resource. [unverified]: Entra's
// generic invalid-scope code; the exact answer for several .default scopes was not observed.
func errScopeInvalid(scope string) *aadError {
	return &aadError{http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope " +
		scope + " is not valid."}
}

func errResourceNotFound(resource, tenantName string) *aadError {
	return &aadError{http.StatusBadRequest, "invalid_resource", 500011, "The resource principal named " + resource +
		" was not found in the tenant named " + tenantName + ". This can happen if the application has not been installed by the " +
		"administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."}
}

func errAppNotFound(clientID, tenantName string) *aadError {
	return &aadError{http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '" + clientID +
		"' was not found in the directory '" + tenantName + "'. This can happen if the application has not been installed by the " +
		"administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."}
}

func errAppDisabled(clientID, displayName string) *aadError {
	return &aadError{http.StatusBadRequest, "unauthorized_client", 7000112,
		"Application '" + clientID + "'(" + displayName + ") is disabled."}
}

func errNoClientCredential() *aadError {
	return &aadError{http.StatusUnauthorized, "invalid_client", 7000218,
		"The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
}

func errWrongSecret(clientID string) *aadError {
	return &aadError{http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent " +
		"in the request is the client secret value, not the client secret ID, for a secret added to app '" + clientID + "'."}
}

func errSecretExpired(clientID string) *aadError {
	return &aadError{http.StatusUnauthorized, "invalid_client", 7000222, "The provided client secret keys for app '" + clientID +
		"' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using " +
		"certificate credentials for added security: https://aka.ms/certCreds."}
}

func errAssertionTypeUnexpected() *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 90011, "Unexpected client assertion type."}
}

func errAssertionMalformed() *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."}
}

func errAssertionNoThumbprint() *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 50027, "Invalid JWT token. No certificate thumbprint specified in token header."}
}

func errAssertionAlgorithm() *aadError {
	return &aadError{http.StatusBadRequest, "invalid_request", 5002730, "Invalid JWT token. Unsupported key for the signing algorithm."}
}

// errAssertionClientMismatch: the wording is [unverified] (Microsoft's troubleshooting table gives
// the meaning: the assertion's application identifier differs from client_id).
func errAssertionClientMismatch() *aadError {
	return &aadError{http.StatusUnauthorized, "invalid_client", 700021, "Client assertion application identifier doesn't match " +
		"'client_id' parameter. Review the documentation at " + certificateCredentialsDoc + " ."}
}

func errAssertionSubjectMismatch() *aadError {
	return &aadError{http.StatusUnauthorized, "invalid_client", 50048, "Subject must match the issuer claim in the client assertion."}
}

func errAssertionAudience() *aadError {
	return &aadError{http.StatusUnauthorized, "invalid_client", 700023, "Client assertion audience claim does not match Realm issuer. " +
		"Review the documentation at " + certificateCredentialsDoc + " ."}
}

func errCertificateNotRegistered(thumbprint, clientID string) *aadError {
	return &aadError{http.StatusUnauthorized, "invalid_client", 700027, "The certificate with identifier used to sign the client " +
		"assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '" +
		thumbprint + "', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '" +
		clientID + "'.]"}
}

func errAssertionSignature(thumbprint string, c registeredCertificate, clientID string) *aadError {
	return &aadError{http.StatusUnauthorized, "invalid_client", 700027, "Client assertion contains an invalid signature. " +
		"[Reason - Key was found, but use of the key to verify the signature failed., Thumbprint of key used by client: '" + thumbprint +
		"', Found key '" + keyPeriod(c) + "', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '" +
		clientID + "'.]"}
}

// errCertificateExpired: [unverified] wording for a registered certificate past its end date.
func errCertificateExpired(thumbprint string, c registeredCertificate, clientID string) *aadError {
	return &aadError{http.StatusUnauthorized, "invalid_client", 700027, "Client assertion contains an invalid signature. " +
		"[Reason - The key used is expired., Thumbprint of key used by client: '" + thumbprint + "', Found key '" + keyPeriod(c) +
		"', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '" + clientID + "'.]"}
}

func errAssertionTime(now, notBefore, expires time.Time) *aadError {
	return &aadError{http.StatusUnauthorized, "invalid_client", 700024, "Client assertion is not within its valid time range. Current time: " +
		now.UTC().Format(dotNetRoundTripLayout) + ", assertion valid from " + notBefore.UTC().Format(dotNetRoundTripLayout) +
		", expiry time of assertion " + expires.UTC().Format(dotNetRoundTripLayout) + ". Review the documentation at " + certificateCredentialsDoc + " ."}
}

// errTransient answers a storage failure. [unverified]: Entra's code for a transient directory
// failure.
func errTransient() *aadError {
	return &aadError{http.StatusServiceUnavailable, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again."}
}

func errInstanceUnknown() *aadError {
	return &aadError{http.StatusBadRequest, "invalid_instance", 50049, "Unknown or invalid instance."}
}

// keyPeriod is how Entra names a registered key in messages: "Start=08/18/2024 19:33:23,
// End=08/18/2029 19:33:23".
func keyPeriod(c registeredCertificate) string {
	const layout = "01/02/2006 15:04:05"
	return "Start=" + c.NotBefore.UTC().Format(layout) + ", End=" + c.NotAfter.UTC().Format(layout)
}

// aadErrorBody is Entra's error response, fields in Entra's order.
type aadErrorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
}

// body renders e for one request.
func (e *aadError) body(rc *requestContext) aadErrorBody {
	ts := rc.now.UTC().Format(entraTimestampLayout)
	var desc strings.Builder
	desc.Grow(len(e.message) + 160)
	fmt.Fprintf(&desc, "AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
		e.code, e.message, rc.traceID, rc.correlationID, ts)
	return aadErrorBody{
		Error:            e.oauth,
		ErrorDescription: desc.String(),
		ErrorCodes:       []int{e.code},
		Timestamp:        ts,
		TraceID:          rc.traceID,
		CorrelationID:    rc.correlationID,
		ErrorURI:         errorURIBase + strconv.Itoa(e.code),
	}
}
