package emulator_test

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator"
)

// Options.Schema adds a schema file's tables to the default seed: the default tenant, app and
// application user still sign in, and the new tables take rows with their choices, keys and
// relationships enforced.
func TestOptionsSchemaAddsTablesToTheDefaultSeed(t *testing.T) {
	t.Parallel()
	def, err := emulator.LoadSchema("testdata/projects.schema.yaml")
	if err != nil {
		t.Fatal(err)
	}
	emu := start(t, &emulator.Options{Schema: def})
	if emu.Credentials().TenantID != emulator.DefaultTenantID {
		t.Errorf("tenant %s, want the default %s", emu.Credentials().TenantID, emulator.DefaultTenantID)
	}
	token := v1Token(t, emu)
	if r := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); r.status != http.StatusOK {
		t.Fatalf("WhoAmI with the default app: %d %s", r.status, r.message)
	}
	if r := callAPI(t, emu, token, http.MethodPost, "accounts", `{"name":"Fabrikam"}`); r.status != http.StatusNoContent {
		t.Fatalf("built-in table: %d %s", r.status, r.message)
	}
	if r := callAPI(t, emu, token, http.MethodPost, "new_projects", `{"new_name":"Apollo","new_code":"AP-1","new_stage":100000001}`); r.status != http.StatusNoContent {
		t.Fatalf("create in the added table: %d %s", r.status, r.message)
	}
	for _, tt := range []struct{ body, code string }{
		{`{"new_name":"Gemini","new_stage":7}`, "0x8004431a"},       // not an option of the choice
		{`{"new_name":"Apollo 2","new_code":"AP-1"}`, "0x80040237"}, // the alternate key
	} {
		if r := callAPI(t, emu, token, http.MethodPost, "new_projects", tt.body); r.code != tt.code {
			t.Errorf("POST %s: %d %s %s, want %s", tt.body, r.status, r.code, r.message, tt.code)
		}
	}
	r := callAPI(t, emu, token, http.MethodGet, "new_projects(new_code='AP-1')?$select=new_name,new_stage", "")
	if r.status != http.StatusOK || r.body["new_name"] != "Apollo" {
		t.Errorf("read by alternate key: %d %v", r.status, r.body)
	}
}

// With a scenario, Options.Schema adds to the scenario's tables, and the scenario's rows may use
// them.
func TestOptionsSchemaWithAScenario(t *testing.T) {
	t.Parallel()
	def, err := emulator.LoadSchema("testdata/projects.schema.yaml")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := emulator.ParseScenario([]byte(`
apps:
  - name: projects-app
    clientId: 7e57c0de-0000-4000-8000-000000000002
    secrets:
      - {id: 7e57c0de-0000-4000-8000-000000000003, value: "pR0~projects~secret~for~the~emulator~only"}
applicationUsers:
  - {app: projects-app, roles: [System Administrator]}
schema:
  tables:
    - logicalName: new_ticket
      primaryNameColumn: new_subject
      columns:
        - {logicalName: new_subject, type: String}
rows:
  new_projects:
    - {new_name: Seeded, new_code: S-1}
  new_tickets:
    - {new_subject: First}
`), "scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	emu := start(t, &emulator.Options{Scenario: sc, Schema: def})
	token := v1Token(t, emu)
	for _, path := range []string{"new_projects?$select=new_name", "new_tickets?$select=new_subject"} {
		r := callAPI(t, emu, token, http.MethodGet, path, "")
		if rows, _ := r.body["value"].([]any); r.status != http.StatusOK || len(rows) != 1 {
			t.Errorf("GET %s: %d %v", path, r.status, r.body)
		}
	}
}

// A schema that does not compile fails New with ErrInvalid naming the problem; a file with an
// unknown field fails LoadSchema naming the file and line.
func TestOptionsSchemaErrors(t *testing.T) {
	t.Parallel()
	_, err := emulator.New(&emulator.Options{Schema: &emulator.SchemaDefinition{Tables: []emulator.TableDefinition{{
		LogicalName: "new_broken",
		Columns:     []emulator.ColumnDefinition{{LogicalName: "new_ref", Type: "Lookup", Targets: []string{"new_missing"}}},
	}}}})
	if !errors.Is(err, emulator.ErrInvalid) || !strings.Contains(err.Error(), "Options.Schema") || !strings.Contains(err.Error(), "new_missing") {
		t.Errorf("New with a broken schema: %v", err)
	}
	_, err = emulator.ParseSchema([]byte("tables:\n  - logicalName: new_x\n    colums: []\n"), "pulled.yaml")
	if !errors.Is(err, emulator.ErrInvalid) || !strings.Contains(err.Error(), "pulled.yaml") || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("ParseSchema with a misspelt field: %v", err)
	}
}
