package webapi

import (
	"strconv"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// optionSetID is the MetadataId of an option set: a global choice's by
// its name, a local one's by its column.
func optionSetID(set *schema.OptionSet, c *schema.Column) uuid.UUID {
	if set.Global || c == nil {
		return metadataID("optionset", set.Name)
	}
	return metadataID("optionset", attributeKey(c))
}

// optionSetMetadata describes a column's option set (or a global choice,
// c nil) as OptionSetMetadata, or BooleanOptionSetMetadata for a Boolean
// column.
func (b *metaBuilder) optionSetMetadata(set *schema.OptionSet, c *schema.Column) record {
	custom := true
	setType := "Picklist"
	display, description := set.DisplayName, set.Description
	if c != nil {
		custom = !isBuiltinColumn(c)
		switch c.Type {
		case schema.TypeState:
			setType = "State"
		case schema.TypeStatus:
			setType = "Status"
		case schema.TypeBoolean:
			setType = "Boolean"
		}
		if !set.Global {
			display, description = c.DisplayName, c.Description
		}
	}
	id := optionSetID(set, c)
	v := map[string]any{
		"MetadataId":        id,
		"Name":              set.Name,
		"IsGlobal":          set.Global,
		"IsCustomOptionSet": custom,
		"IsManaged":         !custom,
		"OptionSetType":     setType,
		"IntroducedVersion": "1.0.0.0",
		"DisplayName":       b.label(display, metadataID("optionset-label", id.String()), !custom),
		"Description":       b.label(description, metadataID("optionset-description", id.String()), !custom),
		"IsCustomizable":    managedProperty(true, custom, "iscustomizable"),
	}
	if setType == "Boolean" {
		for _, o := range set.Options {
			name := "FalseOption"
			if o.Value == 1 {
				name = "TrueOption"
			}
			v[name] = b.option(o, id, setType, custom)
		}
		return fillMeta("BooleanOptionSetMetadata", v, set, custom)
	}
	options := make([]record, 0, len(set.Options))
	for _, o := range set.Options {
		options = append(options, b.option(o, id, setType, custom))
	}
	v["Options"] = options
	return fillMeta("OptionSetMetadata", v, set, custom)
}

// option describes one option as OptionMetadata (StatusOptionMetadata
// and StateOptionMetadata, with their @odata.type, for status and state
// options).
func (b *metaBuilder) option(o schema.Option, set uuid.UUID, setType string, custom bool) record {
	value := strconv.Itoa(o.Value)
	var color any
	if o.Color != "" {
		color = o.Color
	}
	r := record{}
	switch setType {
	case "Status":
		r = append(r, prop{"@odata.type", "#" + schema.Namespace + ".StatusOptionMetadata"})
	case "State":
		r = append(r, prop{"@odata.type", "#" + schema.Namespace + ".StateOptionMetadata"})
	}
	r = append(r,
		prop{"Value", int64(o.Value)},
		prop{"Color", color},
		prop{"IsManaged", !custom},
		prop{"ExternalValue", ""},
		prop{"ParentValues", []int64{}},
		prop{"Tag", nil},
		prop{"IsHidden", false},
		prop{"MetadataId", nil},
		prop{"HasChanged", nil},
		prop{"Label", b.label(o.Label, metadataID("option-label", set.String()+":"+value), !custom)},
		prop{"Description", b.label(o.Description, metadataID("option-description", set.String()+":"+value), !custom)},
	)
	switch setType {
	case "Status":
		r = append(r, prop{"State", int64(o.State)}, prop{"TransitionData", nil})
	case "State":
		r = append(r, prop{"DefaultStatus", int64(o.DefaultStatus)}, prop{"InvariantName", o.Label})
	}
	return r
}
