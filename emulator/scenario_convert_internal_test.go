package emulator

import (
	"reflect"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/d365s2s/d365/emulator/internal/scenario"
)

// TestScenarioTypesMatchTheInternalPackage keeps the exported scenario types, which go doc
// shows, field for field the scenario package's, which decode and act on them: a field added to
// one side only would be dropped at the boundary.
func TestScenarioTypesMatchTheInternalPackage(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ own, theirs reflect.Type }{
		{reflect.TypeFor[Scenario](), reflect.TypeFor[scenario.Scenario]()},
		{reflect.TypeFor[ScenarioOrganization](), reflect.TypeFor[scenario.Organization]()},
		{reflect.TypeFor[ScenarioTenant](), reflect.TypeFor[scenario.Tenant]()},
		{reflect.TypeFor[ScenarioApp](), reflect.TypeFor[scenario.App]()},
		{reflect.TypeFor[ScenarioSecret](), reflect.TypeFor[scenario.Secret]()},
		{reflect.TypeFor[ScenarioCertificate](), reflect.TypeFor[scenario.Certificate]()},
		{reflect.TypeFor[ScenarioBusinessUnit](), reflect.TypeFor[scenario.BusinessUnit]()},
		{reflect.TypeFor[ScenarioRole](), reflect.TypeFor[scenario.Role]()},
		{reflect.TypeFor[ScenarioApplicationUser](), reflect.TypeFor[scenario.ApplicationUser]()},
		{reflect.TypeFor[ScenarioSchema](), reflect.TypeFor[scenario.Schema]()},
		{reflect.TypeFor[ScenarioRowSet](), reflect.TypeFor[scenario.RowSet]()},
	} {
		if own, theirs := yamlTags(tt.own), yamlTags(tt.theirs); !slices.Equal(own, theirs) {
			t.Errorf("%s has YAML fields %q, %s has %q", tt.own, own, tt.theirs, theirs)
		}
	}
}

// yamlTags lists the YAML tags of a struct's exported fields that YAML reads.
func yamlTags(t reflect.Type) []string {
	var out []string
	for f := range t.Fields() {
		if tag := f.Tag.Get("yaml"); f.IsExported() && tag != "-" {
			out = append(out, tag)
		}
	}
	return out
}

// TestScenarioConvertsBothWays reads a scenario that sets every field with the exported types
// (ParseScenario) and with the scenario package's: converted at the boundary, the two agree, so
// nothing a file says is lost on the way to the plan.
func TestScenarioConvertsBothWays(t *testing.T) {
	t.Parallel()
	const file = `
organization: {tenant: contoso.onmicrosoft.com}
tenants:
  - {id: 72f988bf-86f1-41af-91ab-2d7cd011db47, domain: contoso.onmicrosoft.com, displayName: Contoso}
apps:
  - name: contact-sync
    clientId: 11111111-1111-4111-8111-111111111111
    objectId: 22222222-2222-4222-8222-222222222222
    tenant: contoso.onmicrosoft.com
    disabled: true
    secrets:
      - {value: "s3cret~value~for~tests", id: 33333333-3333-4333-8333-333333333333, description: CI, expires: 720h}
    certificates:
      - {file: certs/app.pem}
      - {pem: "-----BEGIN CERTIFICATE-----"}
businessUnits:
  - {name: Sales, parent: "", disabled: true}
roles:
  - {name: Contact integration, privileges: [prvReadContact, "prvWriteContact:user"]}
applicationUsers:
  - {app: contact-sync, roles: [Contact integration], businessUnit: Sales, fullName: Contact sync, disabled: true}
schema:
  files: [tables.yaml]
  tables:
    - logicalName: new_project
      columns:
        - {logicalName: new_name, type: String, maxLength: 100}
        - {logicalName: new_stage, type: Picklist, options: [{value: 1, label: A, color: "#112233", description: First}]}
        - {logicalName: new_total, type: Decimal, formula: {kind: sum, columns: [new_a, new_b]}}
      keys: [{schemaName: new_key, columns: [new_name]}]
  relationships:
    - {schemaName: new_project_account, type: OneToMany, referencedEntity: account, referencingEntity: new_project, referencingAttribute: new_accountid}
  optionSets:
    - {name: new_priority, displayName: Priority, description: Urgency, options: [{value: 7, label: High, color: "#ff0000"}]}
rows:
  accounts:
    - {accountid: 44444444-4444-4444-8444-444444444444, name: Contoso}
  contacts:
    - {firstname: Ada, parentcustomerid: "accounts(44444444-4444-4444-8444-444444444444)"}
tokenLifetime: 1h
limits: {preset: strict, dopHint: 4}
faults:
  - id: contacts-flaky
    description: flaky
    match: {table: contacts, methods: [GET], pathPrefix: /api, tenantId: contoso.onmicrosoft.com, appId: 11111111-1111-4111-8111-111111111111}
    trigger: {nth: 2, count: 3, probability: 0.5}
    action: {kind: throttle, retryAfter: 2}
faultSeed: 42
`
	own, err := ParseScenario([]byte(file), "all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := scenario.Parse([]byte(file), "all.yaml")
	if err != nil {
		t.Fatal(err)
	}
	opts := cmp.Options{
		cmpopts.EquateEmpty(),
		cmp.Exporter(func(reflect.Type) bool { return true }),
	}
	if diff := cmp.Diff(theirs, own.toInternal(), opts); diff != "" {
		t.Errorf("ParseScenario then toInternal differs from the scenario package's reading (-theirs +ours):\n%s", diff)
	}
	if diff := cmp.Diff(own, scenarioFrom(own.toInternal()), cmp.Exporter(func(reflect.Type) bool { return true })); diff != "" {
		t.Errorf("a round trip through the scenario package changes the scenario (-before +after):\n%s", diff)
	}
	// The file sets every field: none of the exported ones is left at its zero value.
	if sc := own; sc.Limits == nil || len(sc.Faults) != 1 || sc.FaultSeed != 42 || len(sc.Schema.Relationships) != 1 ||
		sc.Schema.Tables[0].Columns[2].Formula == nil || len(sc.Rows) != 2 {
		t.Fatalf("the test scenario does not set every section: %+v", sc)
	}
}
