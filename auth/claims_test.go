package auth_test

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/d365s2s/d365/auth"
)

func signHS256(t testing.TB, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte("test-key-not-a-secret"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestDecodeClaims(t *testing.T) {
	t.Parallel()
	iat := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	v1 := jwt.MapClaims{
		"aud": "https://contoso.crm.dynamics.com", "iss": "https://sts.windows.net/tid-1/",
		"iat": iat.Unix(), "nbf": iat.Unix(), "exp": iat.Add(time.Hour).Unix(),
		"appid": "app-1", "appidacr": "2", "idtyp": "app", "oid": "oid-1", "sub": "oid-1", "tid": "tid-1", "ver": "1.0",
		"roles": []string{"Reader", "Writer"},
	}
	v2 := jwt.MapClaims{
		"aud": []string{"https://a.example", "https://b.example"}, "azp": "app-2", "azpacr": "1", "ver": "2.0",
		"exp": float64(iat.Unix()), "roles": "Single",
	}
	cases := []struct {
		name  string
		token string
		want  auth.Claims
	}{
		{"v1 app token", signHS256(t, v1), auth.Claims{
			Audience: []string{"https://contoso.crm.dynamics.com"}, Issuer: "https://sts.windows.net/tid-1/",
			AppID: "app-1", AppIDACR: "2", ObjectID: "oid-1", Subject: "oid-1", TenantID: "tid-1", IDType: "app", Version: "1.0",
			IssuedAt: iat, NotBefore: iat, ExpiresAt: iat.Add(time.Hour), Roles: []string{"Reader", "Writer"},
		}},
		{"v2 token falls back to azp/azpacr, audience list, single role", signHS256(t, v2), auth.Claims{
			Audience: []string{"https://a.example", "https://b.example"}, AppID: "app-2", AppIDACR: "1", Version: "2.0",
			ExpiresAt: iat, Roles: []string{"Single"},
		}},
		{"Bearer prefix and white space", "  Bearer " + signHS256(t, jwt.MapClaims{"tid": "t"}) + "\n", auth.Claims{TenantID: "t"}},
		{"unsigned token with unknown alg still decodes", b64(`{"alg":"XYZ9","typ":"JWT"}`) + "." + b64(`{"appid":"a"}`) + ".", auth.Claims{AppID: "a"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := auth.DecodeClaims(tc.token)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmpopts.IgnoreFields(auth.Claims{}, "Raw")); diff != "" {
				t.Errorf("claims (-want +got):\n%s", diff)
			}
			if len(got.Raw) == 0 {
				t.Error("Raw is empty")
			}
		})
	}
}

func TestDecodeClaimsRawAndJSON(t *testing.T) {
	t.Parallel()
	c, err := auth.DecodeClaims(signHS256(t, jwt.MapClaims{"tid": "t", "uti": "opaque", "exp": 1700000000}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Raw["uti"] != "opaque" {
		t.Errorf("Raw[uti] = %v", c.Raw["uti"])
	}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"tid":"t","exp":"2023-11-14T22:13:20Z"}`; string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
}

// Errors say what is wrong with the input and never repeat it (it may be a real token or a
// secret pasted by mistake).
func TestDecodeClaimsErrors(t *testing.T) {
	t.Parallel()
	const marker = "SENSITIVEVALUE"
	cases := []struct {
		name, input, want string
	}{
		{"empty", "   ", "the input is empty"},
		{"a client secret pasted by mistake", marker + "~abc", "it has 1 dot-separated segments, a JWT has 3"},
		{"two segments", marker + ".abc", "it has 2 dot-separated segments"},
		{"encrypted token", "a.b.c.d." + marker, "encrypted token (JWE)"},
		{"header not base64", "!!" + marker + "!!.e30.sig", "the header segment is not base64url-encoded JSON"},
		{"header not JSON", b64("["+marker) + ".e30.sig", "the header segment is not base64url-encoded JSON"},
		{"payload not JSON", b64(`{"alg":"HS256"}`) + "." + b64(`{"x":`+marker) + ".sig", "the payload segment is not base64url-encoded JSON"},
		{"signature not base64", b64(`{"alg":"HS256"}`) + ".e30.*" + marker, "the signature segment is not base64url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := auth.DecodeClaims(tc.input)
			if !errors.Is(err, auth.ErrNotJWT) {
				t.Fatalf("err = %v, want ErrNotJWT", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %q, want %q", err, tc.want)
			}
			if strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), marker[:8]) {
				t.Errorf("err echoes the input: %q", err)
			}
		})
	}
}

func FuzzDecodeClaims(f *testing.F) {
	f.Add(signHS256(f, jwt.MapClaims{"aud": "x", "exp": 1}))
	f.Add("a.b.c")
	f.Add("Bearer " + b64(`{"alg":"none"}`) + "." + b64(`{"roles":[1,"a"]}`) + ".")
	f.Add("")
	f.Fuzz(func(t *testing.T, input string) {
		_, err := auth.DecodeClaims(input)
		if err == nil {
			return
		}
		if !errors.Is(err, auth.ErrNotJWT) {
			t.Fatalf("error does not wrap ErrNotJWT: %v", err)
		}
		// No error may quote a run of the input (beyond what any message could share by chance).
		if in := strings.TrimSpace(input); len(in) >= 12 && strings.Contains(err.Error(), in) {
			t.Fatalf("error quotes the input: %v", err)
		}
	})
}
