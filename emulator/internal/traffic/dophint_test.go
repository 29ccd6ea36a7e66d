package traffic

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Every Web API response carries x-ms-dop-hint with the configured value: successes, limit
// refusals (here the request limit) and unauthenticated requests alike; a hint of 0 sends no
// header, and SetLimits changes the value at once. Token requests never carry it.
func TestDOPHintOnEveryWebAPIResponse(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{limits: &Limits{Requests: 1, Window: DefaultWindow, DOPHint: 7}})
	get := func(path, token string) result {
		t.Helper()
		r, err := e.do(context.Background(), http.MethodGet, path, token, nil, nil)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return r
	}
	for _, tc := range []struct {
		name, path, token string
		wantStatus        int
		want              string
	}{
		{"admitted", "/api/data/v9.2/contacts", tokenA, 200, "7"},
		{"refused by the request limit", "/api/data/v9.2/contacts", tokenA, 429, "7"},
		{"another app, admitted", "/api/data/v9.2/contacts", tokenB, 200, "7"},
		{"no token: 401", "/api/data/v9.2/contacts", "", 401, "7"},
		{"not the Web API", "/" + tenantA + "/oauth2/v2.0/token", "", 401, ""},
	} {
		r := get(tc.path, tc.token)
		if r.status != tc.wantStatus {
			t.Errorf("%s: status %d, want %d", tc.name, r.status, tc.wantStatus)
		}
		if got := r.header.Get("x-ms-dop-hint"); got != tc.want || len(r.header.Values("x-ms-dop-hint")) > 1 {
			t.Errorf("%s: x-ms-dop-hint %q, want %q", tc.name, r.header.Values("x-ms-dop-hint"), tc.want)
		}
	}
	for _, l := range []Limits{{DOPHint: 0}, LimitsOff()} {
		if err := e.c.SetLimits(l); err != nil {
			t.Fatal(err)
		}
		if r := get("/api/data/v9.2/contacts", tokenA); r.header.Get("x-ms-dop-hint") != "" {
			t.Errorf("limits %v: x-ms-dop-hint %q, want none", l, r.header.Get("x-ms-dop-hint"))
		}
	}
	if err := e.c.SetLimits(Limits{DOPHint: 30}); err != nil {
		t.Fatal(err)
	}
	if r := get("/api/data/v9.2/contacts", tokenA); r.header.Get("x-ms-dop-hint") != "30" {
		t.Errorf("after SetLimits(DOPHint 30) with the limits off: x-ms-dop-hint %q, want 30", r.header.Get("x-ms-dop-hint"))
	}
}

// The presets advise a parallelism below their concurrency limit (a client that follows the hint
// is not refused for concurrency), and the default is the named constant.
func TestDOPHintPresets(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"default", "strict"} {
		l, err := LimitsPreset(name)
		if err != nil {
			t.Fatal(err)
		}
		if l.DOPHint <= 0 || l.DOPHint > l.Concurrent {
			t.Errorf("preset %s: DOPHint %d, want 1..Concurrent (%d)", name, l.DOPHint, l.Concurrent)
		}
	}
	if d := LimitsDefault(); d.DOPHint != DefaultDOPHint || !strings.Contains(d.String(), "x-ms-dop-hint 16") {
		t.Errorf("LimitsDefault = %+v (%s)", d, d)
	}
}

// A scenario's limits set the hint in YAML as in JSON: a preset keeps its own unless dopHint is
// given, a bad value names the line and the field, and the hint survives a YAML round trip.
func TestDOPHintInYAML(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		doc  string
		want int
	}{
		{"limits: {preset: default}\n", DefaultDOPHint},
		{"limits: {preset: strict, dopHint: 2}\n", 2},
		{"limits: {requests: 10, window: 1s}\n", 0},
		{"limits: {requests: 10, window: 1s, dopHint: 12}\n", 12},
	} {
		var sc struct {
			Limits Limits `yaml:"limits"`
		}
		if err := yaml.Unmarshal([]byte(tc.doc), &sc); err != nil {
			t.Errorf("%q: %v", tc.doc, err)
			continue
		}
		if sc.Limits.DOPHint != tc.want {
			t.Errorf("%q: DOPHint %d, want %d", tc.doc, sc.Limits.DOPHint, tc.want)
		}
		out, err := yaml.Marshal(sc)
		if err != nil {
			t.Fatal(err)
		}
		var again struct {
			Limits Limits `yaml:"limits"`
		}
		if err := yaml.Unmarshal(out, &again); err != nil || again.Limits != sc.Limits {
			t.Errorf("round trip of %q through\n%s: %+v, %v", tc.doc, out, again.Limits, err)
		}
	}
	var bad struct {
		Limits Limits `yaml:"limits"`
	}
	err := yaml.Unmarshal([]byte("limits:\n  dopHint: -3\n"), &bad)
	if err == nil || !strings.Contains(err.Error(), "line 2: limits: dopHint: -3 is negative") {
		t.Errorf("negative dopHint: %v", err)
	}
}
