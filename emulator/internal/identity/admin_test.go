package identity

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestTenants(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	// Idempotent, case-insensitive.
	must(t, e.svc.EnsureTenant(ctx, Tenant{ID: strings.ToUpper(testTenantID), Domain: strings.ToUpper(testTenantDomain)}))
	for _, key := range []string{testTenantID, strings.ToUpper(testTenantID), testTenantDomain, "CONTOSO.onmicrosoft.com"} {
		got, err := e.svc.Tenant(ctx, key)
		if err != nil || got != (Tenant{ID: testTenantID, Domain: testTenantDomain, DisplayName: testTenantName}) {
			t.Errorf("Tenant(%q) = %+v, %v", key, got, err)
		}
	}
	must(t, e.svc.EnsureTenant(ctx, Tenant{ID: otherTenantID, Domain: "fabrikam.com"}))
	list, err := e.svc.Tenants(ctx)
	must(t, err)
	want := []Tenant{
		{ID: testTenantID, Domain: testTenantDomain, DisplayName: testTenantName},
		{ID: otherTenantID, Domain: "fabrikam.com", DisplayName: "fabrikam.com"},
	}
	if diff := cmp.Diff(want, list); diff != "" {
		t.Errorf("Tenants (-want +got):\n%s", diff)
	}

	for _, c := range []struct {
		name string
		t    Tenant
		want error
		text string
	}{
		{"other domain for an existing ID", Tenant{ID: testTenantID, Domain: "other.com"}, ErrConflict, "already exists with domain contoso.onmicrosoft.com"},
		{"domain of another tenant", Tenant{ID: "12121212-1212-4212-8212-121212121212", Domain: testTenantDomain}, ErrConflict, "already belongs to tenant " + testTenantID},
		{"ID not a GUID", Tenant{ID: "contoso", Domain: "x.com"}, ErrInvalid, `tenant ID "contoso" is not a GUID`},
		{"empty GUID", Tenant{ID: emptyGUID, Domain: "x.com"}, ErrInvalid, "empty GUID"},
		{"domain without a dot", Tenant{ID: "12121212-1212-4212-8212-121212121212", Domain: "contoso"}, ErrInvalid, "is not a DNS name"},
	} {
		err := e.svc.EnsureTenant(ctx, c.t)
		if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("%s: EnsureTenant = %v, want %v containing %q", c.name, err, c.want, c.text)
		}
	}
	if _, err := e.svc.Tenant(ctx, "nosuch.com"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Tenant(unknown) = %v, want ErrNotFound", err)
	}
}

