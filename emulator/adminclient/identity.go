package adminclient

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/d365s2s/d365/emulator"
)

// Tenants lists the tenants: GET /_emulator/tenants.
func (c *Client) Tenants(ctx context.Context) ([]emulator.Tenant, error) {
	var out []emulator.Tenant
	return out, c.call(ctx, http.MethodGet, "tenants", nil, &out)
}

// AddTenant adds a tenant: POST /_emulator/tenants.
func (c *Client) AddTenant(ctx context.Context, t emulator.Tenant) (emulator.Tenant, error) {
	var out emulator.Tenant
	return out, c.call(ctx, http.MethodPost, "tenants", t, &out)
}

// Tenant returns a tenant by ID or domain: GET /_emulator/tenants/{idOrDomain}.
func (c *Client) Tenant(ctx context.Context, idOrDomain string) (emulator.Tenant, error) {
	var out emulator.Tenant
	return out, c.call(ctx, http.MethodGet, "tenants/"+esc(idOrDomain), nil, &out)
}

// CreateApp registers an app without a secret: POST /_emulator/apps.
func (c *Client) CreateApp(ctx context.Context, a emulator.NewApp) (emulator.App, error) {
	var out emulator.CreatedApp
	return out.App, c.call(ctx, http.MethodPost, "apps", a, &out)
}

// CreateAppWithSecret registers an app and adds its first client secret in one call, so that no
// app is left without the secret asked for: POST /_emulator/apps with "secret".
func (c *Client) CreateAppWithSecret(ctx context.Context, a emulator.NewApp, s SecretRequest) (emulator.CreatedApp, error) {
	body := struct {
		emulator.NewApp
		Secret secretBody `json:"secret"`
	}{a, s.body()}
	var out emulator.CreatedApp
	return out, c.call(ctx, http.MethodPost, "apps", body, &out)
}

// App returns an app registration by client ID: GET /_emulator/apps/{clientId}.
func (c *Client) App(ctx context.Context, clientID string) (emulator.App, error) {
	var out emulator.App
	return out, c.call(ctx, http.MethodGet, "apps/"+esc(clientID), nil, &out)
}

// Apps lists the app registrations, of one tenant (ID or domain) unless tenant is empty:
// GET /_emulator/apps[?tenant=].
func (c *Client) Apps(ctx context.Context, tenant string) ([]emulator.App, error) {
	path := "apps"
	if tenant != "" {
		path += "?tenant=" + url.QueryEscape(tenant)
	}
	var out []emulator.App
	return out, c.call(ctx, http.MethodGet, path, nil, &out)
}

// SetAppEnabled enables or disables an app: PATCH /_emulator/apps/{clientId}.
func (c *Client) SetAppEnabled(ctx context.Context, clientID string, enabled bool) error {
	_, err := c.patchApp(ctx, clientID, !enabled)
	return err
}

func (c *Client) patchApp(ctx context.Context, clientID string, disabled bool) (emulator.App, error) {
	var out emulator.App
	return out, c.call(ctx, http.MethodPatch, "apps/"+esc(clientID), disabledBody{&disabled}, &out)
}

// RemoveApp deletes an app registration: DELETE /_emulator/apps/{clientId}.
func (c *Client) RemoveApp(ctx context.Context, clientID string) error {
	return c.call(ctx, http.MethodDelete, "apps/"+esc(clientID), nil, nil)
}

// SecretRequest is a client secret to add over the admin API. Unlike emulator.NewSecret it can
// give the expiry relative to the emulator's clock, which may be offset from this machine's.
type SecretRequest struct {
	// DisplayName describes the secret.
	DisplayName string
	// Expires is when the secret stops working; zero with ExpiresIn zero means never.
	Expires time.Time
	// ExpiresIn, when not nil, is the validity from now on the emulator's clock (negative:
	// already expired). It is ignored when Expires is set.
	ExpiresIn *time.Duration
	// Value is the secret itself; empty lets the emulator make one.
	Value string
}

// secretBody is the wire form of SecretRequest.
type secretBody struct {
	DisplayName string `json:"displayName,omitempty"`
	Expires     string `json:"expires,omitempty"`
	ExpiresIn   string `json:"expiresIn,omitempty"`
	Value       string `json:"value,omitempty"`
}

func (s SecretRequest) body() secretBody {
	b := secretBody{DisplayName: s.DisplayName, Value: s.Value}
	switch {
	case !s.Expires.IsZero():
		b.Expires = s.Expires.Format(time.RFC3339Nano)
	case s.ExpiresIn != nil:
		b.ExpiresIn = s.ExpiresIn.String()
	}
	return b
}

// AddSecret adds a client secret to an app and returns it with its value, shown this once:
// POST /_emulator/apps/{clientId}/secrets.
func (c *Client) AddSecret(ctx context.Context, clientID string, s emulator.NewSecret) (emulator.Secret, string, error) {
	out, err := c.AddSecretRequest(ctx, clientID, SecretRequest{DisplayName: s.DisplayName, Expires: s.Expires, Value: s.Value})
	return out.Secret, out.Value, err
}

// AddSecretRequest is AddSecret with the expiry given relative to the emulator's clock when
// s.ExpiresIn is set.
func (c *Client) AddSecretRequest(ctx context.Context, clientID string, s SecretRequest) (emulator.CreatedSecret, error) {
	var out emulator.CreatedSecret
	return out, c.call(ctx, http.MethodPost, "apps/"+esc(clientID)+"/secrets", s.body(), &out)
}

// Secrets lists an app's client secrets, never their values: GET /_emulator/apps/{clientId}/secrets.
func (c *Client) Secrets(ctx context.Context, clientID string) ([]emulator.Secret, error) {
	var out []emulator.Secret
	return out, c.call(ctx, http.MethodGet, "apps/"+esc(clientID)+"/secrets", nil, &out)
}

// RemoveSecret deletes a client secret by its ID: DELETE /_emulator/apps/{clientId}/secrets/{id}.
func (c *Client) RemoveSecret(ctx context.Context, clientID, secretID string) error {
	return c.call(ctx, http.MethodDelete, "apps/"+esc(clientID)+"/secrets/"+esc(secretID), nil, nil)
}

// AddCertificate registers a certificate, PEM or DER, on an app:
// POST /_emulator/apps/{clientId}/certificates. Only the public certificate is sent.
func (c *Client) AddCertificate(ctx context.Context, clientID string, cert []byte) (emulator.Certificate, error) {
	body := map[string]string{"der": base64Std(cert)}
	if isPEM(cert) {
		body = map[string]string{"pem": string(cert)}
	}
	var out emulator.Certificate
	return out, c.call(ctx, http.MethodPost, "apps/"+esc(clientID)+"/certificates", body, &out)
}

// Certificates lists the certificates on an app: GET /_emulator/apps/{clientId}/certificates.
func (c *Client) Certificates(ctx context.Context, clientID string) ([]emulator.Certificate, error) {
	var out []emulator.Certificate
	return out, c.call(ctx, http.MethodGet, "apps/"+esc(clientID)+"/certificates", nil, &out)
}

// RemoveCertificate deletes a certificate by thumbprint or key ID:
// DELETE /_emulator/apps/{clientId}/certificates/{id}.
func (c *Client) RemoveCertificate(ctx context.Context, clientID, id string) error {
	return c.call(ctx, http.MethodDelete, "apps/"+esc(clientID)+"/certificates/"+esc(id), nil, nil)
}

// disabledBody is the PATCH body {"disabled": bool}.
type disabledBody struct {
	Disabled *bool `json:"disabled,omitempty"`
}
