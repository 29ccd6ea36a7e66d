package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// roundTripTables are the custom tables of emulator/testdata/projects.schema.yaml.
var roundTripTables = []string{"new_project", "new_milestone"}

// startWithSessionFactory starts an emulator and returns a Factory whose Session talks to it.
func startWithSessionFactory(t *testing.T, opts *emulator.Options) (*emulatortest.Env, *Factory, *bytes.Buffer, *bytes.Buffer) {
	t.Helper()
	env := emulatortest.New(t, opts)
	client, err := dataverse.NewClient(env.OrgURL, env.Credential, &dataverse.ClientOptions{ClientOptions: env.ClientOptions})
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr := &bytes.Buffer{}, &bytes.Buffer{}
	f := &Factory{
		IOStreams:    &IOStreams{In: strings.NewReader(""), Out: stdout, ErrOut: stderr},
		OutputFormat: func() string { return outputJSON },
		Session:      func() (*session, error) { return &session{client: client}, nil },
	}
	return env, f, stdout, stderr
}

// webAPIGet answers a GET on the emulator's Web API as raw JSON (or XML), failing on non-200.
func webAPIGet(t *testing.T, env *emulatortest.Env, path string) []byte {
	t.Helper()
	tok, err := env.Credential.GetToken(context.Background(), scopeOf(env.OrgURL))
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, env.OrgURL+"/api/data/v9.2/"+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok.Token)
	resp, err := env.Emulator.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, resp.StatusCode, body)
	}
	return body
}

// The round trip: emulator A runs a scenario with custom tables, choices, keys and relationships;
// `d365 metadata pull` reads them from A into a file; emulator B starts with --schema of that
// file. B describes those tables exactly as A does, in $metadata and in EntityDefinitions.
func TestMetadataPullRoundTrip(t *testing.T) {
	t.Parallel()
	sc, err := emulator.LoadScenario("../../emulator/testdata/roundtrip.scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	envA, f, _, stderr := startWithSessionFactory(t, &emulator.Options{Scenario: sc})
	out := filepath.Join(t.TempDir(), "pulled.yaml")
	if err := executeCmd(newCmdMetadataPull(f, nil), "metadata", "--tables", strings.Join(roundTripTables, ","), "--out", out); err != nil {
		t.Fatalf("pull: %v\n%s", err, stderr)
	}
	if !strings.Contains(stderr.String(), "pulled 2 table(s)") {
		t.Errorf("report: %s", stderr)
	}
	pulled, err := emulator.LoadSchema(out)
	if err != nil {
		raw, _ := os.ReadFile(out)
		t.Fatalf("the pulled file does not load: %v\n%s", err, raw)
	}
	envB := emulatortest.New(t, &emulator.Options{Schema: pulled})
	// B takes rows in the pulled tables with the same rules: the key, the choices.
	webAPIGet(t, envB, "new_projects?$select=new_name")

	for _, table := range roundTripTables {
		for _, path := range []string{
			"EntityDefinitions(LogicalName='" + table + "')",
			"EntityDefinitions(LogicalName='" + table + "')?$expand=Attributes",
			"EntityDefinitions(LogicalName='" + table + "')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$expand=OptionSet,GlobalOptionSet",
			"EntityDefinitions(LogicalName='" + table + "')/Attributes/Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata?$expand=OptionSet",
			"EntityDefinitions(LogicalName='" + table + "')/Attributes/Microsoft.Dynamics.CRM.StateAttributeMetadata?$expand=OptionSet",
			"EntityDefinitions(LogicalName='" + table + "')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$expand=OptionSet",
			"EntityDefinitions(LogicalName='" + table + "')/Attributes/Microsoft.Dynamics.CRM.BooleanAttributeMetadata?$expand=OptionSet",
			"EntityDefinitions(LogicalName='" + table + "')/Keys",
			"EntityDefinitions(LogicalName='" + table + "')/OneToManyRelationships",
			"EntityDefinitions(LogicalName='" + table + "')/ManyToOneRelationships",
			"EntityDefinitions(LogicalName='" + table + "')/ManyToManyRelationships",
		} {
			a := decodeJSON(t, bytes.ReplaceAll(webAPIGet(t, envA, path), []byte(envA.OrgURL), []byte("{org}")))
			b := decodeJSON(t, bytes.ReplaceAll(webAPIGet(t, envB, path), []byte(envB.OrgURL), []byte("{org}")))
			if diff := cmp.Diff(a, b); diff != "" {
				t.Errorf("GET %s differs between A and B (-A +B):\n%s", path, diff)
			}
		}
	}
	for _, path := range []string{"GlobalOptionSetDefinitions(Name='new_priority')", "RelationshipDefinitions(SchemaName='new_project_contact')"} {
		a := decodeJSON(t, bytes.ReplaceAll(webAPIGet(t, envA, path), []byte(envA.OrgURL), []byte("{org}")))
		b := decodeJSON(t, bytes.ReplaceAll(webAPIGet(t, envB, path), []byte(envB.OrgURL), []byte("{org}")))
		if diff := cmp.Diff(a, b); diff != "" {
			t.Errorf("GET %s differs between A and B (-A +B):\n%s", path, diff)
		}
	}
	metaA, metaB := string(webAPIGet(t, envA, "$metadata")), string(webAPIGet(t, envB, "$metadata"))
	for _, table := range roundTripTables {
		a, b := csdlEntityType(metaA, table), csdlEntityType(metaB, table)
		if a == "" {
			t.Fatalf("$metadata of A has no EntityType %s", table)
		}
		if a != b {
			t.Errorf("$metadata EntityType %s differs:\nA: %s\nB: %s", table, a, b)
		}
	}
}

func decodeJSON(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("%v: %s", err, data)
	}
	return v
}

// csdlEntityType is the EntityType element of a table in a CSDL document.
func csdlEntityType(doc, table string) string {
	re := regexp.MustCompile(`(?s)<EntityType Name="` + regexp.QuoteMeta(table) + `".*?</EntityType>`)
	return re.FindString(doc)
}

func scopeOf(orgURL string) policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: []string{orgURL + "/.default"}}
}
