package identity

import (
	"context"
	"crypto/x509"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
)

// realClock makes the service use the wall clock: MSAL signs client assertions with time.Now.
func realClock(o *Options) { o.Now = time.Now }

func (e *env) clientOptions(transport policy.Transporter) azcore.ClientOptions {
	if transport == nil {
		transport = e.srv.Client()
	}
	return azcore.ClientOptions{
		Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: e.srv.URL + "/"},
		Transport: transport,
	}
}

// getTokenTwice gets a token, checks it validates with the wanted appidacr, gets it again and
// checks the second call was served from azidentity's cache (no second token request).
func getTokenTwice(t *testing.T, e *env, cred azcore.TokenCredential, acr string) {
	t.Helper()
	ctx := context.Background()
	opts := policy.TokenRequestOptions{Scopes: []string{e.svc.Resource() + "/.default"}}
	first, err := cred.GetToken(ctx, opts)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	tok, err := e.svc.ValidateAccessToken(first.Token)
	if err != nil {
		t.Fatalf("ValidateAccessToken: %v", err)
	}
	if tok.AppIDACR != acr || tok.AppID != testClientID || tok.ObjectID != testObjectID || tok.TenantID != testTenantID {
		t.Errorf("token = %+v, want appidacr %s for the test app", tok, acr)
	}
	if d := time.Until(first.ExpiresOn); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("ExpiresOn in %v, want about an hour (expires_in 3599)", d)
	}
	second, err := cred.GetToken(ctx, opts)
	if err != nil {
		t.Fatalf("second GetToken: %v", err)
	}
	if second.Token != first.Token {
		t.Error("second GetToken returned a different token; want the cached one")
	}
	if n := e.tokenPosts.Load(); n != 1 {
		t.Errorf("%d token requests, want 1 (the second GetToken must come from azidentity's cache)", n)
	}
}

func TestAzidentityClientSecretCredential(t *testing.T) {
	t.Parallel()
	e := newEnv(t, realClock)
	cred, err := azidentity.NewClientSecretCredential(testTenantID, testClientID, testSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            e.clientOptions(nil),
		DisableInstanceDiscovery: true,
	})
	must(t, err)
	getTokenTwice(t, e, cred, "1")
}

func TestAzidentityClientSecretCredentialByDomain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, realClock)
	cred, err := azidentity.NewClientSecretCredential(testTenantDomain, testClientID, testSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions:            e.clientOptions(nil),
		DisableInstanceDiscovery: true,
	})
	must(t, err)
	getTokenTwice(t, e, cred, "1")
}

func TestAzidentityClientCertificateCredential(t *testing.T) {
	t.Parallel()
	for _, chain := range []bool{false, true} {
		name := "thumbprint"
		if chain {
			name = "x5c chain"
		}
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, realClock)
			cred, err := azidentity.NewClientCertificateCredential(testTenantID, testClientID, []*x509.Certificate{e.cert.cert}, e.cert.key,
				&azidentity.ClientCertificateCredentialOptions{
					ClientOptions:            e.clientOptions(nil),
					DisableInstanceDiscovery: true,
					SendCertificateChain:     chain,
				})
			must(t, err)
			getTokenTwice(t, e, cred, "2")
		})
	}
}

func TestAzidentityErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, realClock)
	cases := []struct {
		name   string
		cred   func() (azcore.TokenCredential, error)
		status int
		code   string
	}{
		{"wrong secret", func() (azcore.TokenCredential, error) {
			return azidentity.NewClientSecretCredential(testTenantID, testClientID, "wrong-secret-value", &azidentity.ClientSecretCredentialOptions{
				ClientOptions: e.clientOptions(nil), DisableInstanceDiscovery: true})
		}, http.StatusUnauthorized, "AADSTS7000215"},
		{"unregistered certificate", func() (azcore.TokenCredential, error) {
			other := sharedCert(t, 2)
			return azidentity.NewClientCertificateCredential(testTenantID, testClientID, []*x509.Certificate{other.cert}, other.key,
				&azidentity.ClientCertificateCredentialOptions{ClientOptions: e.clientOptions(nil), DisableInstanceDiscovery: true})
		}, http.StatusUnauthorized, "AADSTS700027"},
		{"unknown client", func() (azcore.TokenCredential, error) {
			return azidentity.NewClientSecretCredential(testTenantID, otherClientID, testSecret, &azidentity.ClientSecretCredentialOptions{
				ClientOptions: e.clientOptions(nil), DisableInstanceDiscovery: true})
		}, http.StatusBadRequest, "AADSTS700016"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			cred, err := c.cred()
			must(t, err)
			_, err = cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{e.svc.Resource() + "/.default"}})
			var afe *azidentity.AuthenticationFailedError
			if !errors.As(err, &afe) {
				t.Fatalf("GetToken error = %v, want *AuthenticationFailedError", err)
			}
			if afe.RawResponse == nil || afe.RawResponse.StatusCode != c.status {
				t.Errorf("RawResponse status = %v, want %d", afe.RawResponse, c.status)
			}
			if !strings.Contains(err.Error(), c.code) {
				t.Errorf("error does not name %s:\n%v", c.code, err)
			}
			if strings.Contains(err.Error(), testSecret) {
				t.Error("the error contains the client secret")
			}
		})
	}
}

// loginRerouter sends MSAL's instance-discovery call to login.microsoftonline.com to the test
// server instead, so that instance discovery can stay on.
type loginRerouter struct {
	client *http.Client
	target *url.URL
	calls  chan string
}

func (r *loginRerouter) Do(req *http.Request) (*http.Response, error) {
	if req.URL.Host == "login.microsoftonline.com" {
		select {
		case r.calls <- req.URL.Path + "?" + req.URL.RawQuery:
		default:
		}
		req = req.Clone(req.Context())
		req.URL.Host = r.target.Host
		req.Host = r.target.Host
	}
	return r.client.Do(req)
}

func TestAzidentityWithInstanceDiscovery(t *testing.T) {
	t.Parallel()
	e := newEnv(t, realClock)
	target, err := url.Parse(e.srv.URL)
	must(t, err)
	rr := &loginRerouter{client: e.srv.Client(), target: target, calls: make(chan string, 8)}
	cred, err := azidentity.NewClientSecretCredential(testTenantID, testClientID, testSecret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: e.clientOptions(rr),
	})
	must(t, err)
	getTokenTwice(t, e, cred, "1")
	select {
	case call := <-rr.calls:
		if !strings.HasPrefix(call, "/common/discovery/instance?") || !strings.Contains(call, url.QueryEscape(e.srv.URL+"/"+testTenantID+"/oauth2/v2.0/authorize")) {
			t.Errorf("instance discovery call = %s", call)
		}
	default:
		t.Error("MSAL made no instance-discovery call; the test no longer covers it")
	}
}