func TestApps(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	must(t, e.svc.EnsureApp(ctx, App{ClientID: testClientID, TenantID: testTenantDomain, DisplayName: "renamed"}))
	got, err := e.svc.App(ctx, strings.ToUpper(testClientID))
	must(t, err)
	if want := (App{ClientID: testClientID, TenantID: testTenantID, ObjectID: testObjectID, DisplayName: testAppName}); got != want {
		t.Errorf("App after a second EnsureApp = %+v, want it unchanged %+v", got, want)
	}
	const newClient = "abababab-abab-4bab-8bab-abababababab"
	must(t, e.svc.EnsureApp(ctx, App{ClientID: newClient, TenantID: testTenantID}))
	created, err := e.svc.App(ctx, newClient)
	must(t, err)
	if !guidRE.MatchString(created.ObjectID) || created.DisplayName != newClient {
		t.Errorf("new app = %+v, want a generated object ID and the client ID as name", created)
	}
	must(t, e.svc.EnsureTenant(ctx, Tenant{ID: otherTenantID, Domain: "fabrikam.com"}))
	for _, c := range []struct {
		a    App
		want error
		text string
	}{
		{App{ClientID: testClientID, TenantID: otherTenantID}, ErrConflict, "already registered in tenant " + testTenantID},
		{App{ClientID: testClientID, TenantID: testTenantID, ObjectID: otherClientID}, ErrConflict, "already has service principal"},
		{App{ClientID: "cdcdcdcd-cdcd-4dcd-8dcd-cdcdcdcdcdcd", TenantID: testTenantID, ObjectID: testObjectID}, ErrConflict, "already belongs to app"},
		{App{ClientID: "cdcdcdcd-cdcd-4dcd-8dcd-cdcdcdcdcdcd", TenantID: "nosuch.com"}, ErrNotFound, `tenant "nosuch.com"`},
		{App{ClientID: "my-app", TenantID: testTenantID}, ErrInvalid, `client ID "my-app" is not a GUID`},
	} {
		if err := e.svc.EnsureApp(ctx, c.a); !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.text) {
			t.Errorf("EnsureApp(%+v) = %v, want %v containing %q", c.a, err, c.want, c.text)
		}
	}
	apps, err := e.svc.Apps(ctx, testTenantDomain)
	must(t, err)
	if len(apps) != 2 || apps[0].ClientID != testClientID || apps[1].ClientID != newClient { // by display name
		t.Errorf("Apps(contoso) = %+v", apps)
	}
	if apps, err := e.svc.Apps(ctx, otherTenantID); err != nil || len(apps) != 0 {
		t.Errorf("Apps(fabrikam) = %+v, %v", apps, err)
	}

	// Disable, enable, remove: the token endpoint follows.
	tokenStatus := func() response { return e.post(t, e.tokenURL(testTenantID, tokenV2), e.withOrg(secretForm()), nil) }
	must(t, e.svc.DisableApp(ctx, testClientID))
	checkAADError(t, tokenStatus(), http.StatusBadRequest, "unauthorized_client", 7000112, "Application '"+testClientID+"'(Contoso Integration) is disabled.")
	must(t, e.svc.EnableApp(ctx, testClientID))
	if r := tokenStatus(); r.status != http.StatusOK {
		t.Errorf("after EnableApp: %d %s", r.status, r.raw)
	}
	must(t, e.svc.RemoveApp(ctx, testClientID))
	checkAADError(t, tokenStatus(), http.StatusBadRequest, "unauthorized_client", 700016, "was not found in the directory 'Contoso'")
	if _, err := e.svc.Secrets(ctx, testClientID); !errors.Is(err, ErrNotFound) {
		t.Errorf("Secrets of a removed app: %v", err)
	}
	var n int
	must(t, e.db.QueryRow(`SELECT (SELECT COUNT(*) FROM entra_secrets WHERE client_id = ?) + (SELECT COUNT(*) FROM entra_certificates WHERE client_id = ?)`,
		testClientID, testClientID).Scan(&n))
	if n != 0 {
		t.Errorf("%d secret/certificate rows left behind by RemoveApp", n)
	}
	for name, err := range map[string]error{
		"DisableApp": e.svc.DisableApp(ctx, testClientID), "RemoveApp": e.svc.RemoveApp(ctx, testClientID),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s(removed app) = %v, want ErrNotFound", name, err)
		}
	}
}

