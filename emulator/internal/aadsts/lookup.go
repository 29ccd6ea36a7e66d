package aadsts

import "time"

// Params fill the names a catalogue message mentions when an answer is looked up by number
// rather than produced by the token service (an injected fault): the tenant as the caller wrote
// it and the caller's client ID. Empty ones read as placeholders in angle brackets.
type Params struct {
	Tenant   string
	ClientID string
	// Now is the time of the request (AADSTS700024 quotes it); zero means time.Now.
	Now time.Time
}

// Placeholders for what an injected answer cannot know.
const (
	unknownResource   = "<the requested resource>"
	unknownScope      = "<the requested scope>"
	unknownThumbprint = "<the assertion's thumbprint>"
	unknownParameter  = "client_id"
)

// catalogue maps each AADSTS number the emulator knows to its answer, built from Params.
var catalogue = map[int]func(p Params) *Error{
	90002:   func(p Params) *Error { return TenantNotFound(p.tenant()) },
	900023:  func(p Params) *Error { return TenantMalformed(p.tenant()) },
	9001023: func(Params) *Error { return TenantlessClientCredentials() },
	900144:  func(Params) *Error { return MissingParameter(unknownParameter) },
	9002313: func(Params) *Error { return MalformedRequest() },
	900561:  func(Params) *Error { return PostOnly("GET") },
	70003:   func(Params) *Error { return UnsupportedGrantType("<grant type>") },
	901002:  func(Params) *Error { return ResourceParameterOnV2() },
	1002012: func(Params) *Error { return ScopeNotDefault(unknownScope) },
	70011:   func(Params) *Error { return ScopeInvalid(unknownScope) },
	500011:  func(p Params) *Error { return ResourceNotFound(unknownResource, p.tenant()) },
	700016:  func(p Params) *Error { return AppNotFound(p.clientID(), p.tenant()) },
	7000112: func(p Params) *Error { return AppDisabled(p.clientID(), p.clientID()) },
	7000218: func(Params) *Error { return NoClientCredential() },
	7000215: func(p Params) *Error { return WrongSecret(p.clientID()) },
	7000222: func(p Params) *Error { return SecretExpired(p.clientID()) },
	90011:   func(Params) *Error { return AssertionTypeUnexpected() },
	50027:   func(Params) *Error { return AssertionMalformed() },
	5002730: func(Params) *Error { return AssertionAlgorithm() },
	700021:  func(Params) *Error { return AssertionClientMismatch() },
	50048:   func(Params) *Error { return AssertionSubjectMismatch() },
	700023:  func(Params) *Error { return AssertionAudience() },
	700027:  func(p Params) *Error { return CertificateNotRegistered(unknownThumbprint, p.clientID()) },
	700024: func(p Params) *Error {
		now := p.now()
		return AssertionTime(now, now.Add(-20*time.Minute), now.Add(-10*time.Minute))
	},
	90033: func(Params) *Error { return Transient() },
	90055: func(Params) *Error { return Throttled() },
	50049: func(Params) *Error { return InstanceUnknown() },
}

// Lookup returns the catalogue's answer for an AADSTS number, its message filled from p; ok is
// false for a number the emulator does not know.
func Lookup(code int, p Params) (e *Error, ok bool) {
	build, ok := catalogue[code]
	if !ok {
		return nil, false
	}
	return build(p), true
}

func (p Params) tenant() string {
	if p.Tenant == "" {
		return "<tenant>"
	}
	return p.Tenant
}

func (p Params) clientID() string {
	if p.ClientID == "" {
		return "<client id>"
	}
	return p.ClientID
}

func (p Params) now() time.Time {
	if p.Now.IsZero() {
		return time.Now()
	}
	return p.Now
}
