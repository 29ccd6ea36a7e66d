package webapi

import (
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// metaStep is one addressed resource of a metadata path: an entity set or
// navigation property, an optional key, and an optional type cast.
//
//	EntityDefinitions(LogicalName='account')/Attributes(LogicalName='x')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata/OptionSet
//
// is three steps: EntityDefinitions keyed by LogicalName, Attributes keyed
// by LogicalName and cast to PicklistAttributeMetadata, and OptionSet.
type metaStep struct {
	name string
	key  *metaKey
	cast string // short type name of the cast segment ("PicklistAttributeMetadata")
}

// metaKey is a key predicate: the MetadataId (bare GUID or
// MetadataId=<guid>) or one alternate key property (LogicalName='x').
type metaKey struct {
	property string    // "" for MetadataId
	value    string    // the alternate key's value, unquoted
	id       uuid.UUID // the MetadataId when property is ""
}

// text is the key as @odata.context writes it: ('x') or (<guid>).
func (k *metaKey) text() string {
	if k.property == "" {
		return "(" + k.id.String() + ")"
	}
	return "('" + strings.ReplaceAll(k.value, "'", "''") + "')"
}

// parseMetadataPath reads the decoded segments of a metadata path. The
// first segment is the entity set; a segment in the Microsoft.Dynamics.CRM
// namespace casts the step before it; "$value" may end a path to a
// property and is returned as a step of its own.
func parseMetadataPath(segs []string) ([]metaStep, error) {
	var steps []metaStep
	for i, seg := range segs {
		if seg == "" {
			return nil, errResourceNotFound(seg)
		}
		if typ, ok := strings.CutPrefix(seg, schema.Namespace+"."); ok {
			if i == 0 || steps[len(steps)-1].cast != "" || typ == "" {
				return nil, errResourceNotFound(seg)
			}
			steps[len(steps)-1].cast = typ
			continue
		}
		if seg == "$value" {
			if i != len(segs)-1 || i == 0 {
				return nil, errResourceNotFound(seg)
			}
			steps = append(steps, metaStep{name: seg})
			continue
		}
		name, keyText, hasKey, err := splitKeySegment(seg)
		if err != nil {
			return nil, err
		}
		if !identifierPattern(name) {
			return nil, errResourceNotFound(seg)
		}
		step := metaStep{name: name}
		if hasKey {
			if step.key, err = parseMetaKey(keyText); err != nil {
				return nil, err
			}
		}
		steps = append(steps, step)
	}
	if len(steps) == 0 {
		return nil, errResourceNotFound("")
	}
	return steps, nil
}

// parseMetaKey reads <guid>, MetadataId=<guid> or Name='value' (a quote in
// the value doubled).
func parseMetaKey(text string) (*metaKey, error) {
	if id, err := uuid.Parse(text); err == nil && len(text) == 36 {
		return &metaKey{id: id}, nil
	}
	name, value, ok := strings.Cut(text, "=")
	if !ok || !identifierPattern(name) {
		return nil, errKeySyntax()
	}
	if name == "MetadataId" {
		id, err := uuid.Parse(value)
		if err != nil || len(value) != 36 {
			return nil, errKeySyntax()
		}
		return &metaKey{id: id}, nil
	}
	if len(value) < 2 || value[0] != '\'' || value[len(value)-1] != '\'' {
		return nil, errKeySyntax()
	}
	inner := value[1 : len(value)-1]
	// Inside the quotes every quote must be doubled.
	if strings.Count(inner, "'")%2 != 0 || strings.Contains(strings.ReplaceAll(inner, "''", ""), "'") {
		return nil, errKeySyntax()
	}
	return &metaKey{property: name, value: strings.ReplaceAll(inner, "''", "'")}, nil
}

// identifierPattern reports whether s is an OData simple identifier.
func identifierPattern(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}
