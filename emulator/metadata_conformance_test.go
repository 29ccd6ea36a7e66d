package emulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// The metadata conformance tests check the emulator's EntityDefinitions,
// RelationshipDefinitions, GlobalOptionSetDefinitions and $metadata
// against Microsoft's documentation: "Query table definitions using the
// Web API" (query-metadata-web-api), the Web API metadata operations
// sample (its full JSON responses), "Use change tracking to synchronize
// data" (ChangeTrackingEnabled and the $metadata annotation) and the
// EntityMetadata / AttributeMetadata reference pages. The expected shapes
// below come from those pages, not from the emulator's own client.

// metaEnv is an emulator started with testdata/metadata/scenario.yaml.
type metaEnv struct {
	env   *emulatortest.Env
	token string
}

func newMetaEnv(t *testing.T) *metaEnv {
	t.Helper()
	sc, err := emulator.LoadScenario("testdata/metadata/scenario.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := emulatortest.New(t, &emulator.Options{Scenario: sc})
	tok, err := env.Credential.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{env.OrgURL + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	return &metaEnv{env: env, token: tok.Token}
}

// metaAnswer is a response: status, headers, raw body, and the JSON body
// decoded with numbers kept as json.Number.
type metaAnswer struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (a metaAnswer) errorCode() (code, message string) {
	e, _ := a.body["error"].(map[string]any)
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return code, message
}

func (m *metaEnv) get(t *testing.T, path string) metaAnswer {
	t.Helper()
	return m.getWith(t, path, nil)
}

// getWith sends GET with extra request headers.
func (m *metaEnv) getWith(t *testing.T, path string, header http.Header) metaAnswer {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, m.env.OrgURL+"/api/data/v9.2/"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+m.token)
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	req.Header.Set("Accept", "application/json")
	resp, err := m.env.Emulator.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := metaAnswer{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber()
		if err := dec.Decode(&a.body); err != nil {
			t.Fatalf("GET %s: %v in %s", path, err, raw)
		}
	}
	return a
}

// jsonKind names the JSON kind of a decoded value.
func jsonKind(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case json.Number:
		if strings.ContainsAny(x.String(), ".eE") {
			return "number"
		}
		return "integer"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return "?"
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }
func arr(v any) []any          { a, _ := v.([]any); return a }

// userLabel returns Label/UserLocalizedLabel/Label.
func userLabel(v any) any { return obj(obj(v)["UserLocalizedLabel"])["Label"] }

// names lists the given member of each object of a collection.
func names(v any, member string) []string {
	var out []string
	for _, x := range arr(v) {
		s, _ := obj(x)[member].(string)
		out = append(out, s)
	}
	return out
}

func TestMetadataConformance(t *testing.T) {
	t.Parallel()
	m := newMetaEnv(t)
	base := m.env.OrgURL + "/api/data/v9.2/"

	// Each case is one documented request; check inspects the answer.
	tests := []struct {
		name, path string
		status     int
		code, says string // for errors: the code and a part of the message
		check      func(t *testing.T, a metaAnswer)
	}{
		{name: "one table with $select (query-metadata-web-api)", status: 200,
			path: "EntityDefinitions(LogicalName='account')?$select=DisplayName,IsKnowledgeManagementEnabled,EntitySetName",
			check: func(t *testing.T, a metaAnswer) {
				if a.body["@odata.context"] != base+"$metadata#EntityDefinitions(DisplayName,IsKnowledgeManagementEnabled,EntitySetName)/$entity" {
					t.Errorf("context %v", a.body["@odata.context"])
				}
				// The selected properties and MetadataId, "always returned".
				if len(a.body) != 5 || a.body["EntitySetName"] != "accounts" || jsonKind(a.body["IsKnowledgeManagementEnabled"]) != "bool" {
					t.Errorf("body %s", a.raw)
				}
				if a.body["MetadataId"] != "70816501-edb9-4740-a16c-6a5efbc05d84" {
					t.Errorf("account MetadataId %v, want the one every environment has", a.body["MetadataId"])
				}
				label := obj(a.body["DisplayName"])
				loc := obj(arr(label["LocalizedLabels"])[0])
				if userLabel(label) != "Account" || loc["Label"] != "Account" || loc["LanguageCode"] != json.Number("1033") ||
					jsonKind(loc["IsManaged"]) != "bool" || jsonKind(loc["MetadataId"]) != "string" {
					t.Errorf("DisplayName %v", label)
				}
			}},
		{name: "tables with change tracking (use-change-tracking)", status: 200,
			path: "EntityDefinitions?$select=SchemaName&$filter=ChangeTrackingEnabled eq true",
			check: func(t *testing.T, a metaAnswer) {
				got := names(a.body["value"], "SchemaName")
				if !slices.Contains(got, "new_Project") || !slices.Contains(got, "Account") || slices.Contains(got, "Task") {
					t.Errorf("tables with change tracking %v: new_Project (changeTracking: true), account and contact, not task", got)
				}
			}},
		{name: "system tables with change tracking", status: 200,
			path: "EntityDefinitions?$filter=ChangeTrackingEnabled eq true and IsCustomEntity eq false&$select=LogicalName",
			check: func(t *testing.T, a metaAnswer) {
				got := names(a.body["value"], "LogicalName")
				if slices.Contains(got, "new_project") || !slices.Contains(got, "contact") {
					t.Errorf("system tables with change tracking %v", got)
				}
			}},
		{name: "enum literal filter", status: 200,
			path: "EntityDefinitions?$select=LogicalName,OwnershipType&$filter=OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'OrganizationOwned'",
			check: func(t *testing.T, a metaAnswer) {
				got := names(a.body["value"], "LogicalName")
				if !slices.Contains(got, "transactioncurrency") || slices.Contains(got, "account") {
					t.Errorf("organization-owned tables %v", got)
				}
			}},
		{name: "managed property filter", status: 200,
			path: "EntityDefinitions?$select=LogicalName&$filter=IsCustomizable/Value eq true and IsPrivate eq false and IsIntersect eq false and IsLogicalEntity eq false and IsValidForAdvancedFind eq true and TableType eq 'Standard'",
			check: func(t *testing.T, a metaAnswer) {
				got := names(a.body["value"], "LogicalName")
				if !slices.Contains(got, "account") || !slices.Contains(got, "new_project") || slices.Contains(got, "new_project_contact") {
					t.Errorf("tables %v", got)
				}
			}},
		{name: "intersect tables", status: 200,
			path: "EntityDefinitions?$select=LogicalName,IsIntersect&$filter=IsIntersect eq true",
			check: func(t *testing.T, a metaAnswer) {
				if !slices.Contains(names(a.body["value"], "LogicalName"), "new_project_contact") {
					t.Errorf("intersect tables %s", a.raw)
				}
			}},
		{name: "activity, custom and managed flags", status: 200,
			path: "EntityDefinitions?$select=LogicalName,IsActivity,IsCustomEntity,IsManaged,ObjectTypeCode,OwnershipType,IsCustomizable&$filter=IsActivity eq true or IsCustomEntity eq true",
			check: func(t *testing.T, a metaAnswer) {
				byName := map[string]map[string]any{}
				for _, v := range arr(a.body["value"]) {
					byName[obj(v)["LogicalName"].(string)] = obj(v)
				}
				task, project := byName["task"], byName["new_project"]
				if task == nil || task["IsActivity"] != true || task["IsManaged"] != true || task["IsCustomEntity"] != false {
					t.Errorf("task %v", task)
				}
				if project == nil || project["IsCustomEntity"] != true || project["IsManaged"] != false || project["OwnershipType"] != "UserOwned" {
					t.Errorf("new_project %v", project)
				}
				if code, _ := project["ObjectTypeCode"].(json.Number).Int64(); code < 10000 {
					t.Errorf("custom ObjectTypeCode %v, want 10000 or more", project["ObjectTypeCode"])
				}
				bmp := obj(project["IsCustomizable"])
				if bmp["Value"] != true || jsonKind(bmp["CanBeChanged"]) != "bool" || bmp["ManagedPropertyLogicalName"] != "iscustomizable" {
					t.Errorf("IsCustomizable %v", bmp)
				}
			}},
		{name: "the table's own names", status: 200,
			path: "EntityDefinitions(LogicalName='new_project')?$select=LogicalName,SchemaName,EntitySetName,LogicalCollectionName,PrimaryIdAttribute,PrimaryNameAttribute,PrimaryImageAttribute,DisplayCollectionName,Description,ChangeTrackingEnabled,HasChanged",
			check: func(t *testing.T, a metaAnswer) {
				want := map[string]any{"LogicalName": "new_project", "SchemaName": "new_Project", "EntitySetName": "new_projects",
					"LogicalCollectionName": "new_projects", "PrimaryIdAttribute": "new_projectid", "PrimaryNameAttribute": "new_name",
					"ChangeTrackingEnabled": true, "PrimaryImageAttribute": "new_logo"}
				for k, v := range want {
					if a.body[k] != v {
						t.Errorf("%s = %v, want %v", k, a.body[k], v)
					}
				}
				if v, ok := a.body["HasChanged"]; !ok || v != nil {
					t.Errorf("HasChanged = %v, want null outside RetrieveMetadataChanges", v)
				}
				if userLabel(a.body["DisplayCollectionName"]) != "Projects" || userLabel(a.body["Description"]) != "A piece of work for a customer" {
					t.Errorf("labels %s", a.raw)
				}
			}},
		{name: "expand keys and many-to-one relationships", status: 200,
			path: "EntityDefinitions(LogicalName='new_project')?$select=LogicalName&$expand=Keys,ManyToOneRelationships($filter=ReferencedEntity eq 'account'),ManyToManyRelationships",
			check: func(t *testing.T, a metaAnswer) {
				keys := arr(a.body["Keys"])
				if len(keys) != 1 {
					t.Fatalf("Keys %v", a.body["Keys"])
				}
				k := obj(keys[0])
				if k["SchemaName"] != "new_project_code" || !slices.Equal(names([]any{k}, "SchemaName"), []string{"new_project_code"}) ||
					jsonKind(k["KeyAttributes"]) != "array" || arr(k["KeyAttributes"])[0] != "new_code" || k["EntityKeyIndexStatus"] != "Active" {
					t.Errorf("key %v", k)
				}
				rels := arr(a.body["ManyToOneRelationships"])
				if got := names(a.body["ManyToOneRelationships"], "SchemaName"); !slices.Equal(got, []string{"new_account_new_project"}) {
					t.Fatalf("ManyToOneRelationships %v", got)
				}
				r := obj(rels[0])
				if r["ReferencedAttribute"] != "accountid" || r["ReferencingAttribute"] != "new_accountid" || r["RelationshipType"] != "OneToManyRelationship" ||
					obj(r["CascadeConfiguration"])["Delete"] != "RemoveLink" || obj(r["AssociatedMenuConfiguration"])["Behavior"] != "UseCollectionName" {
					t.Errorf("relationship %v", r)
				}
				if _, typed := r["@odata.type"]; typed {
					t.Errorf("a OneToManyRelationshipMetadata in ManyToOneRelationships needs no @odata.type: %v", r)
				}
				nn := arr(a.body["ManyToManyRelationships"])
				if len(nn) != 1 || obj(nn[0])["IntersectEntityName"] != "new_project_contact" || obj(nn[0])["Entity2LogicalName"] != "contact" {
					t.Errorf("ManyToManyRelationships %v", nn)
				}
			}},
		{name: "expand attributes with nested options", status: 200,
			path: "EntityDefinitions(LogicalName='new_project')?$select=LogicalName&$expand=Attributes($select=LogicalName;$filter=AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist')",
			check: func(t *testing.T, a metaAnswer) {
				got := names(a.body["Attributes"], "LogicalName")
				if !slices.Equal(got, []string{"new_stage", "new_priority"}) {
					t.Errorf("picklists %v", got)
				}
				for _, at := range arr(a.body["Attributes"]) {
					if obj(at)["@odata.type"] != "#Microsoft.Dynamics.CRM.PicklistAttributeMetadata" || len(obj(at)) != 3 {
						t.Errorf("attribute %v", at)
					}
				}
			}},
		{name: "collection cast with both option sets (query-metadata-web-api)", status: 200,
			path: "EntityDefinitions(LogicalName='new_project')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet,GlobalOptionSet",
			check: func(t *testing.T, a metaAnswer) {
				if a.body["@odata.context"] != base+"$metadata#EntityDefinitions('new_project')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata(LogicalName,OptionSet(),GlobalOptionSet())" {
					t.Errorf("context %v", a.body["@odata.context"])
				}
				byName := map[string]map[string]any{}
				for _, v := range arr(a.body["value"]) {
					byName[obj(v)["LogicalName"].(string)] = obj(v)
				}
				if len(byName) != 2 {
					t.Fatalf("picklists %s", a.raw)
				}
				local := byName["new_stage"]
				set := obj(local["OptionSet"])
				if local["GlobalOptionSet"] != nil || set["IsGlobal"] != false || set["Name"] != "new_project_new_stage" || set["OptionSetType"] != "Picklist" {
					t.Errorf("local choice %v", local)
				}
				opts := arr(set["Options"])
				first := obj(opts[0])
				if len(opts) != 2 || first["Value"] != json.Number("1") || first["Color"] != "#0000ff" || userLabel(first["Label"]) != "Draft" ||
					obj(opts[1])["Color"] != nil || first["MetadataId"] != nil || jsonKind(first["ParentValues"]) != "array" {
					t.Errorf("options %v", opts)
				}
				global := byName["new_priority"]
				gs := obj(global["GlobalOptionSet"])
				if global["OptionSet"] != nil || gs["IsGlobal"] != true || gs["Name"] != "new_priority" || userLabel(gs["DisplayName"]) != "Priority" {
					t.Errorf("global choice %v", global)
				}
				high := obj(arr(gs["Options"])[1])
				if high["Value"] != json.Number("100000001") || high["Color"] != "#ff0000" || userLabel(high["Description"]) != "Do it first" {
					t.Errorf("global option %v", high)
				}
			}},
		{name: "single-key cast (metadata operations sample)", status: 200,
			path: "EntityDefinitions(LogicalName='new_project')/Attributes(LogicalName='new_stage')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=SchemaName&$expand=OptionSet",
			check: func(t *testing.T, a metaAnswer) {
				if a.body["@odata.context"] != base+"$metadata#EntityDefinitions('new_project')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata(SchemaName,OptionSet())/$entity" {
					t.Errorf("context %v", a.body["@odata.context"])
				}
				if a.body["SchemaName"] != "new_Stage" || jsonKind(a.body["MetadataId"]) != "string" || obj(a.body["OptionSet"])["Name"] != "new_project_new_stage" {
					t.Errorf("body %s", a.raw)
				}
			}},
		{name: "navigation below a cast", status: 200,
			path: "EntityDefinitions(LogicalName='new_project')/Attributes(LogicalName='new_stage')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata/OptionSet?$select=Options",
			check: func(t *testing.T, a metaAnswer) {
				if a.body["@odata.context"] != base+"$metadata#EntityDefinitions('new_project')/Attributes('new_stage')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata/OptionSet(Options)/$entity" {
					t.Errorf("context %v", a.body["@odata.context"])
				}
				if len(arr(a.body["Options"])) != 2 || len(a.body) != 3 {
					t.Errorf("body %s", a.raw)
				}
			}},
		{name: "boolean true and false options", status: 200,
			path: "EntityDefinitions(LogicalName='new_project')/Attributes(LogicalName='new_active')/Microsoft.Dynamics.CRM.BooleanAttributeMetadata?$select=DefaultValue&$expand=OptionSet",
			check: func(t *testing.T, a metaAnswer) {
				set := obj(a.body["OptionSet"])
				tr, fa := obj(set["TrueOption"]), obj(set["FalseOption"])
				if a.body["DefaultValue"] != true || set["OptionSetType"] != "Boolean" || tr["Value"] != json.Number("1") || userLabel(tr["Label"]) != "Running" ||
					fa["Value"] != json.Number("0") || userLabel(fa["Label"]) != "Stopped" {
					t.Errorf("boolean %s", a.raw)
				}
			}},
		{name: "status options carry their state", status: 200,
			path: "EntityDefinitions(LogicalName='new_project')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options)",
			check: func(t *testing.T, a metaAnswer) {
				if a.body["@odata.context"] != base+"$metadata#EntityDefinitions('new_project')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata(LogicalName,OptionSet(Options))" {
					t.Errorf("context %v", a.body["@odata.context"])
				}
				opt := obj(arr(obj(obj(arr(a.body["value"])[0])["OptionSet"])["Options"])[0])
				if opt["@odata.type"] != "#Microsoft.Dynamics.CRM.StatusOptionMetadata" || opt["State"] != json.Number("0") || opt["Value"] != json.Number("1") {
					t.Errorf("status option %v", opt)
				}
			}},
		{name: "relationship definitions cast and filter (query-metadata-web-api)", status: 200,
			path: "RelationshipDefinitions/Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata?$select=SchemaName,ReferencingEntity&$filter=ReferencedEntity eq 'account'",
			check: func(t *testing.T, a metaAnswer) {
				if !slices.Contains(names(a.body["value"], "SchemaName"), "new_account_new_project") {
					t.Errorf("relationships %s", a.raw)
				}
				for _, v := range arr(a.body["value"]) {
					if obj(v)["@odata.type"] != "#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata" {
						t.Errorf("relationship %v lacks its type", v)
					}
				}
			}},
		{name: "relationship by schema name with a cast", status: 200,
			path: "RelationshipDefinitions(SchemaName='new_project_contact')/Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata?$select=Entity1LogicalName,Entity2LogicalName,IntersectEntityName",
			check: func(t *testing.T, a metaAnswer) {
				if a.body["Entity1LogicalName"] != "new_project" || a.body["Entity2LogicalName"] != "contact" || a.body["@odata.type"] != "#Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata" {
					t.Errorf("body %s", a.raw)
				}
			}},
		{name: "relationship definitions without a cast list both kinds", status: 200,
			path: "RelationshipDefinitions?$select=SchemaName,RelationshipType",
			check: func(t *testing.T, a metaAnswer) {
				kinds := map[string]bool{}
				for _, v := range arr(a.body["value"]) {
					kinds[obj(v)["@odata.type"].(string)+" "+obj(v)["RelationshipType"].(string)] = true
				}
				if !kinds["#Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata OneToManyRelationship"] || !kinds["#Microsoft.Dynamics.CRM.ManyToManyRelationshipMetadata ManyToManyRelationship"] {
					t.Errorf("kinds %v", kinds)
				}
			}},
		{name: "global choices", status: 200, path: "GlobalOptionSetDefinitions",
			check: func(t *testing.T, a metaAnswer) {
				v := arr(a.body["value"])
				if len(v) != 1 || obj(v[0])["Name"] != "new_priority" || obj(v[0])["@odata.type"] != "#Microsoft.Dynamics.CRM.OptionSetMetadata" {
					t.Errorf("global choices %s", a.raw)
				}
			}},
		{name: "global choice by name", status: 200, path: "GlobalOptionSetDefinitions(Name='new_priority')",
			check: func(t *testing.T, a metaAnswer) {
				if obj(arr(a.body["Options"])[0])["Color"] != "#00ff00" || a.body["IsGlobal"] != true {
					t.Errorf("body %s", a.raw)
				}
			}},
		{name: "global choice through its cast, as clients ask", status: 200,
			path: "GlobalOptionSetDefinitions(Name='new_priority')/Microsoft.Dynamics.CRM.OptionSetMetadata?$select=MetadataId,Name,Options",
			check: func(t *testing.T, a metaAnswer) {
				if a.body["@odata.context"] != base+"$metadata#GlobalOptionSetDefinitions/Microsoft.Dynamics.CRM.OptionSetMetadata(MetadataId,Name,Options)/$entity" ||
					a.body["Name"] != "new_priority" || len(arr(a.body["Options"])) != 2 || len(a.body) != 5 {
					t.Errorf("body %s", a.raw)
				}
			}},
		{name: "table by MetadataId", status: 200, path: "EntityDefinitions(608861bc-50a4-4c5f-a02c-21fe1943e2cf)?$select=LogicalName,ObjectTypeCode",
			check: func(t *testing.T, a metaAnswer) {
				if a.body["LogicalName"] != "contact" || a.body["ObjectTypeCode"] != json.Number("2") {
					t.Errorf("body %s", a.raw)
				}
			}},
		{name: "attributes expanded on the whole collection", status: 200,
			path: "EntityDefinitions?$select=LogicalName&$filter=LogicalName eq 'new_project' or LogicalName eq 'account'&$expand=Attributes($select=LogicalName)",
			check: func(t *testing.T, a metaAnswer) {
				if a.body["@odata.context"] != base+"$metadata#EntityDefinitions(LogicalName,Attributes(LogicalName))" || len(arr(a.body["value"])) != 2 {
					t.Fatalf("body %s", a.raw)
				}
				for _, e := range arr(a.body["value"]) {
					cols := names(obj(e)["Attributes"], "LogicalName")
					if len(cols) < 10 || !slices.Contains(cols, "createdon") {
						t.Errorf("%v: attributes %v", obj(e)["LogicalName"], cols)
					}
				}
			}},
		{name: "a table's one-to-many relationships", status: 200,
			path: "EntityDefinitions(LogicalName='account')/OneToManyRelationships?$select=SchemaName,ReferencingEntity&$filter=ReferencingEntity eq 'new_project'",
			check: func(t *testing.T, a metaAnswer) {
				if got := names(a.body["value"], "SchemaName"); !slices.Equal(got, []string{"new_account_new_project"}) {
					t.Errorf("relationships %v", got)
				}
			}},
		{name: "a scenario key by its name", status: 200,
			path: "EntityDefinitions(LogicalName='new_project')/Keys(LogicalName='new_project_code')",
			check: func(t *testing.T, a metaAnswer) {
				if a.body["EntityLogicalName"] != "new_project" || userLabel(a.body["DisplayName"]) != "new_project_code" {
					t.Errorf("key %s", a.raw)
				}
			}},
		{name: "the global choice of a local choice is empty", status: 204,
			path: "EntityDefinitions(LogicalName='new_project')/Attributes(LogicalName='new_stage')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata/GlobalOptionSet"},
		{name: "single property", status: 200, path: "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='name')/SchemaName",
			check: func(t *testing.T, a metaAnswer) {
				if a.body["@odata.context"] != base+"$metadata#EntityDefinitions('account')/Attributes('name')/SchemaName" || a.body["value"] != "Name" {
					t.Errorf("body %s", a.raw)
				}
			}},
		{name: "raw property value", status: 200, path: "EntityDefinitions(LogicalName='account')/ObjectTypeCode/$value",
			check: func(t *testing.T, a metaAnswer) {
				if string(a.raw) != "1" {
					t.Errorf("ObjectTypeCode/$value = %q", a.raw)
				}
			}},
		{name: "labels in one language", status: 200, path: "EntityDefinitions(LogicalName='account')?$select=DisplayName&LabelLanguages=1033",
			check: func(t *testing.T, a metaAnswer) {
				if len(arr(obj(a.body["DisplayName"])["LocalizedLabels"])) != 1 {
					t.Errorf("body %s", a.raw)
				}
			}},
		{name: "labels in a language the table has none in", status: 200, path: "EntityDefinitions(LogicalName='account')?$select=DisplayName&LabelLanguages=1036",
			check: func(t *testing.T, a metaAnswer) {
				if l := arr(obj(a.body["DisplayName"])["LocalizedLabels"]); l == nil || len(l) != 0 {
					t.Errorf("body %s", a.raw)
				}
			}},

		// Refusals.
		{name: "orderby is refused", path: "EntityDefinitions?$select=LogicalName&$orderby=LogicalName",
			status: 400, code: "0x80060888", says: "The query parameter $orderby is not supported"},
		{name: "top is refused", path: "EntityDefinitions?$select=LogicalName&$top=2", status: 400, code: "0x80060888", says: "$top"},
		{name: "derived property without a cast", path: "EntityDefinitions(LogicalName='account')/Attributes?$select=MaxLength",
			status: 400, says: "Could not find a property named 'MaxLength' on type 'Microsoft.Dynamics.CRM.AttributeMetadata'."},
		{name: "option set without a cast", path: "EntityDefinitions(LogicalName='account')?$expand=Attributes($expand=OptionSet)",
			status: 400, says: "'OptionSet'"},
		{name: "abstract cast", path: "EntityDefinitions(LogicalName='account')/Attributes/Microsoft.Dynamics.CRM.EnumAttributeMetadata",
			status: 400, code: "0x80060888", says: "EnumAttributeMetadata"},
		{name: "cast to a type of another set", path: "EntityDefinitions/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
			status: 400, code: "0x80060888", says: "PicklistAttributeMetadata"},
		{name: "cast that does not match the column", path: "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='name')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
			status: 404},
		{name: "unknown table", path: "EntityDefinitions(LogicalName='nope')", status: 404, code: "0x80040217", says: "nope"},
		{name: "filter on global choices", path: "GlobalOptionSetDefinitions?$filter=Name eq 'new_priority'", status: 400, says: "$filter"},
		{name: "filter on a label", path: "EntityDefinitions?$filter=DisplayName eq 'x'", status: 400, says: "DisplayName"},
		{name: "bad LabelLanguages", path: "EntityDefinitions?LabelLanguages=english", status: 400, says: "LabelLanguages"},
		{name: "wrong alternate key", path: "EntityDefinitions(SchemaName='Account')", status: 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := m.get(t, tt.path)
			if a.status != tt.status {
				t.Fatalf("GET %s: %d, want %d: %s", tt.path, a.status, tt.status, a.raw)
			}
			if tt.status >= 400 {
				code, msg := a.errorCode()
				if msg == "" || (tt.code != "" && code != tt.code) || !strings.Contains(msg, tt.says) {
					t.Errorf("GET %s: error %q %q, want code %q saying %q", tt.path, code, msg, tt.code, tt.says)
				}
			}
			if tt.check != nil {
				tt.check(t, a)
			}
		})
	}
}

