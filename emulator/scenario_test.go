package emulator_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/d365s2s/d365/emulator"
)

func loadScenario(t *testing.T, path string) *emulator.Scenario {
	t.Helper()
	sc, err := emulator.LoadScenario(path)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func TestSeedArticleScenario(t *testing.T) {
	t.Parallel()
	emu := start(t, &emulator.Options{Scenario: loadScenario(t, "../examples/scenarios/seed-article.yaml")})
	ctx := context.Background()
	creds := emu.Credentials()
	if creds.ClientID != "5ee1a27c-0000-4000-8000-000000000002" || creds.TenantID != "5ee1a27c-0000-4000-8000-000000000001" || emu.TenantID() != creds.TenantID {
		t.Fatalf("credentials = %v, organization tenant %s", creds, emu.TenantID())
	}
	token := mustToken(t, emu, secretCredential(t, emu, "d365in.onmicrosoft.com", creds.ClientID, creds.ClientSecret))
	if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
		t.Errorf("WhoAmI: %d %s", res.status, res.message)
	}
	if res := callAPI(t, emu, token, http.MethodPost, "contacts", `{"firstname":"Seed","lastname":"Article"}`); res.status != http.StatusNoContent {
		t.Errorf("create contact: %d %s", res.status, res.message)
	}
	if n := contactCount(t, emu, token); n != 1 {
		t.Errorf("%d contacts, want the one created", n)
	}
	if res := callAPI(t, emu, token, http.MethodGet, "accounts", ""); res.status != http.StatusForbidden || res.code != "0x80040220" {
		t.Errorf("GET accounts = %d %s, want 403 0x80040220: the role covers contacts only", res.status, res.code)
	}
	// Nothing else: one app, one application user (besides the organization's built-ins).
	apps, err := emu.Apps(ctx, "")
	if err != nil || len(apps) != 1 || apps[0].DisplayName != "seed-article-app" {
		t.Errorf("apps = %+v, %v; want only seed-article-app", apps, err)
	}
	users, err := emu.ApplicationUsers(ctx)
	if err != nil || len(users) != 1 || strings.Join(users[0].Roles, ",") != "Contact integration" {
		t.Errorf("application users = %+v, %v", users, err)
	}
	role, err := emu.Role(ctx, "Contact integration")
	if err != nil || len(role.Privileges) != 3 {
		t.Errorf("role = %+v, %v; want exactly three contact privileges", role, err)
	}
}

// TestBrokenSetupScenario produces the three failures the scenario file documents.
func TestBrokenSetupScenario(t *testing.T) {
	t.Parallel()
	emu := start(t, &emulator.Options{Scenario: loadScenario(t, "../examples/scenarios/broken-setup.yaml")})
	const tenant = "brokensetup.onmicrosoft.com"

	// What the file's comments promise, in order: "#   401 invalid_client, AADSTS7000222 …",
	// "#   403 0x80072560 …", "#   403 0x80040220 …".
	documented := documentedFailures(t, "../examples/scenarios/broken-setup.yaml")
	want := []string{"401 invalid_client AADSTS7000222", "403 0x80072560", "403 0x80040220"}
	if !slices.Equal(documented, want) {
		t.Fatalf("broken-setup.yaml documents %q, want %q (what the emulator answers)", documented, want)
	}

	t.Run("expired secret", func(t *testing.T) {
		creds := emu.Credentials() // the first app: the expired secret
		if creds.ClientID != "b40c3e70-0000-4000-8000-000000000002" {
			t.Fatalf("printed credentials are for %s, want the expired-secret app", creds.ClientID)
		}
		_, err := getToken(emu, secretCredential(t, emu, tenant, creds.ClientID, creds.ClientSecret))
		var afe *azidentity.AuthenticationFailedError
		if !errors.As(err, &afe) || afe.RawResponse == nil || aadstsCode(t, err) != 7000222 {
			t.Fatalf("token with the expired secret: %v, want AADSTS7000222", err)
		}
		if got := fmt.Sprintf("%d invalid_client AADSTS%d", afe.RawResponse.StatusCode, aadstsCode(t, err)); got != documented[0] || !strings.Contains(err.Error(), "invalid_client") {
			t.Errorf("expired secret answered %s (%v), the file documents %s", got, err, documented[0])
		}
	})
	t.Run("no application user", func(t *testing.T) {
		token := mustToken(t, emu, secretCredential(t, emu, tenant, "b40c3e70-0000-4000-8000-000000000004", "bS2~no~application~user~for~the~emulator~only"))
		res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", "")
		if res.status != http.StatusForbidden || res.code != "0x80072560" || res.message != "The user is not a member of the organization." {
			t.Errorf("WhoAmI = %d %s %q, want 403 0x80072560", res.status, res.code, res.message)
		}
	})
	t.Run("role without contact privileges", func(t *testing.T) {
		token := mustToken(t, emu, secretCredential(t, emu, tenant, "b40c3e70-0000-4000-8000-000000000006", "bS3~wrong~role~for~the~emulator~only"))
		if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK {
			t.Errorf("WhoAmI = %d, want 200: the user and its role exist", res.status)
		}
		res := callAPI(t, emu, token, http.MethodGet, "contacts", "")
		if res.status != http.StatusForbidden || res.code != "0x80040220" || !strings.Contains(res.message, "missing prvReadContact privilege") {
			t.Errorf("GET contacts = %d %s %q, want 403 0x80040220 naming prvReadContact", res.status, res.code, res.message)
		}
	})
}

