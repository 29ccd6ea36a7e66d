package emulatortest

import (
	"crypto"
	"crypto/x509"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/d365s2s/d365/emulator"
)

// TB is the part of testing.TB that New uses; *testing.T and *testing.B satisfy it.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
	Errorf(format string, args ...any)
}

// Env is a running emulator for one test and what a client needs to reach it.
type Env struct {
	// Emulator is the running emulator, for its admin methods.
	Emulator *emulator.Emulator
	// OrgURL is the organization URL: the base of the Web API and the token audience.
	OrgURL string
	// Credentials are the seeded app's tenant, client ID and secret (with a scenario: its first
	// app with a secret).
	Credentials emulator.Credentials
	// Credential is an azidentity ClientSecretCredential for Credentials, aimed at the emulator
	// with instance discovery disabled. It is nil when Credentials has no secret.
	Credential azcore.TokenCredential
	// ClientOptions make an azcore-based client (dataverse.ClientOptions embeds them) talk to
	// the emulator: the Transport trusts its CA, and the Cloud's authority host is the emulator.
	ClientOptions azcore.ClientOptions
}

// New starts an emulator with opts (nil for the defaults: in memory, default seed) and closes it
// when the test ends. It fails the test if the emulator does not start.
//
// When opts has no Logger and t is a *testing.T or *testing.B, the emulator logs to [Logger]:
// a failed test's output ends with the emulator's log (the cause of a 500, a refusal's reason).
func New(t TB, opts *emulator.Options) *Env {
	t.Helper()
	emu, err := emulator.New(withTestLogger(t, opts))
	if err != nil {
		t.Fatalf("emulatortest: start the emulator: %v", err)
		return nil
	}
	t.Cleanup(func() {
		if err := emu.Close(); err != nil {
			t.Errorf("emulatortest: close the emulator: %v", err)
		}
	})
	env := &Env{
		Emulator:    emu,
		OrgURL:      emu.OrgURL(),
		Credentials: emu.Credentials(),
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: emu.AuthorityHost()},
			Transport: emu.HTTPClient(),
		},
	}
	if env.Credentials.ClientSecret != "" {
		env.Credential = env.SecretCredential(t, env.Credentials)
	}
	return env
}

// SecretCredential returns an azidentity ClientSecretCredential for other credentials (an app
// the test registered with Emulator.CreateApp and AddSecret), aimed at the emulator. An empty
// TenantID means the organization's tenant.
func (e *Env) SecretCredential(t TB, creds emulator.Credentials) azcore.TokenCredential {
	t.Helper()
	tenant := creds.TenantID
	if tenant == "" {
		tenant = e.Emulator.TenantID()
	}
	cred, err := azidentity.NewClientSecretCredential(tenant, creds.ClientID, creds.ClientSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            e.ClientOptions,
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatalf("emulatortest: secret credential for %s: %v", creds, err)
		return nil
	}
	return cred
}

// CertificateCredential returns an azidentity ClientCertificateCredential for an app whose
// certificate the test registered with Emulator.AddCertificate, aimed at the emulator. An empty
// tenant means the organization's tenant.
func (e *Env) CertificateCredential(t TB, tenant, clientID string, certs []*x509.Certificate, key crypto.PrivateKey) azcore.TokenCredential {
	t.Helper()
	if tenant == "" {
		tenant = e.Emulator.TenantID()
	}
	cred, err := azidentity.NewClientCertificateCredential(tenant, clientID, certs, key, &azidentity.ClientCertificateCredentialOptions{
		ClientOptions:            e.ClientOptions,
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatalf("emulatortest: certificate credential for %s: %v", clientID, err)
		return nil
	}
	return cred
}
