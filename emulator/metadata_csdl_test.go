package emulator_test

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
)

// csdlModel is the part of a $metadata document the tests read: entity
// and complex types with their properties, enum types with members, and
// the entity sets with their annotations.
type csdlModel struct {
	types map[string]*csdlType
	enums map[string][]string
	sets  map[string]csdlSet
}

type csdlType struct {
	base     string
	abstract bool
	props    map[string]string
	navs     map[string]string
}

type csdlSet struct {
	entityType  string
	annotations []string
}

func parseCSDL(t *testing.T, raw []byte) csdlModel {
	t.Helper()
	var doc struct {
		Schemas []struct {
			Namespace   string `xml:"Namespace,attr"`
			EntityTypes []struct {
				Name       string `xml:"Name,attr"`
				BaseType   string `xml:"BaseType,attr"`
				Abstract   bool   `xml:"Abstract,attr"`
				Properties []struct {
					Name string `xml:"Name,attr"`
					Type string `xml:"Type,attr"`
				} `xml:"Property"`
				Navs []struct {
					Name string `xml:"Name,attr"`
					Type string `xml:"Type,attr"`
				} `xml:"NavigationProperty"`
			} `xml:"EntityType"`
			ComplexTypes []struct {
				Name       string `xml:"Name,attr"`
				BaseType   string `xml:"BaseType,attr"`
				Properties []struct {
					Name string `xml:"Name,attr"`
					Type string `xml:"Type,attr"`
				} `xml:"Property"`
			} `xml:"ComplexType"`
			EnumTypes []struct {
				Name    string `xml:"Name,attr"`
				Members []struct {
					Name string `xml:"Name,attr"`
				} `xml:"Member"`
			} `xml:"EnumType"`
			Container struct {
				Sets []struct {
					Name        string `xml:"Name,attr"`
					EntityType  string `xml:"EntityType,attr"`
					Annotations []struct {
						Term string `xml:"Term,attr"`
					} `xml:"Annotation"`
				} `xml:"EntitySet"`
			} `xml:"EntityContainer"`
		} `xml:"DataServices>Schema"`
	}
	if err := xml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("$metadata is not CSDL XML: %v", err)
	}
	m := csdlModel{types: map[string]*csdlType{}, enums: map[string][]string{}, sets: map[string]csdlSet{}}
	short := func(s string) string {
		return strings.TrimPrefix(strings.TrimPrefix(s, "mscrm."), "Microsoft.Dynamics.CRM.")
	}
	for _, s := range doc.Schemas {
		for _, et := range s.EntityTypes {
			ct := &csdlType{base: short(et.BaseType), abstract: et.Abstract, props: map[string]string{}, navs: map[string]string{}}
			for _, p := range et.Properties {
				ct.props[p.Name] = short(p.Type)
			}
			for _, n := range et.Navs {
				ct.navs[n.Name] = n.Type
			}
			m.types[et.Name] = ct
		}
		for _, cx := range s.ComplexTypes {
			ct := &csdlType{base: short(cx.BaseType), props: map[string]string{}, navs: map[string]string{}}
			for _, p := range cx.Properties {
				ct.props[p.Name] = strings.ReplaceAll(p.Type, "mscrm.", "")
			}
			m.types[cx.Name] = ct
		}
		for _, en := range s.EnumTypes {
			for _, mem := range en.Members {
				m.enums[en.Name] = append(m.enums[en.Name], mem.Name)
			}
		}
		for _, set := range s.Container.Sets {
			cs := csdlSet{entityType: short(set.EntityType)}
			for _, a := range set.Annotations {
				cs.annotations = append(cs.annotations, a.Term)
			}
			m.sets[set.Name] = cs
		}
	}
	for _, ct := range m.types {
		for name, typ := range ct.props {
			ct.props[name] = strings.ReplaceAll(typ, "mscrm.", "")
		}
	}
	return m
}

// allProps returns the structural properties of a type and its bases.
func (m csdlModel) allProps(name string) map[string]string {
	out := map[string]string{}
	for t := m.types[name]; t != nil; t = m.types[t.base] {
		for k, v := range t.props {
			out[k] = v
		}
		if t.base == "" {
			break
		}
	}
	return out
}

func (m csdlModel) allNavs(name string) map[string]string {
	out := map[string]string{}
	for t := m.types[name]; t != nil; t = m.types[t.base] {
		for k, v := range t.navs {
			out[k] = v
		}
		if t.base == "" {
			break
		}
	}
	return out
}