// documentedFailures reads the failures a scenario file's comments promise: lines such as
// "#   401 invalid_client, AADSTS7000222 …" or "#   403 0x80072560 …", as "401 invalid_client
// AADSTS7000222" and "403 0x80072560".
func documentedFailures(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^\s*#\s+(\S+) (?:(\w+), (AADSTS\d+)|(0x[0-9a-f]{8}))\b`)
	var out []string
	for _, m := range line.FindAllStringSubmatch(string(data), -1) {
		if m[4] != "" {
			out = append(out, m[1]+" "+m[4])
		} else {
			out = append(out, m[1]+" "+m[2]+" "+m[3])
		}
	}
	return out
}

func TestScenarioTablesRowsAndLookups(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "tables.yaml"), `
tables:
  - logicalName: new_project
    displayName: Project
    primaryNameColumn: new_name
    columns:
      - {logicalName: new_name, type: String, maxLength: 100}
      - {logicalName: new_budget, type: Money}
      - {logicalName: new_accountid, type: Lookup, targets: [account]}
`)
	writeFile(t, filepath.Join(dir, "scenario.yaml"), `
schema:
  files: [tables.yaml]
rows:
  accounts:
    - {accountid: 0a000000-0000-4000-8000-000000000001, name: Contoso}
  new_projects:
    - {new_name: Apollo, new_budget: "12500.5", new_accountid: "accounts(0a000000-0000-4000-8000-000000000001)"}
  contacts:
    - {firstname: Ada, lastname: Lovelace, parentcustomerid: "/accounts(0a000000-0000-4000-8000-000000000001)", birthdate: 1815-12-10}
apps:
  - name: reader
    clientId: 0a000000-0000-4000-8000-0000000000aa
    secrets: [{value: "scenario-secret-value"}]
applicationUsers:
  - {app: reader, roles: [System Administrator]}
tokenLifetime: 20m
`)
	emu := start(t, &emulator.Options{Scenario: loadScenario(t, filepath.Join(dir, "scenario.yaml"))})
	if emu.TokenLifetime().String() != "20m0s" {
		t.Errorf("token lifetime %v, want the scenario's 20m", emu.TokenLifetime())
	}
	if emu.TenantID() != emulator.DefaultTenantID {
		t.Errorf("organization tenant %s, want the default when the scenario has none", emu.TenantID())
	}
	token := mustToken(t, emu, secretCredential(t, emu, emu.TenantID(), "0a000000-0000-4000-8000-0000000000aa", "scenario-secret-value"))
	res := callAPI(t, emu, token, http.MethodGet, "new_projects?$select=new_name,new_budget,_new_accountid_value", "")
	if res.status != http.StatusOK {
		t.Fatalf("GET new_projects: %d %s", res.status, res.message)
	}
	rows := res.body["value"].([]any)
	p := rows[0].(map[string]any)
	if len(rows) != 1 || p["new_name"] != "Apollo" || p["new_budget"] != 12500.5 || p["_new_accountid_value"] != "0a000000-0000-4000-8000-000000000001" {
		t.Errorf("projects = %v", rows)
	}
	res = callAPI(t, emu, token, http.MethodGet, "contacts?$select=lastname,birthdate,_parentcustomerid_value", "")
	c := res.body["value"].([]any)[0].(map[string]any)
	if c["lastname"] != "Lovelace" || c["_parentcustomerid_value"] != "0a000000-0000-4000-8000-000000000001" {
		t.Errorf("contact = %v", c)
	}
}