func TestSecrets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	must(t, e.svc.EnsureSecret(ctx, testClientID, Secret{ID: testSecretID, Value: testSecret}))
	if err := e.svc.EnsureSecret(ctx, testClientID, Secret{ID: testSecretID, Value: "another value"}); !errors.Is(err, ErrConflict) {
		t.Errorf("EnsureSecret with a new value = %v, want ErrConflict", err)
	}
	if err := e.svc.EnsureSecret(ctx, testClientID, Secret{ID: "not-a-guid", Value: "x"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("EnsureSecret with a bad ID = %v, want ErrInvalid", err)
	}
	if err := e.svc.EnsureSecret(ctx, testClientID, Secret{ID: "cececece-cece-4ece-8ece-cececececece", Value: "line\nbreak"}); !errors.Is(err, ErrInvalid) {
		t.Errorf("EnsureSecret with a control character = %v, want ErrInvalid", err)
	}

	// Rotation: a second secret works beside the first; removing the first leaves the second.
	info, value, err := e.svc.AddSecret(ctx, testClientID, "rotation 2026", e.clock.Now().Add(90*24*time.Hour))
	must(t, err)
	if len(value) != 40 || value[3:6] != "8Q~" || info.Hint != value[:3] || !guidRE.MatchString(info.ID) {
		t.Errorf("AddSecret = %+v with a value of length %d; want an Entra-shaped 40-character value and its 3-character hint", info, len(value))
	}
	tokenWith := func(secret string) response {
		f := e.withOrg(secretForm())
		f.Set("client_secret", secret)
		return e.post(t, e.tokenURL(testTenantID, tokenV2), f, nil)
	}
	for _, s := range []string{testSecret, value} {
		if r := tokenWith(s); r.status != http.StatusOK {
			t.Errorf("token with one of two secrets: %d %s", r.status, r.raw)
		}
	}
	list, err := e.svc.Secrets(ctx, testClientID)
	must(t, err)
	if len(list) != 2 || list[0].ID != testSecretID || list[0].Hint != "abc" || list[1].ID != info.ID || list[1].DisplayName != "rotation 2026" {
		t.Errorf("Secrets = %+v", list)
	}
	if fmt.Sprintf("%+v", list) != strings.ReplaceAll(fmt.Sprintf("%+v", list), testSecret, "") {
		t.Error("Secrets exposes a secret value")
	}
	must(t, e.svc.RemoveSecret(ctx, testClientID, testSecretID))
	checkAADError(t, tokenWith(testSecret), http.StatusUnauthorized, "invalid_client", 7000215, "Invalid client secret provided.")
	if r := tokenWith(value); r.status != http.StatusOK {
		t.Errorf("remaining secret: %d %s", r.status, r.raw)
	}
	if err := e.svc.RemoveSecret(ctx, testClientID, testSecretID); !errors.Is(err, ErrNotFound) {
		t.Errorf("RemoveSecret twice = %v, want ErrNotFound", err)
	}

	// Expiry is checked against the service clock.
	e.clock.Advance(90*24*time.Hour + time.Second)
	checkAADError(t, tokenWith(value), http.StatusUnauthorized, "invalid_client", 7000222, "are expired")
}

func TestSecretRedaction(t *testing.T) {
	t.Parallel()
	sec := Secret{ID: testSecretID, DisplayName: "prod", Value: testSecret}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("secret", "s", sec)
	for _, out := range []string{fmt.Sprint(sec), fmt.Sprintf("%v %+v %#v %s", sec, sec, sec, sec), logs.String()} {
		if strings.Contains(out, testSecret) || !strings.Contains(out, "REDACTED") {
			t.Errorf("formatted secret leaks or is not redacted: %s", out)
		}
	}
}

