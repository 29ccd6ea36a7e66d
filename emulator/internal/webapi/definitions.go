package webapi

import (
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// Metadata records are ordered property lists; values are string, int64,
// float64, bool, nil, uuid.UUID, []string, []int64, record, []record or
// an expanded navigation (expandedNav). Members whose name starts with
// NUL are hidden (see metadata_records.go).
type prop struct {
	name  string
	value any
}

type record []prop

func (r record) get(name string) (any, bool) {
	for _, p := range r {
		if p.name == name {
			return p.value, true
		}
	}
	return nil, false
}

// metadataType names a metadata type in errors
// ("Microsoft.Dynamics.CRM.EntityMetadata").
type metadataType string

func (m metadataType) EntityTypeName() string { return schema.Namespace + "." + string(m) }

// expandedNav is the value of an expanded navigation property: one record
// (nil for none) or a collection, with the type the navigation declares,
// so that derived records get their @odata.type.
type expandedNav struct {
	records  []record
	single   bool
	expected *metaType
}

// writeMetaRecord writes a record as a JSON object; the record's type is
// announced with @odata.type when it is derived from expected.
func writeMetaRecord(jw *jsonWriter, r record, expected *metaType) {
	jw.byte('{')
	writeMetaMembers(jw, r, expected, true)
	jw.byte('}')
}

// writeMetaMembers writes the members of a record (without braces).
func writeMetaMembers(jw *jsonWriter, r record, expected *metaType, first bool) {
	if t := recordType(r); t != nil && expected != nil && t != expected {
		jw.key("@odata.type", first)
		jw.str("#" + schema.Namespace + "." + t.name)
		first = false
	}
	for _, p := range r {
		if isHidden(p.name) {
			continue
		}
		jw.key(p.name, first)
		first = false
		writeMetaValue(jw, p.value)
	}
}

func writeMetaValue(jw *jsonWriter, v any) {
	switch x := v.(type) {
	case nil:
		jw.raw("null")
	case string:
		jw.str(x)
	case int64:
		jw.int(x)
	case float64:
		jw.value(&schema.Column{Type: schema.TypeDouble}, x)
	case bool:
		jw.value(&schema.Column{Type: schema.TypeBoolean}, x)
	case uuid.UUID:
		jw.guid(x)
	case []string:
		jw.byte('[')
		for i, s := range x {
			if i > 0 {
				jw.byte(',')
			}
			jw.str(s)
		}
		jw.byte(']')
	case []int64:
		jw.byte('[')
		for i, n := range x {
			if i > 0 {
				jw.byte(',')
			}
			jw.int(n)
		}
		jw.byte(']')
	case record:
		writeMetaRecord(jw, x, nil)
	case []record:
		jw.byte('[')
		for i, r := range x {
			if i > 0 {
				jw.byte(',')
			}
			writeMetaRecord(jw, r, nil)
		}
		jw.byte(']')
	case expandedNav:
		if x.single {
			if len(x.records) == 0 || x.records[0] == nil {
				jw.raw("null")
				return
			}
			writeMetaRecord(jw, x.records[0], x.expected)
			return
		}
		jw.byte('[')
		for i, r := range x.records {
			if i > 0 {
				jw.byte(',')
			}
			writeMetaRecord(jw, r, x.expected)
		}
		jw.byte(']')
	default:
		jw.raw("null")
	}
}
