package webapi

import (
	"fmt"
	"strings"
)

// Hidden members of metadata records: never written, kept by $select.
const (
	hiddenType   = "\x00type" // the record's metadata type (string)
	hiddenSource = "\x00src"  // the schema object behind it
)

func isHidden(name string) bool { return strings.HasPrefix(name, "\x00") }

// recordType returns the metadata type of a record built by fillMeta.
func recordType(r record) *metaType {
	v, _ := r.get(hiddenType)
	name, _ := v.(string)
	t, _ := lookupMetaType(name)
	return t
}

func recordSource(r record) any {
	v, _ := r.get(hiddenSource)
	return v
}

// fillMeta builds a record of the named entity type with every declared
// property, in declaration order (base types first): values gives the
// known ones, the rest get their type's default (false, null, an empty
// Label or collection, a BooleanManagedProperty that is false and can be
// changed when custom is true).
func fillMeta(typeName string, values map[string]any, src any, custom bool) record {
	t, ok := lookupMetaType(typeName)
	if !ok {
		panic("webapi: undeclared metadata type " + typeName)
	}
	props := t.allProps()
	r := make(record, 0, len(props)+2)
	r = append(r, prop{hiddenType, typeName}, prop{hiddenSource, src})
	used := 0
	for _, pr := range props {
		v, ok := values[pr.name]
		if ok {
			used++
		} else {
			v = defaultMetaValue(pr, custom)
		}
		r = append(r, prop{pr.name, v})
	}
	if used != len(values) {
		for name := range values {
			if _, ok := t.prop(name); !ok {
				panic(fmt.Sprintf("webapi: %s has no property %s", typeName, name))
			}
		}
	}
	return r
}

func defaultMetaValue(pr metaProp, custom bool) any {
	if pr.name == "HasChanged" {
		// Only RetrieveMetadataChanges sets it; ordinary queries say null.
		return nil
	}
	switch pr.typ {
	case "Edm.Boolean":
		return false
	case bmp:
		return managedProperty(false, custom, managedPropertyName(pr.name))
	case lbl:
		return emptyLabel()
	case "Collection(Edm.String)":
		return []string{}
	case "Collection(Edm.Int32)":
		return []int64{}
	}
	if strings.HasPrefix(pr.typ, "Collection(") {
		return []record{}
	}
	return nil
}
