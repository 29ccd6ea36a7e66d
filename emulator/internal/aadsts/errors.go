package aadsts

import (
	"net/http"
	"strconv"
	"time"
)

// Error is one Entra (AADSTS) failure. Message has neither the "AADSTSnnnn: " prefix nor the
// trace lines; Write adds both.
type Error struct {
	// Status is the HTTP status Entra answers with.
	Status int
	// OAuth is the OAuth 2.0 error code of the "error" field: invalid_client (401),
	// invalid_request, invalid_scope, unauthorized_client, invalid_resource (400), …
	OAuth string
	// Code is the AADSTS number, e.g. 7000222.
	Code int
	// Message is Entra's wording without the prefix.
	Message string
}

// Error returns "AADSTSnnnn: message".
func (e *Error) Error() string { return "AADSTS" + strconv.Itoa(e.Code) + ": " + e.Message }

// certificateCredentialsDoc is the page Entra's assertion errors point to.
const certificateCredentialsDoc = "https://learn.microsoft.com/entra/identity-platform/certificate-credentials"

// dotNetRoundTripLayout is .NET's "o" format, which Entra uses for times inside messages such as
// AADSTS700024 ("Current time: 2024-10-02T22:05:03.6755165Z").
const dotNetRoundTripLayout = "2006-01-02T15:04:05.0000000Z"

// The catalogue: every AADSTS answer the emulator gives.

// TenantNotFound is 90002: no tenant has this ID or domain.
func TenantNotFound(tenant string) *Error {
	return &Error{http.StatusBadRequest, "invalid_request", 90002, "Tenant '" + tenant +
		"' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. " +
		"Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."}
}

// EmptyTenantGUID is 90002 for the all-zero tenant GUID.
func EmptyTenantGUID(tenant string) *Error {
	return &Error{http.StatusBadRequest, "invalid_request", 90002, "Requested tenant identifier '" + tenant +
		"' is not valid. Tenant identifiers may not be an empty GUID."}
}

// TenantMalformed is 900023: the tenant segment is neither a GUID nor a domain name.
func TenantMalformed(tenant string) *Error {
	return &Error{http.StatusBadRequest, "invalid_request", 900023, "Specified tenant identifier '" + tenant +
		"' is neither a valid DNS name, nor a valid external domain."}
}

// TenantlessClientCredentials is 9001023: a client-credentials request sent to /common,
// /organizations or /consumers. The wording is Entra's for /common and /consumers; that
// /organizations gets the same answer is [unverified].
func TenantlessClientCredentials() *Error {
	return &Error{http.StatusBadRequest, "invalid_request", 9001023, "The grant type is not supported over the " +
		"/common or /consumers endpoints. Please use the /organizations or tenant-specific endpoint."}
}

// MissingParameter is 900144: a required form parameter is absent.
func MissingParameter(name string) *Error {
	return &Error{http.StatusBadRequest, "invalid_request", 900144,
		"The request body must contain the following parameter: '" + name + "'."}
}

// MalformedRequest is 9002313: the request cannot be read.
func MalformedRequest() *Error {
	return &Error{http.StatusBadRequest, "invalid_request", 9002313, "Invalid request. Request is malformed or invalid."}
}

// PostOnly is 900561: the token endpoint was called with another method.
func PostOnly(method string) *Error {
	return &Error{http.StatusBadRequest, "invalid_request", 900561,
		"The endpoint only accepts POST, OPTIONS requests. Received a " + method + " request."}
}

// UnsupportedGrantType is 70003.
func UnsupportedGrantType(grant string) *Error {
	return &Error{http.StatusBadRequest, "unsupported_grant_type", 70003,
		"The app requested an unsupported grant type '" + grant + "'."}
}

// ResourceParameterOnV2 is 901002: resource= sent to the v2 endpoint.
func ResourceParameterOnV2() *Error {
	return &Error{http.StatusBadRequest, "invalid_request", 901002, "The 'resource' request parameter is not supported."}
}

// ScopeNotDefault is 1002012: an app-only scope without the /.default suffix.
func ScopeNotDefault(scope string) *Error {
	return &Error{http.StatusBadRequest, "invalid_scope", 1002012, "The provided value for scope " + scope +
		" is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."}
}

// ScopeInvalid is 70011: a scope list naming more than one resource. [unverified]: Entra's
// generic invalid-scope code; the exact answer for several .default scopes was not observed.
func ScopeInvalid(scope string) *Error {
	return &Error{http.StatusBadRequest, "invalid_scope", 70011, "The provided value for the input parameter 'scope' is not valid. The scope " +
		scope + " is not valid."}
}

// ResourceNotFound is 500011: no resource principal has this URL in the tenant.
func ResourceNotFound(resource, tenantName string) *Error {
	return &Error{http.StatusBadRequest, "invalid_resource", 500011, "The resource principal named " + resource +
		" was not found in the tenant named " + tenantName + ". This can happen if the application has not been installed by the " +
		"administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."}
}

// AppNotFound is 700016: no app has this client ID in the tenant.
func AppNotFound(clientID, tenantName string) *Error {
	return &Error{http.StatusBadRequest, "unauthorized_client", 700016, "Application with identifier '" + clientID +
		"' was not found in the directory '" + tenantName + "'. This can happen if the application has not been installed by the " +
		"administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."}
}

// AppDisabled is 7000112.
func AppDisabled(clientID, displayName string) *Error {
	return &Error{http.StatusBadRequest, "unauthorized_client", 7000112,
		"Application '" + clientID + "'(" + displayName + ") is disabled."}
}

// NoClientCredential is 7000218: neither client_secret nor client_assertion.
func NoClientCredential() *Error {
	return &Error{http.StatusUnauthorized, "invalid_client", 7000218,
		"The request body must contain the following parameter: 'client_assertion' or 'client_secret'."}
}

