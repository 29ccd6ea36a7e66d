package emulator

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/identity"
)

// Secret describes a client secret registered on an app. Its value is never kept: AddSecret
// returns it once, like the portal.
type Secret struct {
	// ID is the secret's key ID (the portal's "Secret ID"; not the secret).
	ID       string `json:"id"`
	ClientID string `json:"clientId"`
	// DisplayName is the description shown beside the secret.
	DisplayName string `json:"displayName,omitempty"`
	// Hint is the first three characters of the value, as the portal shows them.
	Hint string `json:"hint"`
	// Expires is when the secret stops working (AADSTS7000222 afterwards); zero means never.
	Expires time.Time `json:"expires,omitzero"`
	Created time.Time `json:"created"`
}

// Expired reports whether the secret has expired at now (use Emulator.Now for the emulator's
// clock).
func (s Secret) Expired(now time.Time) bool { return !s.Expires.IsZero() && !now.Before(s.Expires) }

// NewSecret describes a client secret to add. Every field is optional.
type NewSecret struct {
	// DisplayName is the secret's description.
	DisplayName string `json:"displayName,omitempty"`
	// Expires is when the secret stops working; zero means never. A time in the past (on the
	// emulator's clock) adds an already expired secret, for reproducing AADSTS7000222.
	Expires time.Time `json:"expires,omitzero"`
	// Value registers this value instead of generating one (for scenario files and tests that
	// need a known secret). Empty means a new random value shaped like Entra's.
	Value string `json:"value,omitempty"`
}

// String describes the new secret without its value.
func (s NewSecret) String() string { return "secret " + s.DisplayName + " [REDACTED]" }

// GoString keeps the value out of %#v.
func (s NewSecret) GoString() string {
	return "emulator.NewSecret{DisplayName:" + quote(s.DisplayName) + ", Expires:" + s.Expires.Format(time.RFC3339) + ", Value:\"[REDACTED]\"}"
}

// AddSecret adds a client secret to an app ("New client secret") and returns its description
// and its value. The value cannot be read back later; an app may hold several secrets at once,
// as during a rotation.
func (e *Emulator) AddSecret(ctx context.Context, clientID string, s NewSecret) (Secret, string, error) {
	app, err := e.App(ctx, clientID)
	if err != nil {
		return Secret{}, "", err
	}
	value := s.Value
	if value == "" {
		if value, err = identity.NewSecretValue(); err != nil {
			return Secret{}, "", err
		}
	}
	before, err := e.identity.Secrets(ctx, app.ClientID)
	if err != nil {
		return Secret{}, "", fromIdentity(err)
	}
	known := make(map[string]bool, len(before))
	for _, b := range before {
		known[b.ID] = true
	}
	id := uuid.NewString()
	if err := e.identity.EnsureSecret(ctx, app.ClientID, identity.Secret{
		ID: id, DisplayName: s.DisplayName, Value: value, Expires: s.Expires,
	}); err != nil {
		return Secret{}, "", fromIdentity(err)
	}
	secrets, err := e.Secrets(ctx, app.ClientID)
	if err != nil {
		return Secret{}, "", err
	}
	for _, sec := range secrets {
		if sec.ID == id {
			return sec, value, nil
		}
	}
	return Secret{}, "", notFoundf("secret %s of app %s vanished right after it was added", id, app.ClientID)
}

// Secrets lists an app's client secrets (never their values), oldest first.
func (e *Emulator) Secrets(ctx context.Context, clientID string) ([]Secret, error) {
	app, err := e.App(ctx, clientID)
	if err != nil {
		return nil, err
	}
	infos, err := e.identity.Secrets(ctx, app.ClientID)
	if err != nil {
		return nil, fromIdentity(err)
	}
	out := make([]Secret, len(infos))
	for i, s := range infos {
		out[i] = Secret{ID: s.ID, ClientID: s.ClientID, DisplayName: s.DisplayName, Hint: s.Hint, Expires: s.Expires, Created: s.Created}
	}
	return out, nil
}

