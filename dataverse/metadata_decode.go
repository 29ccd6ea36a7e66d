package dataverse

import (
	"sort"
	"strings"
)

// entityDefinitionsResponse is the body of GET EntityDefinitions?$filter=…
// with Attributes, Keys and ManyToOneRelationships expanded. Unknown
// properties (new ones arrive every release) are ignored.
type entityDefinitionsResponse struct {
	Value []entityDefinition `json:"value"`
}

// entityDefinition is one EntityMetadata as TableMetadata reads it.
type entityDefinition struct {
	LogicalName            string                `json:"LogicalName"`
	SchemaName             string                `json:"SchemaName"`
	EntitySetName          string                `json:"EntitySetName"`
	PrimaryIDAttribute     string                `json:"PrimaryIdAttribute"`
	PrimaryNameAttribute   *string               `json:"PrimaryNameAttribute"`
	Attributes             []attributeDefinition `json:"Attributes"`
	Keys                   []keyDefinition       `json:"Keys"`
	ManyToOneRelationships []manyToOneDefinition `json:"ManyToOneRelationships"`
}

// attributeDefinition is one AttributeMetadata (any derived type).
type attributeDefinition struct {
	LogicalName       string       `json:"LogicalName"`
	SchemaName        string       `json:"SchemaName"`
	AttributeOf       *string      `json:"AttributeOf"`
	AttributeType     string       `json:"AttributeType"`
	AttributeTypeName *valueString `json:"AttributeTypeName"`
	DisplayName       *label       `json:"DisplayName"`
	RequiredLevel     *valueString `json:"RequiredLevel"`
	IsPrimaryID       *bool        `json:"IsPrimaryId"`
	IsPrimaryName     *bool        `json:"IsPrimaryName"`
	IsValidForCreate  *bool        `json:"IsValidForCreate"`
	IsValidForUpdate  *bool        `json:"IsValidForUpdate"`
	IsValidForRead    *bool        `json:"IsValidForRead"`
	MaxLength         *int         `json:"MaxLength"`
	Targets           []string     `json:"Targets"`
	Format            *string      `json:"Format"`
	DateTimeBehavior  *valueString `json:"DateTimeBehavior"`
}

// valueString is a single-member wrapper such as {"Value":"PicklistType"}.
type valueString struct {
	Value string `json:"Value"`
}

// label is a Label: the localized texts of a display name or description.
// Its UserLocalizedLabel is the text in the caller's language.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/label
type label struct {
	UserLocalizedLabel *localizedLabel  `json:"UserLocalizedLabel"`
	LocalizedLabels    []localizedLabel `json:"LocalizedLabels"`
}

// localizedLabel is one LocalizedLabel.
type localizedLabel struct {
	Label        string `json:"Label"`
	LanguageCode int    `json:"LanguageCode"`
}

// text is the user's label, else the first localized one, else "".
func (l *label) text() string {
	switch {
	case l == nil:
		return ""
	case l.UserLocalizedLabel != nil && l.UserLocalizedLabel.Label != "":
		return l.UserLocalizedLabel.Label
	case len(l.LocalizedLabels) > 0:
		return l.LocalizedLabels[0].Label
	}
	return ""
}

// keyDefinition is one EntityKeyMetadata.
type keyDefinition struct {
	LogicalName          string   `json:"LogicalName"`
	SchemaName           string   `json:"SchemaName"`
	KeyAttributes        []string `json:"KeyAttributes"`
	EntityKeyIndexStatus string   `json:"EntityKeyIndexStatus"`
}

