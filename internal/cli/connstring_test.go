package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/auth"
)

const (
	csURL    = "https://contoso.crm.dynamics.com"
	csClient = "51f81489-12ee-4a9e-aaae-a2591f45987d"
	// csSecret has the characters Entra puts in secrets; '~' appears in no message, so a test
	// can tell whether a message holds any of it.
	csSecret = "Zq8~Q.abc_DEF-ghi~jkl"
)

// The documented forms and Microsoft's key aliases and quoting parse to the same settings.
func TestParseConnectionString(t *testing.T) {
	t.Parallel()
	secretWant := connectionString{Method: auth.MethodSecret, URL: csURL, ClientID: csClient, ClientSecret: csSecret}
	tests := []struct {
		name string
		in   string
		want connectionString
	}{
		{"documented ClientSecret form", "AuthType=ClientSecret;Url=" + csURL + ";ClientId=" + csClient + ";ClientSecret=" + csSecret, secretWant},
		{"aliases, case and spaces", " authtype = clientsecret ; Service Uri=" + csURL + " ;AppId=" + csClient + "; Secret = " + csSecret + " ;", secretWant},
		{"ServiceUri and ApplicationId", "AuthType=ClientSecret;ServiceUri=" + csURL + ";ApplicationId=" + csClient + ";ClientSecret=" + csSecret, secretWant},
		{"Server alias and trailing semicolons", "AuthType=ClientSecret;;Server=" + csURL + ";ClientId=" + csClient + ";ClientSecret=" + csSecret + ";;", secretWant},
		{"ignored ServiceClient keys", "AuthType=ClientSecret;Url=" + csURL + ";ClientId=" + csClient + ";ClientSecret=" + csSecret + ";LoginPrompt=Never;RequireNewInstance=true;SkipDiscovery=true", secretWant},
		{"double-quoted value holding ; and =", `AuthType=ClientSecret;Url=` + csURL + `;ClientId=` + csClient + `;ClientSecret="a;b=c"`,
			connectionString{Method: auth.MethodSecret, URL: csURL, ClientID: csClient, ClientSecret: "a;b=c"}},
		{"single-quoted value with a doubled quote", `AuthType=ClientSecret;Url=` + csURL + `;ClientId=` + csClient + `;ClientSecret='it''s'`,
			connectionString{Method: auth.MethodSecret, URL: csURL, ClientID: csClient, ClientSecret: "it's"}},
		{"double-quoted value with a doubled quote", `AuthType=ClientSecret;Url=` + csURL + `;ClientId=` + csClient + `;ClientSecret="say ""hi"""`,
			connectionString{Method: auth.MethodSecret, URL: csURL, ClientID: csClient, ClientSecret: `say "hi"`}},
		{"quote inside an unquoted value", `AuthType=ClientSecret;Url=` + csURL + `;ClientId=` + csClient + `;ClientSecret=ab"cd`,
			connectionString{Method: auth.MethodSecret, URL: csURL, ClientID: csClient, ClientSecret: `ab"cd`}},
		{"TenantId extension", "AuthType=ClientSecret;Url=" + csURL + ";ClientId=" + csClient + ";ClientSecret=" + csSecret + ";TenantId=contoso.onmicrosoft.com",
			connectionString{Method: auth.MethodSecret, URL: csURL, ClientID: csClient, ClientSecret: csSecret, TenantID: "contoso.onmicrosoft.com"}},
		{"certificate file", "AuthType=Certificate;Url=" + csURL + ";ClientId=" + csClient + ";CertificateFile=/etc/app.pem",
			connectionString{Method: auth.MethodCertificate, URL: csURL, ClientID: csClient, CertificatePath: "/etc/app.pem"}},
		{"thumbprint with a file and a password", "AuthType=Certificate;Url=" + csURL + ";ClientId=" + csClient + ";CertThumbprint=de ad be ef;StoreName=My;CertificateFile=app.pfx;CertificatePassword='p;w'",
			connectionString{Method: auth.MethodCertificate, URL: csURL, ClientID: csClient, Thumbprint: "DEADBEEF", StoreName: "My", CertificatePath: "app.pfx", CertPassword: "p;w"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := parseConnectionString(tt.in)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmp.Comparer(func(a, b auth.Secret) bool { return a.Reveal() == b.Reveal() })); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// Every refusal says what is wrong and how to fix it, and never holds the secret, nor a piece
// of it (a secret with an unquoted ';' splits into pieces that look like keys).
func TestParseConnectionStringErrors(t *testing.T) {
	t.Parallel()
	base := "Url=" + csURL + ";ClientId=" + csClient
	tests := []struct {
		name, in, want string
	}{
		{"empty", " ; ", "it is empty"},
		{"no AuthType", base + ";ClientSecret=" + csSecret, "AuthType is missing"},
		{"user sign-in", "AuthType=OAuth;" + base + ";Username=a@b.c;Password=" + csSecret, "Username (part 4) belongs to a user sign-in"},
		{"OAuth without user keys", "AuthType=OAuth;" + base + ";ClientSecret=" + csSecret, "AuthType=OAuth is a user sign-in"},
		{"unknown AuthType not echoed", "AuthType=" + csSecret + ";" + base, "AuthType has a value d365 does not know"},
		{"secret with an unquoted semicolon", "AuthType=ClientSecret;" + base + ";ClientSecret=Zq8~Q;abc~def", "part 5 has no '='"},
		{"unknown key from a split secret", "AuthType=ClientSecret;" + base + ";ClientSecret=Zq8~Q;ab~c=d", "part 5 is not a key d365 knows"},
		{"unterminated quote", "AuthType=ClientSecret;" + base + ";ClientSecret='" + csSecret, "has no closing '"},
		{"text after the closing quote", "AuthType=ClientSecret;" + base + ";ClientSecret='Zq8~'x~y", "text after its closing quote"},
		{"missing secret", "AuthType=ClientSecret;" + base, "AuthType=ClientSecret needs ClientSecret"},
		{"missing Url", "AuthType=ClientSecret;ClientId=" + csClient + ";ClientSecret=" + csSecret, "Url is missing"},
		{"missing ClientId", "AuthType=ClientSecret;Url=" + csURL + ";ClientSecret=" + csSecret, "ClientId is missing"},
		{"key twice", "AuthType=ClientSecret;" + base + ";ClientSecret=" + csSecret + ";Secret=" + csSecret, "ClientSecret is set twice (part 5)"},
		{"thumbprint alone", "AuthType=Certificate;" + base + ";Thumbprint=ABCDEF", "Windows certificate store"},
		{"no key", "AuthType=ClientSecret;=" + csSecret, "part 2 has no key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := parseConnectionString(tt.in)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one containing %q", err, tt.want)
			}
			if !errors.Is(err, errConnStringSyntax) {
				t.Errorf("err does not wrap errConnStringSyntax")
			}
			if strings.Contains(err.Error(), "~") {
				t.Errorf("the error holds a piece of the secret: %v", err)
			}
		})
	}
}