// TestMetadataAttributeTypes reads every column of the test table through
// its derived type's cast and checks the type's own properties, with
// AttributeType and AttributeTypeName as the AttributeMetadata reference
// lists them.
func TestMetadataAttributeTypes(t *testing.T) {
	t.Parallel()
	m := newMetaEnv(t)
	tests := []struct {
		column, cast, attributeType, typeName string
		want                                  map[string]any
	}{
		{"new_name", "StringAttributeMetadata", "String", "StringType", map[string]any{"MaxLength": json.Number("100"), "IsPrimaryName": true, "Format": "Text"}},
		{"new_notes", "MemoAttributeMetadata", "Memo", "MemoType", map[string]any{"MaxLength": json.Number("4000"), "Format": "TextArea"}},
		{"new_headcount", "IntegerAttributeMetadata", "Integer", "IntegerType", map[string]any{"MinValue": json.Number("0"), "MaxValue": json.Number("500"), "Format": "None"}},
		{"new_bytes", "BigIntAttributeMetadata", "BigInt", "BigIntType", map[string]any{"MaxValue": json.Number("9223372036854775807")}},
		{"new_share", "DecimalAttributeMetadata", "Decimal", "DecimalType", map[string]any{"Precision": json.Number("4")}},
		{"new_ratio", "DoubleAttributeMetadata", "Double", "DoubleType", map[string]any{"Precision": json.Number("3")}},
		{"new_budget", "MoneyAttributeMetadata", "Money", "MoneyType", map[string]any{"Precision": json.Number("2"), "PrecisionSource": json.Number("2")}},
		{"new_active", "BooleanAttributeMetadata", "Boolean", "BooleanType", map[string]any{"DefaultValue": true}},
		{"new_start", "DateTimeAttributeMetadata", "DateTime", "DateTimeType", map[string]any{"Format": "DateOnly"}},
		{"new_accountid", "LookupAttributeMetadata", "Lookup", "LookupType", map[string]any{}},
		{"ownerid", "LookupAttributeMetadata", "Owner", "OwnerType", map[string]any{}},
		{"new_stage", "PicklistAttributeMetadata", "Picklist", "PicklistType", map[string]any{}},
		{"new_tags", "MultiSelectPicklistAttributeMetadata", "Virtual", "MultiSelectPicklistType", map[string]any{}},
		{"statecode", "StateAttributeMetadata", "State", "StateType", map[string]any{}},
		{"statuscode", "StatusAttributeMetadata", "Status", "StatusType", map[string]any{}},
		{"new_contract", "FileAttributeMetadata", "Virtual", "FileType", map[string]any{"MaxSizeInKB": json.Number("2048"),
			"IsValidForCreate": false, "IsValidForUpdate": false}},
		// A primary image is set with the row's create or update (image-column-data); a file is not.
		{"new_logo", "ImageAttributeMetadata", "Virtual", "ImageType", map[string]any{"MaxSizeInKB": json.Number("10240"), "CanStoreFullImage": true,
			"IsPrimaryImage": true, "MaxHeight": json.Number("144"), "MaxWidth": json.Number("144"),
			"IsValidForCreate": true, "IsValidForUpdate": true}},
		{"new_logo_url", "StringAttributeMetadata", "String", "StringType", map[string]any{"AttributeOf": "new_logo"}},
		{"new_projectid", "UniqueIdentifierAttributeMetadata", "Uniqueidentifier", "UniqueidentifierType", map[string]any{"IsPrimaryId": true, "IsValidForUpdate": false}},
	}
	for _, tt := range tests {
		t.Run(tt.column, func(t *testing.T) {
			path := "EntityDefinitions(LogicalName='new_project')/Attributes(LogicalName='" + tt.column + "')/Microsoft.Dynamics.CRM." + tt.cast
			a := m.get(t, path)
			if a.status != 200 {
				t.Fatalf("GET %s: %d %s", path, a.status, a.raw)
			}
			if a.body["@odata.type"] != "#Microsoft.Dynamics.CRM."+tt.cast || a.body["AttributeType"] != tt.attributeType ||
				obj(a.body["AttributeTypeName"])["Value"] != tt.typeName || a.body["EntityLogicalName"] != "new_project" {
				t.Errorf("type members of %s", a.raw)
			}
			rl := obj(a.body["RequiredLevel"])
			if jsonKind(rl["Value"]) != "string" || rl["ManagedPropertyLogicalName"] != "canmodifyrequirementlevelsettings" {
				t.Errorf("RequiredLevel %v", rl)
			}
			for k, v := range tt.want {
				if a.body[k] != v {
					t.Errorf("%s = %v, want %v", k, a.body[k], v)
				}
			}
		})
	}
	a := m.get(t, "EntityDefinitions(LogicalName='new_project')/Attributes(LogicalName='new_start')/Microsoft.Dynamics.CRM.DateTimeAttributeMetadata?$select=DateTimeBehavior")
	if obj(a.body["DateTimeBehavior"])["Value"] != "DateOnly" {
		t.Errorf("DateTimeBehavior %s", a.raw)
	}
	a = m.get(t, "EntityDefinitions(LogicalName='new_project')/Attributes(LogicalName='ownerid')/Microsoft.Dynamics.CRM.LookupAttributeMetadata?$select=Targets")
	if got := arr(a.body["Targets"]); len(got) != 2 || got[0] != "systemuser" || got[1] != "team" {
		t.Errorf("owner Targets %s", a.raw)
	}
	a = m.get(t, "EntityDefinitions(LogicalName='new_project')/Attributes(LogicalName='new_name')?$select=RequiredLevel,IsValidForCreate,IsValidForRead")
	if obj(a.body["RequiredLevel"])["Value"] != "ApplicationRequired" || a.body["IsValidForCreate"] != true {
		t.Errorf("new_name %s", a.raw)
	}
	// MetadataIds are stable: the same address by MetadataId finds the same column.
	id, _ := a.body["MetadataId"].(string)
	if _, err := uuid.Parse(id); err != nil {
		t.Fatalf("MetadataId %q", id)
	}
	b := m.get(t, "EntityDefinitions(LogicalName='new_project')/Attributes("+id+")?$select=LogicalName")
	if b.body["LogicalName"] != "new_name" {
		t.Errorf("by MetadataId: %s", b.raw)
	}
}