// checkObject checks a JSON object against the declared type (its
// @odata.type when it has one): every member is a declared property or
// navigation, every value has its declared type, and with full every
// declared property is present.
func (m csdlModel) checkObject(t *testing.T, where string, declared string, v map[string]any, full bool) {
	t.Helper()
	typeName := declared
	if at, ok := v["@odata.type"].(string); ok {
		typeName = strings.TrimPrefix(at, "#Microsoft.Dynamics.CRM.")
	}
	if m.types[typeName] == nil {
		t.Errorf("%s: type %q is not declared in $metadata", where, typeName)
		return
	}
	props, navs := m.allProps(typeName), m.allNavs(typeName)
	for name, val := range v {
		if strings.HasPrefix(name, "@") {
			continue
		}
		typ, ok := props[name]
		if !ok {
			if _, nav := navs[name]; !nav {
				t.Errorf("%s: member %s is not a property of %s in $metadata", where, name, typeName)
			}
			continue
		}
		m.checkValue(t, where+"."+name, typ, val)
	}
	if full {
		for name := range props {
			if _, ok := v[name]; !ok {
				t.Errorf("%s: %s declares %s, the response lacks it", where, typeName, name)
			}
		}
	}
}

func (m csdlModel) checkValue(t *testing.T, where, typ string, v any) {
	t.Helper()
	if v == nil {
		return // every metadata property is nullable
	}
	if inner, ok := strings.CutPrefix(typ, "Collection("); ok {
		items, isArr := v.([]any)
		if !isArr {
			t.Errorf("%s: %v is not a collection of %s", where, v, inner)
			return
		}
		for _, it := range items {
			m.checkValue(t, where+"[]", strings.TrimSuffix(inner, ")"), it)
		}
		return
	}
	kind := jsonKind(v)
	switch typ {
	case "Edm.Boolean":
		if kind != "bool" {
			t.Errorf("%s: %v is not Edm.Boolean", where, v)
		}
	case "Edm.Int16", "Edm.Int32", "Edm.Int64":
		if kind != "integer" {
			t.Errorf("%s: %v is not %s", where, v, typ)
		}
	case "Edm.Double", "Edm.Decimal":
		if kind != "integer" && kind != "number" {
			t.Errorf("%s: %v is not %s", where, v, typ)
		}
	case "Edm.String", "Edm.DateTimeOffset":
		if kind != "string" {
			t.Errorf("%s: %v is not %s", where, v, typ)
		}
	case "Edm.Guid":
		if s, ok := v.(string); !ok || uuid.Validate(s) != nil {
			t.Errorf("%s: %v is not Edm.Guid", where, v)
		}
	default:
		if members, isEnum := m.enums[typ]; isEnum {
			s, _ := v.(string)
			found := false
			for _, mem := range members {
				found = found || mem == s
			}
			if !found {
				t.Errorf("%s: %v is not a member of %s %v", where, v, typ, members)
			}
			return
		}
		o, ok := v.(map[string]any)
		if !ok {
			t.Errorf("%s: %v is not a %s object", where, v, typ)
			return
		}
		m.checkObject(t, where, typ, o, false)
	}
}

