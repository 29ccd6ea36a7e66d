package httpheader

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(1994, 11, 6, 8, 49, 7, 0, time.UTC)
	tests := []struct {
		in   string
		now  time.Time
		want time.Duration
	}{
		{"", now, 0},
		{"0", now, 0},
		{"1", now, time.Second},
		{"120", now, 2 * time.Minute},
		{" 7 ", now, 7 * time.Second},
		{"007", now, 7 * time.Second},
		{"1.5", now, 1500 * time.Millisecond},
		{"0.25", now, 250 * time.Millisecond},
		{"2.0000000019", now, 2*time.Second + 1*time.Nanosecond},
		{"9223372036.854775807", now, math.MaxInt64},
		{"9223372036.854775808", now, math.MaxInt64}, // one nanosecond too many: capped
		{"9223372037", now, math.MaxInt64},
		{"99999999999999999999999", now, math.MaxInt64},
		{"-1", now, 0},
		{"+1", now, 0},
		{"1e3", now, 0},
		{".5", now, 0},
		{"1.", now, 0},
		{"1.2.3", now, 0},
		{"0x10", now, 0},
		{"Inf", now, 0},
		{"NaN", now, 0},
		{"soon", now, 0},
		// The three date forms RFC 9110 asks recipients to accept, 30 s after now.
		{"Sun, 06 Nov 1994 08:49:37 GMT", now, 30 * time.Second},
		{"Sunday, 06-Nov-94 08:49:37 GMT", now, 30 * time.Second},
		{"Sun Nov  6 08:49:37 1994", now, 30 * time.Second},
		// A date is rounded up to its own precision, a whole second.
		{"Sun, 06 Nov 1994 08:49:37 GMT", now.Add(300 * time.Millisecond), 30 * time.Second},
		{"Sun, 06 Nov 1994 08:49:07 GMT", now, 0},             // now
		{"Sun, 06 Nov 1994 08:48:07 GMT", now, 0},             // past
		{"Sun, 06 Nov 1994 08:49:37 PST", now, 0},             // not GMT
		{"06 Nov 1994 08:49:37 GMT", now, 0},                  // no weekday
		{"Sun, 06 Nov 1994 08:49:37 GMT x", now, 0},           // trailing text
		{"Sun, 01 Nov 2290 00:00:00 GMT", now, math.MaxInt64}, // beyond a Duration: capped, never negative
	}
	for _, tt := range tests {
		if got := RetryAfter(tt.in, tt.now); got != tt.want {
			t.Errorf("RetryAfter(%q, %s) = %v, want %v", tt.in, tt.now.Format(time.StampMilli), got, tt.want)
		}
	}
}

func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"1", "1.5", "Sun, 06 Nov 1994 08:49:37 GMT", "99999999999999999999", " 3 ", "-0"} {
		f.Add(s)
	}
	now := time.Date(1994, 11, 6, 8, 49, 7, 0, time.UTC)
	f.Fuzz(func(t *testing.T, v string) {
		if d := RetryAfter(v, now); d < 0 {
			t.Fatalf("RetryAfter(%q) = %v, a negative wait", v, d)
		}
	})
}

func TestBearerChallenge(t *testing.T) {
	t.Parallel()
	const (
		uri = "https://login.microsoftonline.com/11111111-2222-4333-8444-555555555555/oauth2/authorize"
		res = "https://contoso.crm.dynamics.com/"
	)
	tests := []struct {
		name      string
		in        []string
		uri, res  string
		hasBearer bool
	}{
		{"Dataverse's bare values", []string{"Bearer authorization_uri=" + uri + ", resource_id=" + res}, uri, res, true},
		{"quoted values", []string{`Bearer authorization_uri="` + uri + `", resource_id="` + res + `"`}, uri, res, true},
		{"case-insensitive scheme and names", []string{"bEARER Authorization_URI=" + uri + ",RESOURCE_ID=" + res}, uri, res, true},
		{"older names", []string{`Bearer authorization="` + uri + `", resource="` + res + `"`}, uri, res, true},
		{"white space around =", []string{"Bearer authorization_uri = " + uri + " , resource_id=\t" + res}, uri, res, true},
		{"quoted comma and escaped quote", []string{`Bearer realm="a, \"b\"", authorization_uri="` + uri + `"`}, uri, "", true},
		{"first occurrence wins", []string{"Bearer authorization_uri=" + uri + ", authorization_uri=https://other/x"}, uri, "", true},
		{"Basic before Bearer in one value", []string{`Basic realm="x", Bearer authorization_uri=` + uri}, uri, "", true},
		{"Bearer before Basic in one value", []string{`Bearer authorization_uri=` + uri + `, resource_id=` + res + `, Basic realm="` + res + `"`}, uri, res, true},
		{"token68 scheme before Bearer", []string{"Negotiate abc==, Bearer resource_id=" + res}, "", res, true},
		{"Bearer in a later header value", []string{`Basic realm="x"`, "Bearer authorization_uri=" + uri}, uri, "", true},
		{"CAE claims challenge", []string{`Bearer realm="", authorization_uri="` + uri + `", error="insufficient_claims", claims="eyJhY2Nlc3NfdG9rZW4iOnt9fQ=="`}, uri, "", true},
		{"Bearer without parameters", []string{"Bearer"}, "", "", true},
		{"Bearer, then another scheme", []string{"Bearer, Basic authorization_uri=" + uri}, "", "", true},
		{"unterminated quote", []string{`Bearer authorization_uri="` + uri}, uri, "", true},
		{"parameters of another scheme are not Bearer's", []string{"Basic authorization_uri=" + uri}, "", "", false},
		{"no Bearer", []string{`Basic realm="x"`}, "", "", false},
		{"Bearer as a parameter value", []string{`Basic realm=Bearer`}, "", "", false},
		{"BearerX is another scheme", []string{"BearerX authorization_uri=" + uri}, "", "", false},
		{"empty value", []string{""}, "", "", false},
		{"no values", nil, "", "", false},
		{"garbage", []string{`=,"" ==`}, "", "", false},
	}
	for _, tt := range tests {
		gotURI, gotRes, ok := BearerChallenge(tt.in)
		if gotURI != tt.uri || gotRes != tt.res || ok != tt.hasBearer {
			t.Errorf("%s: BearerChallenge(%q) = %q, %q, %v; want %q, %q, %v", tt.name, tt.in, gotURI, gotRes, ok, tt.uri, tt.res, tt.hasBearer)
		}
	}
}

func FuzzBearerChallenge(f *testing.F) {
	for _, s := range []string{
		"Bearer authorization_uri=https://login/t/oauth2/authorize, resource_id=https://x/",
		`Basic realm="a\"b", Bearer authorization="u"`, `Bearer "`, "Negotiate abc==, Bearer a=b", "=,=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		uri, res, ok := BearerChallenge([]string{v})
		if !ok && (uri != "" || res != "") {
			t.Fatalf("parameters %q, %q without a Bearer challenge in %q", uri, res, v)
		}
		if ok && !strings.Contains(strings.ToLower(v), "bearer") {
			t.Fatalf("a Bearer challenge found in %q", v)
		}
		if !strings.Contains(v, `"`) && (!strings.Contains(v, uri) || !strings.Contains(v, res)) {
			t.Fatalf("values %q, %q are not taken from %q", uri, res, v)
		}
	})
}