// A connection string passed where a URL belongs is refused without being echoed.
func TestConnectionStringAsURL(t *testing.T) {
	t.Parallel()
	cs := "AuthType=ClientSecret;Url=" + csURL + ";ClientId=" + csClient + ";ClientSecret=" + csSecret
	for _, v := range []string{cs, "Url=" + csURL, csURL + ";ClientSecret=" + csSecret} {
		err := refuseConnectionStringAsURL(v, "--url")
		if err == nil || exitCode(err) != ExitUsage || !strings.Contains(err.Error(), "--connection-string") {
			t.Fatalf("%q: err = %v, want a usage error naming --connection-string", v, err)
		}
		if strings.Contains(err.Error(), csSecret) || strings.Contains(err.Error(), csURL) {
			t.Errorf("the error echoes the value: %v", err)
		}
	}
	for _, v := range []string{csURL, "https://h/?a=b", "contoso.crm.dynamics.com"} {
		if err := refuseConnectionStringAsURL(v, "--url"); err != nil {
			t.Errorf("%q refused: %v", v, err)
		}
	}
}

// FuzzParseConnectionString: the parser never panics, an accepted string round-trips through
// its quoting, and no error ever contains '~', which only the input can bring (messages are
// built from fixed words, key names and part numbers): a secret never reaches an error.
func FuzzParseConnectionString(f *testing.F) {
	f.Add("AuthType=ClientSecret;Url=" + csURL + ";ClientId=" + csClient + ";ClientSecret=" + csSecret)
	f.Add(`AuthType=ClientSecret;Url=x;ClientId=y;ClientSecret="a;~b"`)
	f.Add("AuthType=Certificate;Url=x;ClientId=y;Thumbprint=~;CertificateFile='~''~'")
	f.Add("ClientSecret=~;~=~;~")
	f.Add("a==b=c;'~")
	f.Add("AuthType=~~")
	f.Fuzz(func(t *testing.T, in string) {
		cs, err := parseConnectionString(in)
		if err != nil {
			if strings.Contains(err.Error(), "~") {
				t.Fatalf("error holds input text: %v", err)
			}
			return
		}
		if !cs.ClientSecret.IsSet() && cs.CertificatePath == "" {
			t.Fatalf("accepted without a credential: %q", in)
		}
		// Quoting every value the documented way gives the same result.
		quote := func(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }
		re := "AuthType=" + map[auth.Method]string{auth.MethodSecret: "ClientSecret", auth.MethodCertificate: "Certificate"}[cs.Method] +
			";Url=" + quote(cs.URL) + ";ClientId=" + quote(cs.ClientID)
		if cs.ClientSecret.IsSet() {
			re += ";ClientSecret=" + quote(cs.ClientSecret.Reveal())
		}
		if cs.CertificatePath != "" {
			re += ";CertificateFile=" + quote(cs.CertificatePath)
		}
		again, err := parseConnectionString(re)
		if err != nil {
			t.Fatalf("re-quoted %q: %v", re, err)
		}
		if again.URL != cs.URL || again.ClientID != cs.ClientID || again.ClientSecret != cs.ClientSecret || again.CertificatePath != cs.CertificatePath {
			t.Fatalf("round trip: %+v != %+v", again, cs)
		}
	})
}