// TestMetadataMatchesCSDL reads every kind of metadata record in full
// and checks it against the $metadata the same emulator serves: the
// members and their types are those the CSDL declares, as a client
// generated from the CSDL (the .NET OData client, PowerPlatform SDKs)
// reads them.
func TestMetadataMatchesCSDL(t *testing.T) {
	t.Parallel()
	m := newMetaEnv(t)
	doc := m.get(t, "$metadata")
	if doc.status != 200 {
		t.Fatalf("$metadata: %d", doc.status)
	}
	model := parseCSDL(t, doc.raw)

	// The declarations the documentation names.
	for _, c := range []struct{ typ, prop, want string }{
		{"EntityMetadata", "ChangeTrackingEnabled", "Edm.Boolean"},
		{"EntityMetadata", "ObjectTypeCode", "Edm.Int32"},
		{"EntityMetadata", "OwnershipType", "OwnershipTypes"},
		{"EntityMetadata", "IsCustomizable", "BooleanManagedProperty"},
		{"EntityMetadata", "DisplayName", "Label"},
		{"EntityMetadata", "TableType", "Edm.String"},
		{"AttributeMetadata", "RequiredLevel", "AttributeRequiredLevelManagedProperty"},
		{"AttributeMetadata", "AttributeType", "AttributeTypeCode"},
		{"StringAttributeMetadata", "MaxLength", "Edm.Int32"},
		{"LookupAttributeMetadata", "Targets", "Collection(Edm.String)"},
		{"BigIntAttributeMetadata", "MaxValue", "Edm.Int64"},
		{"OptionSetMetadata", "Options", "Collection(OptionMetadata)"},
		{"OneToManyRelationshipMetadata", "CascadeConfiguration", "CascadeConfiguration"},
		{"EntityKeyMetadata", "KeyAttributes", "Collection(Edm.String)"},
	} {
		if got := model.allProps(c.typ)[c.prop]; got != c.want {
			t.Errorf("$metadata: %s.%s is %q, want %q", c.typ, c.prop, got, c.want)
		}
	}
	if model.types["PicklistAttributeMetadata"] == nil || model.types["PicklistAttributeMetadata"].base != "EnumAttributeMetadata" ||
		!model.types["EnumAttributeMetadata"].abstract || model.allNavs("PicklistAttributeMetadata")["OptionSet"] == "" {
		t.Errorf("$metadata: PicklistAttributeMetadata should derive from the abstract EnumAttributeMetadata and have OptionSet")
	}
	for set, typ := range map[string]string{"EntityDefinitions": "EntityMetadata", "RelationshipDefinitions": "RelationshipMetadataBase", "GlobalOptionSetDefinitions": "OptionSetMetadataBase"} {
		if model.sets[set].entityType != typ {
			t.Errorf("$metadata: entity set %s is %q, want %s", set, model.sets[set].entityType, typ)
		}
	}

	// Every kind of record, in full, against those declarations.
	for _, c := range []struct{ path, typ string }{
		{"EntityDefinitions(LogicalName='new_project')", "EntityMetadata"},
		{"EntityDefinitions(LogicalName='account')", "EntityMetadata"},
		{"EntityDefinitions(LogicalName='new_project')/Attributes", "AttributeMetadata"},
		{"EntityDefinitions(LogicalName='contact')/Attributes", "AttributeMetadata"},
		{"EntityDefinitions(LogicalName='new_project')/Keys", "EntityKeyMetadata"},
		{"EntityDefinitions(LogicalName='new_project')/ManyToOneRelationships", "OneToManyRelationshipMetadata"},
		{"EntityDefinitions(LogicalName='account')/OneToManyRelationships", "OneToManyRelationshipMetadata"},
		{"EntityDefinitions(LogicalName='new_project')/ManyToManyRelationships", "ManyToManyRelationshipMetadata"},
		{"RelationshipDefinitions", "RelationshipMetadataBase"},
		{"GlobalOptionSetDefinitions", "OptionSetMetadataBase"},
		{"EntityDefinitions(LogicalName='new_project')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$expand=OptionSet,GlobalOptionSet", "PicklistAttributeMetadata"},
		{"EntityDefinitions(LogicalName='new_project')/Attributes/Microsoft.Dynamics.CRM.StatusAttributeMetadata?$expand=OptionSet", "StatusAttributeMetadata"},
		{"EntityDefinitions(LogicalName='new_project')/Attributes/Microsoft.Dynamics.CRM.StateAttributeMetadata?$expand=OptionSet", "StateAttributeMetadata"},
		{"EntityDefinitions(LogicalName='new_project')/Attributes/Microsoft.Dynamics.CRM.BooleanAttributeMetadata?$expand=OptionSet", "BooleanAttributeMetadata"},
		{"EntityDefinitions(LogicalName='new_project')/Attributes/Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata?$expand=OptionSet", "MultiSelectPicklistAttributeMetadata"},
		{"EntityDefinitions(LogicalName='new_project')/Attributes/Microsoft.Dynamics.CRM.ImageAttributeMetadata", "ImageAttributeMetadata"},
		{"EntityDefinitions(LogicalName='new_project')/Attributes/Microsoft.Dynamics.CRM.FileAttributeMetadata", "FileAttributeMetadata"},
	} {
		a := m.get(t, c.path)
		if a.status != 200 {
			t.Errorf("GET %s: %d %s", c.path, a.status, a.raw)
			continue
		}
		records := []any{a.body}
		if v, ok := a.body["value"]; ok {
			records = arr(v)
		}
		if len(records) == 0 {
			t.Errorf("GET %s: no records", c.path)
		}
		for i, r := range records {
			model.checkObject(t, c.path+"#"+strconv.Itoa(i), c.typ, obj(r), true)
		}
	}

	// The change-tracking capability, as use-change-tracking documents it.
	annotated := parseCSDL(t, m.get(t, "$metadata?annotations=true").raw)
	const term = "Org.OData.Capabilities.V1.ChangeTracking"
	if got := annotated.sets["new_projects"].annotations; len(got) != 1 || got[0] != term {
		t.Errorf("$metadata?annotations=true: new_projects annotations %v, want %s", got, term)
	}
	// DynamicsWebApi's retrieveCsdlMetadata({addAnnotations: true}) asks with Prefer instead.
	preferred := parseCSDL(t, m.getWith(t, "$metadata", http.Header{"Prefer": {`odata.include-annotations="*"`}}).raw)
	if got := preferred.sets["new_projects"].annotations; len(got) != 1 || got[0] != term {
		t.Errorf("$metadata with Prefer odata.include-annotations: new_projects annotations %v, want %s", got, term)
	}
	if got := model.sets["new_projects"].annotations; len(got) != 0 {
		t.Errorf("$metadata without annotations=true: new_projects annotations %v", got)
	}
	if got := annotated.sets["accounts"].annotations; len(got) != 1 || got[0] != term {
		t.Errorf("$metadata?annotations=true: accounts annotations %v, want %s", got, term)
	}
	if got := annotated.sets["tasks"].annotations; len(got) != 0 {
		t.Errorf("tasks has no change tracking, yet annotations %v", got)
	}
}
