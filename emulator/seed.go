package emulator

// Well-known development values the emulator seeds on first start. They are printed by
// `d365 emulator` and are only ever accepted by an emulator: never use them for anything real.
const (
	// DefaultTenantID is the seeded Entra tenant (directory) ID.
	DefaultTenantID = "d365d365-0000-4000-8000-000000000001"
	// DefaultTenantDomain is the seeded tenant's verified domain; token requests may name the
	// tenant by it instead of by DefaultTenantID.
	DefaultTenantDomain = "d365emulator.onmicrosoft.com"
	// DefaultClientID is the seeded app registration's application (client) ID.
	DefaultClientID = "d365d365-0000-4000-8000-000000000002"
	// DefaultServicePrincipalID is the object ID of the seeded app's service principal; access
	// tokens carry it as oid and sub, and the application user records it as its Entra object ID.
	DefaultServicePrincipalID = "d365d365-0000-4000-8000-000000000003"
	// DefaultClientSecretID is the ID of the seeded client secret (what the portal shows as
	// "Secret ID"; it is not the secret).
	DefaultClientSecretID = "d365d365-0000-4000-8000-000000000004"
	// DefaultClientSecret is the value of the seeded client secret.
	DefaultClientSecret = "d365~emulator~dev~secret~not~for~production"
	// DefaultAppName is the display name of the seeded app registration and its application user.
	DefaultAppName = "d365 emulator app"
	// DefaultRoleName is the security role held by the seeded application user. It grants every
	// privilege at organization depth.
	DefaultRoleName = "System Administrator"
)

// Credentials are what a client needs to obtain a token for an app registration.
type Credentials struct {
	TenantID     string
	ClientID     string
	ClientSecret string
}

// String describes the credentials without the secret, so they are safe to log.
func (c Credentials) String() string {
	return "tenant " + c.TenantID + ", client " + c.ClientID + ", secret [REDACTED]"
}

// GoString keeps the secret out of %#v as well.
func (c Credentials) GoString() string {
	return "emulator.Credentials{TenantID:" + quote(c.TenantID) + ", ClientID:" + quote(c.ClientID) +
		", ClientSecret:\"[REDACTED]\"}"
}

func quote(s string) string { return "\"" + s + "\"" }
