package emulator_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator"
)

// TestSchemaFileDocExampleLoads starts an emulator with the schema example of the package
// documentation ("# Schema files"), so the format users read there is one that works.
func TestSchemaFileDocExampleLoads(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(doc), "// # Schema files\n")
	if !ok {
		t.Fatal(`doc.go has no "# Schema files" section`)
	}
	var yaml strings.Builder
	yaml.WriteString("apps:\n  - name: doc\n    secrets: [{value: doc-example-secret-value-0123456789}]\n")
	yaml.WriteString("applicationUsers:\n  - {app: doc, roles: [" + emulator.DefaultRoleName + "]}\n")
	yaml.WriteString("schema:\n")
	for line := range strings.SplitSeq(section, "\n") {
		if strings.HasPrefix(line, "// Column types") {
			break
		}
		if code, ok := strings.CutPrefix(line, "//\t"); ok {
			yaml.WriteString("  " + code + "\n")
		}
	}
	sc, err := emulator.ParseScenario([]byte(yaml.String()), "doc.go example")
	if err != nil {
		t.Fatalf("the documented schema example does not parse: %v\n%s", err, yaml.String())
	}
	emu, err := emulator.New(&emulator.Options{Scenario: sc})
	if err != nil {
		t.Fatalf("the documented schema example does not load: %v", err)
	}
	defer emu.Close()
	// The table is served, with its columns.
	creds := emu.Credentials()
	token := mustToken(t, emu, secretCredential(t, emu, creds.TenantID, creds.ClientID, creds.ClientSecret))
	res := callAPI(t, emu, token, "POST", "new_projects", `{"new_name":"Apollo","new_budget":12.5,"new_stage":2}`)
	if res.status != 204 {
		t.Fatalf("create a new_project: %d %v", res.status, res.body)
	}
	res = callAPI(t, emu, token, "GET", "new_projects?$select=new_name,new_stage", "")
	if res.status != 200 || !strings.Contains(fmt.Sprint(res.body["value"]), "Apollo") {
		t.Errorf("read new_projects: %d %v", res.status, res.body)
	}
}

// TestScenarioSchemaErrorsReadAsBefore pins yaml's errors in a scenario's schema section: they
// name the definition types as they always have (schema.TableDefinition, …), although the types
// are now the emulator's own.
func TestScenarioSchemaErrorsReadAsBefore(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ yaml, want string }{
		{"schema:\n  tables:\n    - logicalName: new_x\n      colour: red\n      columns:\n        - {logicalName: new_name, type: String, lenght: 5}\n",
			"emulator: scenario s.yaml: line 4: field colour not found in type schema.TableDefinition; line 6: field lenght not found in type schema.ColumnDefinition"},
		{"schema:\n  tables:\n    - logicalName: new_x\n      columns: abc\n  relationships: 5\n",
			"emulator: scenario s.yaml: line 4: cannot unmarshal !!str `abc` into []schema.ColumnDefinition; line 5: cannot unmarshal !!int `5` into []schema.RelationshipDefinition"},
		{"schema:\n  tables:\n    - logicalName: new_x\n      columns:\n        - {logicalName: new_y, type: Picklist, options: [{value: x, label: A}], formula: 3}\n      keys: [{schemaName: k, columns: new_y}]\n",
			"emulator: scenario s.yaml: line 5: cannot unmarshal !!str `x` into int; line 5: cannot unmarshal !!int `3` into schema.FormulaDefinition; line 6: cannot unmarshal !!str `new_y` into []string"},
	} {
		_, err := emulator.ParseScenario([]byte(tt.yaml), "s.yaml")
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseScenario:\n got %v\nwant %s", err, tt.want)
		}
	}
}