// RemoveSecret deletes one client secret of an app, by its ID.
func (e *Emulator) RemoveSecret(ctx context.Context, clientID, secretID string) error {
	app, err := e.App(ctx, clientID)
	if err != nil {
		return err
	}
	if err := e.identity.RemoveSecret(ctx, app.ClientID, secretID); errors.Is(err, identity.ErrNotFound) {
		return notFoundf("app %s has no secret with ID %q; list them with Secrets (GET /_emulator/apps/%s/secrets)", app.ClientID, secretID, app.ClientID)
	} else if err != nil {
		return fromIdentity(err)
	}
	return nil
}

// Certificate describes a certificate registered on an app (a key credential).
type Certificate struct {
	ClientID string `json:"clientId"`
	// KeyID is the key credential's GUID.
	KeyID string `json:"keyId"`
	// DisplayName is the certificate's subject common name.
	DisplayName string `json:"displayName"`
	// ThumbprintSHA1 is the upper-case hex SHA-1 of the certificate: the portal's "Thumbprint"
	// and what AADSTS700027 quotes.
	ThumbprintSHA1 string `json:"thumbprint"`
	// ThumbprintSHA256 is the upper-case hex SHA-256 (what x5t#S256 encodes).
	ThumbprintSHA256 string    `json:"thumbprintSha256"`
	Subject          string    `json:"subject"`
	NotBefore        time.Time `json:"notBefore"`
	NotAfter         time.Time `json:"notAfter"`
	Created          time.Time `json:"created"`
}

// AddCertificate registers a certificate's public key on an app ("Upload certificate"). cert is
// PEM (the first CERTIFICATE block counts; private keys in the same file are skipped and never
// kept) or DER. The key must be RSA of at least 2048 bits, as Entra and MSAL require. Adding a
// certificate the app already has returns the existing entry.
func (e *Emulator) AddCertificate(ctx context.Context, clientID string, cert []byte) (Certificate, error) {
	app, err := e.App(ctx, clientID)
	if err != nil {
		return Certificate{}, err
	}
	certs, err := identity.ParseCertificatePEM(cert)
	if err != nil {
		msg := strings.TrimPrefix(err.Error(), "identity: ")
		msg = strings.TrimSuffix(msg, ": "+identity.ErrInvalid.Error())
		return Certificate{}, invalidf("the certificate does not parse: %s; give a PEM file with a CERTIFICATE block or a DER certificate", msg)
	}
	info, err := e.identity.AddCertificate(ctx, app.ClientID, certs[0])
	if err != nil {
		return Certificate{}, fromIdentity(err)
	}
	return certificate(info), nil
}

// Certificates lists the certificates registered on an app, oldest first.
func (e *Emulator) Certificates(ctx context.Context, clientID string) ([]Certificate, error) {
	app, err := e.App(ctx, clientID)
	if err != nil {
		return nil, err
	}
	infos, err := e.identity.Certificates(ctx, app.ClientID)
	if err != nil {
		return nil, fromIdentity(err)
	}
	out := make([]Certificate, len(infos))
	for i, c := range infos {
		out[i] = certificate(c)
	}
	return out, nil
}

// RemoveCertificate removes a certificate from an app. id is its SHA-1 or SHA-256 thumbprint in
// hex (any case) or its key ID.
func (e *Emulator) RemoveCertificate(ctx context.Context, clientID, id string) error {
	app, err := e.App(ctx, clientID)
	if err != nil {
		return err
	}
	if err := e.identity.RemoveCertificate(ctx, app.ClientID, id); errors.Is(err, identity.ErrNotFound) {
		return notFoundf("app %s has no certificate with thumbprint or key ID %q; list them with Certificates (GET /_emulator/apps/%s/certificates)", app.ClientID, id, app.ClientID)
	} else if err != nil {
		return fromIdentity(err)
	}
	return nil
}

func certificate(c identity.CertificateInfo) Certificate {
	return Certificate{
		ClientID: c.ClientID, KeyID: c.KeyID, DisplayName: c.DisplayName,
		ThumbprintSHA1: c.ThumbprintSHA1, ThumbprintSHA256: c.ThumbprintSHA256, Subject: c.Subject,
		NotBefore: c.NotBefore, NotAfter: c.NotAfter, Created: c.Created,
	}
}