// TestScenarioErrorsNameFileLineAndField: every mistake is reported before anything is created,
// with where it is.
func TestScenarioErrorsNameFileLineAndField(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		name, yaml string
		says       []string
	}{
		{"unknown field", "apps:\n  - name: a\n    secret: x\n", []string{"bad.yaml", "line 3", `unknown field "secret" in an app`, "known fields: name, clientId"}},
		{"unknown top-level field", "tenant: x\n", []string{"line 1", `unknown field "tenant" in the scenario`}},
		{"wrong type", "apps:\n  - name: a\n    disabled: maybe\n", []string{"line 3", "maybe"}},
		{"expiry", "apps:\n  - name: a\n    secrets:\n      - value: v\n        expires: next week\n", []string{"line 5", "apps[0].secrets[0].expires", "next week"}},
		{"unknown app", "applicationUsers:\n  - app: ghost\n", []string{"line 2", "applicationUsers[0].app", `"ghost"`}},
		{"unknown role", "apps: [{name: a}]\napplicationUsers:\n  - app: a\n    roles: [Salesperson]\n", []string{"line 4", "applicationUsers[0].roles[0]", "Salesperson"}},
		{"missing certificate file", "apps:\n  - name: a\n    certificates:\n      - file: nowhere.pem\n", []string{"line 4", "apps[0].certificates[0].file", "nowhere.pem"}},
		{"entity set by logical name", "rows:\n  contact:\n    - {lastname: x}\n", []string{"line 2", "rows.contact", "write contacts"}},
		{"unknown column", "rows:\n  contacts:\n    - {lastname: x, shoesize: 42}\n", []string{"line 3", "rows.contacts[0].shoesize", `no column "shoesize"`}},
		{"bad privilege", "roles:\n  - name: r\n    privileges:\n      - prvReadContact\n      - prvReadContacts\n", []string{"line 5", "roles[0].privileges[1]", "did you mean prvReadContact?"}},
		{"bad depth", "roles:\n  - name: r\n    privileges: [\"prvReadContact:everywhere\"]\n", []string{"line 3", "roles[0].privileges[0]", "everywhere"}},
		{"organization tenant", "tenants: [{domain: a.example.com}]\norganization: {tenant: b.example.com}\n", []string{"line 2", "organization.tenant", "b.example.com"}},
		{"two problems", "apps:\n  - clientId: nope\n  - clientId: also-nope\n", []string{"line 2", "line 3", "apps[1].clientId"}},
		{"unknown business unit field", "businessUnits:\n  - name: Sales\n    disable: true\n", []string{"line 3", `unknown field "disable" in a business unit`, "known fields: name, parent, disabled"}},
		{"business unit flag type", "businessUnits:\n  - name: Sales\n    disabled: sometimes\n", []string{"line 3", "sometimes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			sub := t.TempDir()
			path := filepath.Join(sub, "bad.yaml")
			writeFile(t, path, tt.yaml)
			sc, err := emulator.LoadScenario(path)
			if err == nil {
				var emu *emulator.Emulator
				emu, err = emulator.New(&emulator.Options{Scenario: sc, DataDir: filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))})
				if err == nil {
					emu.Close()
					t.Fatal("New succeeded, want a scenario error")
				}
			}
			if !errors.Is(err, emulator.ErrInvalid) {
				t.Errorf("error %v is not ErrInvalid", err)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			// A failed first start leaves no database behind.
			if _, statErr := os.Stat(filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"), "emulator.db")); statErr == nil {
				t.Error("the failed start left emulator.db behind")
			}
		})
	}
}