// WrongSecret is 7000215: the secret matches none of the app's.
func WrongSecret(clientID string) *Error {
	return &Error{http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided. Ensure the secret being sent " +
		"in the request is the client secret value, not the client secret ID, for a secret added to app '" + clientID + "'."}
}

// SecretExpired is 7000222.
func SecretExpired(clientID string) *Error {
	return &Error{http.StatusUnauthorized, "invalid_client", 7000222, "The provided client secret keys for app '" + clientID +
		"' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using " +
		"certificate credentials for added security: https://aka.ms/certCreds."}
}

// AssertionTypeUnexpected is 90011: client_assertion_type is not jwt-bearer.
func AssertionTypeUnexpected() *Error {
	return &Error{http.StatusBadRequest, "invalid_request", 90011, "Unexpected client assertion type."}
}

// AssertionMalformed is 50027: the client assertion is not a JWT.
func AssertionMalformed() *Error {
	return &Error{http.StatusBadRequest, "invalid_request", 50027, "JWT token is invalid or malformed."}
}

// AssertionNoThumbprint is 50027 for an assertion without x5t or x5t#S256.
func AssertionNoThumbprint() *Error {
	return &Error{http.StatusBadRequest, "invalid_request", 50027, "Invalid JWT token. No certificate thumbprint specified in token header."}
}

// AssertionAlgorithm is 5002730.
func AssertionAlgorithm() *Error {
	return &Error{http.StatusBadRequest, "invalid_request", 5002730, "Invalid JWT token. Unsupported key for the signing algorithm."}
}

// AssertionClientMismatch is 700021. The wording is [unverified] (Microsoft's troubleshooting
// table gives the meaning: the assertion's application identifier differs from client_id).
func AssertionClientMismatch() *Error {
	return &Error{http.StatusUnauthorized, "invalid_client", 700021, "Client assertion application identifier doesn't match " +
		"'client_id' parameter. Review the documentation at " + certificateCredentialsDoc + " ."}
}

// AssertionSubjectMismatch is 50048.
func AssertionSubjectMismatch() *Error {
	return &Error{http.StatusUnauthorized, "invalid_client", 50048, "Subject must match the issuer claim in the client assertion."}
}

// AssertionAudience is 700023.
func AssertionAudience() *Error {
	return &Error{http.StatusUnauthorized, "invalid_client", 700023, "Client assertion audience claim does not match Realm issuer. " +
		"Review the documentation at " + certificateCredentialsDoc + " ."}
}

// CertificateNotRegistered is 700027: no certificate of the app has the assertion's thumbprint.
func CertificateNotRegistered(thumbprint, clientID string) *Error {
	return &Error{http.StatusUnauthorized, "invalid_client", 700027, "The certificate with identifier used to sign the client " +
		"assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '" +
		thumbprint + "', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '" +
		clientID + "'.]"}
}

// AssertionSignature is 700027 for a registered certificate whose key does not verify the
// signature. keyPeriod names the key as KeyPeriod does.
func AssertionSignature(thumbprint, keyPeriod, clientID string) *Error {
	return &Error{http.StatusUnauthorized, "invalid_client", 700027, "Client assertion contains an invalid signature. " +
		"[Reason - Key was found, but use of the key to verify the signature failed., Thumbprint of key used by client: '" + thumbprint +
		"', Found key '" + keyPeriod + "', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '" +
		clientID + "'.]"}
}

// CertificateExpired is 700027 for a registered certificate past its end date. The wording is
// [unverified].
func CertificateExpired(thumbprint, keyPeriod, clientID string) *Error {
	return &Error{http.StatusUnauthorized, "invalid_client", 700027, "Client assertion contains an invalid signature. " +
		"[Reason - The key used is expired., Thumbprint of key used by client: '" + thumbprint + "', Found key '" + keyPeriod +
		"', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '" + clientID + "'.]"}
}

// KeyPeriod is how Entra names a registered key in messages: "Start=08/18/2024 19:33:23,
// End=08/18/2029 19:33:23".
func KeyPeriod(notBefore, notAfter time.Time) string {
	const layout = "01/02/2006 15:04:05"
	return "Start=" + notBefore.UTC().Format(layout) + ", End=" + notAfter.UTC().Format(layout)
}

// AssertionTime is 700024: the assertion is outside its nbf/exp window (with the allowed skew).
func AssertionTime(now, notBefore, expires time.Time) *Error {
	return &Error{http.StatusUnauthorized, "invalid_client", 700024, "Client assertion is not within its valid time range. Current time: " +
		now.UTC().Format(dotNetRoundTripLayout) + ", assertion valid from " + notBefore.UTC().Format(dotNetRoundTripLayout) +
		", expiry time of assertion " + expires.UTC().Format(dotNetRoundTripLayout) + ". Review the documentation at " + certificateCredentialsDoc + " ."}
}

// Transient is 90033: a passing failure of the service. [unverified]: Entra's code for a
// transient directory failure.
func Transient() *Error {
	return &Error{http.StatusServiceUnavailable, "temporarily_unavailable", 90033, "A transient error has occurred. Please try again."}
}

// Throttled is 90055, Entra's TenantThrottlingError. [unverified]: Microsoft documents neither
// the body nor the status of a throttled client-credentials request beyond "429 with
// Retry-After" (MSAL's wiki).
func Throttled() *Error {
	return &Error{http.StatusTooManyRequests, "temporarily_unavailable", 90055, "There are too many incoming requests. Please try again later."}
}

// InstanceUnknown is 50049: instance discovery for an authority host Entra does not know.
func InstanceUnknown() *Error {
	return &Error{http.StatusBadRequest, "invalid_instance", 50049, "Unknown or invalid instance."}
}