func TestCertificates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	list, err := e.svc.Certificates(ctx, testClientID)
	must(t, err)
	if len(list) != 1 {
		t.Fatalf("Certificates = %+v", list)
	}
	again, err := e.svc.AddCertificate(ctx, testClientID, e.cert.cert)
	must(t, err)
	if again.KeyID != list[0].KeyID {
		t.Errorf("re-adding a certificate created a new entry %s (existing %s)", again.KeyID, list[0].KeyID)
	}
	if len(list[0].ThumbprintSHA1) != 40 || len(list[0].ThumbprintSHA256) != 64 || list[0].DisplayName != "client-a" {
		t.Errorf("certificate info = %+v", list[0])
	}

	// PEM with a private key block: the key is skipped.
	second := sharedCert(t, 1)
	keyDER, err := x509.MarshalPKCS8PrivateKey(second.key)
	must(t, err)
	pemData := append(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: second.cert.Raw})...)
	certs, err := ParseCertificatePEM(pemData)
	must(t, err)
	if len(certs) != 1 || !certs[0].Equal(second.cert) {
		t.Fatalf("ParseCertificatePEM = %d certificates", len(certs))
	}
	if der, err := ParseCertificatePEM(second.cert.Raw); err != nil || !der[0].Equal(second.cert) {
		t.Errorf("ParseCertificatePEM(DER) = %v", err)
	}
	if _, err := ParseCertificatePEM(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})); !errors.Is(err, ErrInvalid) {
		t.Errorf("ParseCertificatePEM(key only) = %v, want ErrInvalid", err)
	}
	info2, err := e.svc.AddCertificate(ctx, testClientID, certs[0])
	must(t, err)

	// Both certificates authenticate; after removing the first (by SHA-1 thumbprint, any case), only the second does.
	assertWith := func(c *testCert) response {
		return e.post(t, e.tokenURL(testTenantID, tokenV2), e.withOrg(assertionForm(e.assertion(t, c, assertionSpec{}))), nil)
	}
	for _, c := range []*testCert{e.cert, second} {
		if r := assertWith(c); r.status != http.StatusOK {
			t.Errorf("assertion with one of two certificates: %d %s", r.status, r.raw)
		}
	}
	must(t, e.svc.RemoveCertificate(ctx, testClientID, strings.ToLower(list[0].ThumbprintSHA1)))
	checkAADError(t, assertWith(e.cert), http.StatusUnauthorized, "invalid_client", 700027, "The key was not found.")
	must(t, e.svc.RemoveCertificate(ctx, testClientID, info2.KeyID))
	if err := e.svc.RemoveCertificate(ctx, testClientID, info2.ThumbprintSHA256); !errors.Is(err, ErrNotFound) {
		t.Errorf("RemoveCertificate twice = %v, want ErrNotFound", err)
	}

	// Non-RSA and small keys are refused.
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(t, err)
	smallKey, err := rsa.GenerateKey(rand.Reader, 1024)
	must(t, err)
	for name, key := range map[string]any{"ECDSA": ecKey, "RSA 1024": smallKey} {
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
		var pub any
		switch k := key.(type) {
		case *ecdsa.PrivateKey:
			pub = &k.PublicKey
		case *rsa.PrivateKey:
			pub = &k.PublicKey
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, key)
		must(t, err)
		c, err := x509.ParseCertificate(der)
		must(t, err)
		if _, err := e.svc.AddCertificate(ctx, testClientID, c); !errors.Is(err, ErrInvalid) {
			t.Errorf("AddCertificate(%s) = %v, want ErrInvalid", name, err)
		}
	}
	if _, err := e.svc.AddCertificate(ctx, otherClientID, e.cert.cert); !errors.Is(err, ErrNotFound) {
		t.Errorf("AddCertificate(unknown app) = %v, want ErrNotFound", err)
	}
}

func TestNewOptions(t *testing.T) {
	t.Parallel()
	db := openTestDB(t, t.TempDir()+"/entra.db")
	for _, c := range []struct {
		opts Options
		text string
	}{
		{Options{BaseURL: "http://127.0.0.1:1"}, "must be an absolute https URL"},
		{Options{BaseURL: "https://127.0.0.1:1/tenant"}, "without path"},
		{Options{BaseURL: ""}, "is not a URL"},
		{Options{BaseURL: "https://127.0.0.1:1", Resource: "org.crm.dynamics.com"}, "Resource"},
		{Options{BaseURL: "https://127.0.0.1:1", TokenLifetime: time.Millisecond}, "token lifetime"},
		{Options{BaseURL: "https://127.0.0.1:1", ValidationSkew: -time.Second}, "negative"},
	} {
		if _, err := New(context.Background(), db, c.opts); err == nil || !strings.Contains(err.Error(), c.text) {
			t.Errorf("New(%+v) = %v, want an error mentioning %q", c.opts, err, c.text)
		}
	}
	s, err := New(context.Background(), db, Options{BaseURL: "https://127.0.0.1:1/"})
	must(t, err)
	if s.BaseURL() != "https://127.0.0.1:1" || s.Resource() != "https://127.0.0.1:1" || s.TokenLifetime() != DefaultTokenLifetime {
		t.Errorf("defaults: base %s resource %s lifetime %v", s.BaseURL(), s.Resource(), s.TokenLifetime())
	}
}