func TestScenarioAppliedOnFirstStartOnly(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx := context.Background()
	sc := loadScenario(t, "../examples/scenarios/seed-article.yaml")
	first, err := emulator.New(&emulator.Options{DataDir: dir, Scenario: sc})
	if err != nil {
		t.Fatal(err)
	}
	if err := first.SetApplicationUserRoles(ctx, "5ee1a27c-0000-4000-8000-000000000002", nil); err != nil {
		t.Fatal(err)
	}
	first.Close()

	second := start(t, &emulator.Options{DataDir: dir, Scenario: sc})
	user, err := second.ApplicationUser(ctx, "5ee1a27c-0000-4000-8000-000000000002")
	if err != nil {
		t.Fatal(err)
	}
	if len(user.Roles) != 0 {
		t.Errorf("roles after restart = %v: the scenario was applied again over the data directory", user.Roles)
	}
	if second.TenantID() != "5ee1a27c-0000-4000-8000-000000000001" {
		t.Errorf("organization tenant after restart = %s", second.TenantID())
	}
	if err := second.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if user, err = second.ApplicationUser(ctx, "5ee1a27c-0000-4000-8000-000000000002"); err != nil || len(user.Roles) != 1 {
		t.Errorf("after reset: %+v, %v; want the scenario's role back", user, err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestScenarioDisabledBusinessUnits: a business unit declared disabled (with the units under it)
// locks its application users out from the start; Reset returns to the scenario's state.
func TestScenarioDisabledBusinessUnits(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	sc, err := emulator.ParseScenario([]byte(`
businessUnits:
  - name: Sales
  - {name: Sales EMEA, parent: Sales}
  - {name: Archive, disabled: true}
  - {name: Archive 2019, parent: Archive}
apps:
  - {name: sales, clientId: 0b000000-0000-4000-8000-0000000000a1, secrets: [{value: "sales-secret-value"}]}
  - {name: archive, clientId: 0b000000-0000-4000-8000-0000000000a2, secrets: [{value: "archive-secret-value"}]}
applicationUsers:
  - {app: sales, roles: [System Administrator], businessUnit: Sales EMEA}
  - {app: archive, roles: [System Administrator], businessUnit: Archive 2019}
`), "units.yaml")
	if err != nil {
		t.Fatal(err)
	}
	emu := start(t, &emulator.Options{Scenario: sc})
	sales := mustToken(t, emu, secretCredential(t, emu, emu.TenantID(), "0b000000-0000-4000-8000-0000000000a1", "sales-secret-value"))
	archive := mustToken(t, emu, secretCredential(t, emu, emu.TenantID(), "0b000000-0000-4000-8000-0000000000a2", "archive-secret-value"))
	check := func(when string, wantDisabled []string, salesStatus, archiveStatus int) {
		t.Helper()
		if got := disabledUnits(t, emu); !slices.Equal(got, wantDisabled) {
			t.Errorf("%s: disabled business units = %q, want %q", when, got, wantDisabled)
		}
		for _, c := range []struct {
			token, unit string
			want        int
		}{{sales, "Sales EMEA", salesStatus}, {archive, "Archive 2019", archiveStatus}} {
			res := callAPI(t, emu, c.token, http.MethodGet, "WhoAmI", "")
			if res.status != c.want {
				t.Errorf("%s: WhoAmI of the user in %s = %d %s %q, want %d", when, c.unit, res.status, res.code, res.message, c.want)
			}
			if c.want == http.StatusForbidden && (res.code != "0x80040225" || !strings.Contains(res.message, "the business unit '"+c.unit+"'")) {
				t.Errorf("%s: refusal = %s %q, want 0x80040225 naming %s", when, res.code, res.message, c.unit)
			}
		}
	}
	// The unit under Archive was created before Archive was disabled, and is disabled with it.
	check("at the start", []string{"Archive", "Archive 2019"}, http.StatusOK, http.StatusForbidden)

	if err := emu.SetBusinessUnitEnabled(ctx, "Archive", true); err != nil {
		t.Fatal(err)
	}
	if err := emu.SetBusinessUnitEnabled(ctx, "Sales", false); err != nil {
		t.Fatal(err)
	}
	check("after swapping", []string{"Sales", "Sales EMEA"}, http.StatusForbidden, http.StatusOK)

	if err := emu.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	check("after reset", []string{"Archive", "Archive 2019"}, http.StatusOK, http.StatusForbidden)
}