// manyToOneDefinition is one OneToManyRelationshipMetadata seen from its
// referencing (many) side.
type manyToOneDefinition struct {
	SchemaName                              string `json:"SchemaName"`
	ReferencedEntity                        string `json:"ReferencedEntity"`
	ReferencingAttribute                    string `json:"ReferencingAttribute"`
	ReferencingEntityNavigationPropertyName string `json:"ReferencingEntityNavigationPropertyName"`
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// tableMetadata converts the wire shape. full says whether Keys and
// ManyToOneRelationships were expanded; otherwise lookups are derived from
// the lookup columns.
func (d *entityDefinition) tableMetadata(full bool) *TableMetadata {
	md := &TableMetadata{
		LogicalName:          d.LogicalName,
		SchemaName:           d.SchemaName,
		EntitySetName:        d.EntitySetName,
		PrimaryIDAttribute:   d.PrimaryIDAttribute,
		PrimaryNameAttribute: deref(d.PrimaryNameAttribute),
		Columns:              make([]ColumnMetadata, 0, len(d.Attributes)),
		KeysKnown:            full,
		LookupsDerived:       !full,
		columnIndex:          make(map[string]int, len(d.Attributes)),
	}
	for _, a := range d.Attributes {
		c := ColumnMetadata{
			LogicalName:      a.LogicalName,
			SchemaName:       a.SchemaName,
			AttributeOf:      deref(a.AttributeOf),
			AttributeType:    a.AttributeType,
			IsPrimaryID:      deref(a.IsPrimaryID) || a.LogicalName == d.PrimaryIDAttribute,
			IsPrimaryName:    deref(a.IsPrimaryName),
			IsValidForCreate: deref(a.IsValidForCreate),
			IsValidForUpdate: deref(a.IsValidForUpdate),
			IsValidForRead:   deref(a.IsValidForRead),
			MaxLength:        deref(a.MaxLength),
			Targets:          a.Targets,
		}
		if a.AttributeTypeName != nil {
			c.AttributeTypeName = a.AttributeTypeName.Value
		}
		if a.RequiredLevel != nil {
			c.RequiredLevel = a.RequiredLevel.Value
		}
		c.DisplayName = a.DisplayName.text()
		if a.AttributeType == "DateTime" {
			c.DateTimeFormat = deref(a.Format)
			if a.DateTimeBehavior != nil {
				c.DateTimeBehavior = a.DateTimeBehavior.Value
			}
		}
		md.columnIndex[strings.ToLower(c.LogicalName)] = len(md.Columns)
		md.Columns = append(md.Columns, c)
	}
	for _, k := range d.Keys {
		if !full {
			break
		}
		md.Keys = append(md.Keys, KeyMetadata{Name: k.SchemaName, LogicalName: k.LogicalName, KeyAttributes: k.KeyAttributes, IndexStatus: k.EntityKeyIndexStatus})
	}
	if full {
		for _, r := range d.ManyToOneRelationships {
			if r.ReferencingEntityNavigationPropertyName == "" {
				continue
			}
			md.Lookups = append(md.Lookups, LookupMetadata{NavigationProperty: r.ReferencingEntityNavigationPropertyName, Attribute: r.ReferencingAttribute, Targets: []string{r.ReferencedEntity}})
		}
		md.fillTargets()
	} else {
		md.deriveLookups()
	}
	sort.SliceStable(md.Lookups, func(i, j int) bool { return md.Lookups[i].NavigationProperty < md.Lookups[j].NavigationProperty })
	return md
}

// fillTargets gives a lookup column without Targets (a service that did
// not send the derived property) the targets of its relationships.
func (t *TableMetadata) fillTargets() {
	for i := range t.Columns {
		c := &t.Columns[i]
		if !c.IsLookup() || len(c.Targets) > 0 {
			continue
		}
		for _, l := range t.Lookups {
			if l.Attribute == c.LogicalName {
				c.Targets = append(c.Targets, l.Targets...)
			}
		}
	}
}

// deriveLookups names the navigation property of each lookup column as
// Dataverse names system lookups: the column's logical name, or
// "<column>_<target>" per target for a polymorphic one.
func (t *TableMetadata) deriveLookups() {
	for _, c := range t.Columns {
		if !c.IsLookup() || len(c.Targets) == 0 {
			continue
		}
		if len(c.Targets) == 1 {
			t.Lookups = append(t.Lookups, LookupMetadata{NavigationProperty: c.LogicalName, Attribute: c.LogicalName, Targets: []string{c.Targets[0]}})
			continue
		}
		for _, target := range c.Targets {
			t.Lookups = append(t.Lookups, LookupMetadata{NavigationProperty: c.LogicalName + "_" + target, Attribute: c.LogicalName, Targets: []string{target}})
		}
	}
}
