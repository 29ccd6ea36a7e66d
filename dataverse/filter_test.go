package dataverse

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestFilterf(t *testing.T) {
	t.Parallel()
	since := time.Date(2024, 5, 1, 12, 0, 0, 0, time.FixedZone("PDT", -7*3600))
	tests := []struct {
		got, want string
	}{
		{Filterf("lastname eq %v", "O'Brien"), "lastname eq 'O''Brien'"},
		{Filterf("lastname eq %s or lastname eq %q", "x' or 1 eq 1 or 'a", "b"), "lastname eq 'x'' or 1 eq 1 or ''a' or lastname eq 'b'"},
		{Filterf("_parentcustomerid_value eq %v", idA), "_parentcustomerid_value eq " + idA.String()},
		{Filterf("createdon ge %v and revenue gt %d and donotemail eq %t", since, 1000, false), "createdon ge 2024-05-01T19:00:00Z and revenue gt 1000 and donotemail eq false"},
		{Filterf("contains(name,%v) and x eq %v", "100%", nil), "contains(name,'100%') and x eq null"},
		{Filterf("50%% of %v", 2), "50% of 2"},
		{Filterf("a eq %v", struct{}{}), "a eq %!(dataverse:BADTYPE struct {})"},
		{Filterf("a eq %v and b eq %v", 1), "a eq 1 and b eq %!(dataverse:MISSING)"},
		{Filterf("a eq %v", 1, "x'y"), "a eq 1%!(dataverse:EXTRA string)"},
		{Filterf("a eq %"), "a eq %!(dataverse:NOVERB)"},
		{Filterf("a eq %1", 1), "a eq %!(dataverse:BADVERB)%!(dataverse:EXTRA int)"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got  %s\nwant %s", tt.got, tt.want)
		}
	}
}

func TestFilterBuilder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		e    Expr
		want string
	}{
		{Eq("lastname", "O'Brien"), "lastname eq 'O''Brien'"},
		{Ne("primarycontactid/fullname", nil), "primarycontactid/fullname ne null"},
		{And(Eq("a", 1), Or(Eq("b", 2), Eq("c", 3)), Gt("d", 4.5)), "a eq 1 and (b eq 2 or c eq 3) and d gt 4.5"},
		{Or(And(Eq("a", 1), Eq("b", 2)), Lt("c", 0)), "a eq 1 and b eq 2 or c lt 0"},
		{Not(Contains("name", "it's")), "not contains(name,'it''s')"},
		{Not(Or(StartsWith("name", "a"), EndsWith("name", "z"))), "not (startswith(name,'a') or endswith(name,'z'))"},
		{In("lastname", "O'Brian", "OBrian"), `Microsoft.Dynamics.CRM.In(PropertyName='lastname',PropertyValues=["O'Brian","OBrian"])`},
		{NotIn("statuscode", 1, 2), `Microsoft.Dynamics.CRM.NotIn(PropertyName='statuscode',PropertyValues=["1","2"])`},
		{Any("Account_Tasks", "t", Eq("t/statecode", 1)), "Account_Tasks/any(t:t/statecode eq 1)"},
		{Any("Account_Tasks", "", Expr{}), "Account_Tasks/any()"},
		{All("Account_Tasks", "t", Le("t/prioritycode", 2)), "Account_Tasks/all(t:t/prioritycode le 2)"},
		{And(RawExpr("a eq 1 or b eq 2"), Eq("c", idA)), "(a eq 1 or b eq 2) and c eq " + idA.String()},
		{Ge("modifiedon", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)), "modifiedon ge 2024-01-01T00:00:00Z"},
	}
	for _, tt := range tests {
		if tt.e.Err() != nil {
			t.Errorf("%q: %v", tt.want, tt.e.Err())
		}
		if got := tt.e.String(); got != tt.want {
			t.Errorf("got  %s\nwant %s", got, tt.want)
		}
	}
}

func TestFilterBuilderRejectsBadInput(t *testing.T) {
	t.Parallel()
	for name, e := range map[string]Expr{
		"property with space":   Eq("name eq 'x' or name", "y"),
		"property with quote":   Contains("na'me", "x"),
		"unsupported value":     Eq("a", []byte("x")),
		"empty and":             And(),
		"bad operand":           And(Eq("a", 1), Eq("b c", 2)),
		"in without values":     In("a"),
		"all without condition": All("x", "t", Expr{}),
		"not of bad":            Not(Eq("", 1)),
	} {
		if e.Err() == nil {
			t.Errorf("%s: no error (%s)", name, e)
		}
		if !strings.HasPrefix(e.String(), badMarker) {
			t.Errorf("%s: String() = %q, want a marker", name, e)
		}
		q := Query{Filter: e.String()}
		if _, err := q.encode(); err == nil {
			t.Errorf("%s: a query with the invalid filter was encoded", name)
		}
	}
}

// TestFilterOnTheWire checks the whole path: a value with every character
// that matters in a URL reaches the server exactly as written.
func TestFilterOnTheWire(t *testing.T) {
	t.Parallel()
	value := "O'Brien / A+B & C #1? 100% Zoë 東京; x=y"
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"value":[]}`) }, nil)
	if _, err := f.client.List(context.Background(), "contacts", &ListOptions{Query: Query{Filter: Eq("lastname", value).String()}}); err != nil {
		t.Fatal(err)
	}
	raw := f.only().RawQuery
	for _, c := range []string{"+", "&l", "#", "?", ";", " ", "/", "ë"} {
		if strings.Contains(strings.TrimPrefix(raw, "$filter="), c) {
			t.Errorf("raw query %q contains unencoded %q", raw, c)
		}
	}
	v, err := url.ParseQuery(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := v.Get("$filter"), "lastname eq 'O''Brien / A+B & C #1? 100% Zoë 東京; x=y'"; got != want {
		t.Errorf("server read $filter = %q, want %q", got, want)
	}
}
