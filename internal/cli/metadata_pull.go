package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// The JSON shapes of Dataverse's table metadata as Microsoft documents them (EntityMetadata,
// AttributeMetadata and its derived types, OptionSetMetadata, EntityKeyMetadata,
// OneToManyRelationshipMetadata, ManyToManyRelationshipMetadata):
// https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api
// Only the properties the schema file needs are read; unknown ones are ignored, as new ones
// appear every release.

type mdLocalizedLabel struct {
	Label        string `json:"Label"`
	LanguageCode int    `json:"LanguageCode"`
}

type mdLabel struct {
	LocalizedLabels    []mdLocalizedLabel `json:"LocalizedLabels"`
	UserLocalizedLabel *mdLocalizedLabel  `json:"UserLocalizedLabel"`
}

// text is the label in the caller's language, else the English (1033) one, else the first.
func (l *mdLabel) text() string {
	if l == nil {
		return ""
	}
	if l.UserLocalizedLabel != nil {
		return l.UserLocalizedLabel.Label
	}
	for _, ll := range l.LocalizedLabels {
		if ll.LanguageCode == 1033 {
			return ll.Label
		}
	}
	if len(l.LocalizedLabels) > 0 {
		return l.LocalizedLabels[0].Label
	}
	return ""
}

type mdValue struct {
	Value string `json:"Value"`
}

type mdEntity struct {
	LogicalName           string   `json:"LogicalName"`
	SchemaName            string   `json:"SchemaName"`
	EntitySetName         string   `json:"EntitySetName"`
	DisplayName           *mdLabel `json:"DisplayName"`
	DisplayCollectionName *mdLabel `json:"DisplayCollectionName"`
	Description           *mdLabel `json:"Description"`
	ObjectTypeCode        *int     `json:"ObjectTypeCode"`
	PrimaryIDAttribute    string   `json:"PrimaryIdAttribute"`
	PrimaryNameAttribute  *string  `json:"PrimaryNameAttribute"`
	OwnershipType         string   `json:"OwnershipType"`
	IsActivity            *bool    `json:"IsActivity"`
	ChangeTrackingEnabled *bool    `json:"ChangeTrackingEnabled"`
}

type mdAttribute struct {
	ODataType         string   `json:"@odata.type"`
	LogicalName       string   `json:"LogicalName"`
	SchemaName        string   `json:"SchemaName"`
	AttributeType     string   `json:"AttributeType"`
	AttributeTypeName *mdValue `json:"AttributeTypeName"`
	AttributeOf       *string  `json:"AttributeOf"`
	IsPrimaryID       *bool    `json:"IsPrimaryId"`
	DisplayName       *mdLabel `json:"DisplayName"`
	Description       *mdLabel `json:"Description"`
	RequiredLevel     *mdValue `json:"RequiredLevel"`
	IsValidForCreate  *bool    `json:"IsValidForCreate"`
	IsValidForUpdate  *bool    `json:"IsValidForUpdate"`
	IsValidForRead    *bool    `json:"IsValidForRead"`
	MaxLength         *int     `json:"MaxLength"`
	MinValue          *float64 `json:"MinValue"`
	MaxValue          *float64 `json:"MaxValue"`
	Precision         *int     `json:"Precision"`
	Format            *string  `json:"Format"`
	DateTimeBehavior  *mdValue `json:"DateTimeBehavior"`
	Targets           []string `json:"Targets"`
	DefaultFormValue  *int64   `json:"DefaultFormValue"`
	DefaultValue      any      `json:"DefaultValue"`
	MaxSizeInKB       *int     `json:"MaxSizeInKB"`
	IsBaseCurrency    *bool    `json:"IsBaseCurrency"`
	CanStoreFullImage *bool    `json:"CanStoreFullImage"`
}

type mdOption struct {
	Value         int      `json:"Value"`
	Label         *mdLabel `json:"Label"`
	Description   *mdLabel `json:"Description"`
	Color         *string  `json:"Color"`
	State         *int     `json:"State"`
	DefaultStatus *int     `json:"DefaultStatus"`
}

type mdOptionSet struct {
	Name        string     `json:"Name"`
	IsGlobal    *bool      `json:"IsGlobal"`
	DisplayName *mdLabel   `json:"DisplayName"`
	Description *mdLabel   `json:"Description"`
	Options     []mdOption `json:"Options"`
	TrueOption  *mdOption  `json:"TrueOption"`
	FalseOption *mdOption  `json:"FalseOption"`
}

// mdChoiceAttribute is an attribute read through a cast with its option set expanded.
type mdChoiceAttribute struct {
	LogicalName     string       `json:"LogicalName"`
	OptionSet       *mdOptionSet `json:"OptionSet"`
	GlobalOptionSet *mdOptionSet `json:"GlobalOptionSet"`
}

type mdKey struct {
	SchemaName           string   `json:"SchemaName"`
	KeyAttributes        []string `json:"KeyAttributes"`
	EntityKeyIndexStatus string   `json:"EntityKeyIndexStatus"`
}

type mdCascade struct {
	Delete string `json:"Delete"`
}

type mdOneToMany struct {
	SchemaName                              string     `json:"SchemaName"`
	ReferencedEntity                        string     `json:"ReferencedEntity"`
	ReferencingEntity                       string     `json:"ReferencingEntity"`
	ReferencingAttribute                    string     `json:"ReferencingAttribute"`
	ReferencedEntityNavigationPropertyName  string     `json:"ReferencedEntityNavigationPropertyName"`
	ReferencingEntityNavigationPropertyName string     `json:"ReferencingEntityNavigationPropertyName"`
	CascadeConfiguration                    *mdCascade `json:"CascadeConfiguration"`
}

type mdManyToMany struct {
	SchemaName                    string `json:"SchemaName"`
	Entity1LogicalName            string `json:"Entity1LogicalName"`
	Entity2LogicalName            string `json:"Entity2LogicalName"`
	IntersectEntityName           string `json:"IntersectEntityName"`
	Entity1IntersectAttribute     string `json:"Entity1IntersectAttribute"`
	Entity2IntersectAttribute     string `json:"Entity2IntersectAttribute"`
	Entity1NavigationPropertyName string `json:"Entity1NavigationPropertyName"`
	Entity2NavigationPropertyName string `json:"Entity2NavigationPropertyName"`
}

// pulledTable is everything read about one table.
type pulledTable struct {
	Entity      mdEntity
	Attributes  []mdAttribute
	Choices     map[string]*mdOptionSet // by attribute logical name
	Keys        []mdKey
	OneToMany   []mdOneToMany // both directions: the table referenced or referencing
	ManyToMany  []mdManyToMany
	RequestPath []string // the requests made, for messages
}

// metadataGetter sends a GET relative to the Web API base and decodes the JSON answer.
type metadataGetter func(ctx context.Context, path string, out any) error

// clientMetadataGetter reads through the Dataverse client (token, retries, throttling).
func clientMetadataGetter(c *dataverse.Client) metadataGetter {
	return func(ctx context.Context, path string, out any) error {
		resp, err := c.Do(ctx, http.MethodGet, path, nil, nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("GET %s: %w", path, err)
		}
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("GET %s: the answer is not the documented metadata JSON: %w", path, err)
		}
		return nil
	}
}

// entitySelect are the EntityMetadata properties the schema file needs.
const entitySelect = "LogicalName,SchemaName,EntitySetName,DisplayName,DisplayCollectionName,Description," +
	"ObjectTypeCode,PrimaryIdAttribute,PrimaryNameAttribute,OwnershipType,IsActivity,ChangeTrackingEnabled"

// choiceCasts are the attribute types whose options are read through a cast, each with what to
// expand: a local choice may use a global option set instead of its own.
var choiceCasts = []struct {
	attributeType, cast, expand string
}{
	{"Picklist", "PicklistAttributeMetadata", "OptionSet,GlobalOptionSet"},
	{"MultiSelectPicklist", "MultiSelectPicklistAttributeMetadata", "OptionSet,GlobalOptionSet"},
	{"State", "StateAttributeMetadata", "OptionSet"},
	{"Status", "StatusAttributeMetadata", "OptionSet"},
	{"Boolean", "BooleanAttributeMetadata", "OptionSet"},
}

// pullTable reads one table's definition, columns, choices, keys and relationships.
func pullTable(ctx context.Context, get metadataGetter, logicalName string) (*pulledTable, error) {
	base := "EntityDefinitions(LogicalName='" + url.PathEscape(logicalName) + "')"
	p := &pulledTable{Choices: map[string]*mdOptionSet{}}
	if err := get(ctx, base+"?$select="+entitySelect, &p.Entity); err != nil {
		return nil, fmt.Errorf("table %s: %w", logicalName, err)
	}
	var attrs struct {
		Value []mdAttribute `json:"value"`
	}
	if err := get(ctx, base+"/Attributes", &attrs); err != nil {
		return nil, fmt.Errorf("table %s: columns: %w", logicalName, err)
	}
	p.Attributes = attrs.Value
	for _, cc := range choiceCasts {
		if !slices.ContainsFunc(p.Attributes, func(a mdAttribute) bool { return columnKind(a) == cc.attributeType }) {
			continue
		}
		var choices struct {
			Value []mdChoiceAttribute `json:"value"`
		}
		path := base + "/Attributes/Microsoft.Dynamics.CRM." + cc.cast + "?$select=LogicalName&$expand=" + cc.expand
		if err := get(ctx, path, &choices); err != nil {
			return nil, fmt.Errorf("table %s: %s choices: %w", logicalName, cc.attributeType, err)
		}
		for _, c := range choices.Value {
			set := c.OptionSet
			if set == nil {
				set = c.GlobalOptionSet
			}
			if set != nil {
				p.Choices[c.LogicalName] = set
			}
		}
	}
	var keys struct {
		Value []mdKey `json:"value"`
	}
	if err := get(ctx, base+"/Keys?$select=SchemaName,KeyAttributes,EntityKeyIndexStatus", &keys); err != nil {
		return nil, fmt.Errorf("table %s: keys: %w", logicalName, err)
	}
	p.Keys = keys.Value
	for _, nav := range []string{"OneToManyRelationships", "ManyToOneRelationships"} {
		var rels struct {
			Value []mdOneToMany `json:"value"`
		}
		if err := get(ctx, base+"/"+nav, &rels); err != nil {
			return nil, fmt.Errorf("table %s: %s: %w", logicalName, nav, err)
		}
		p.OneToMany = append(p.OneToMany, rels.Value...)
	}
	var m2m struct {
		Value []mdManyToMany `json:"value"`
	}
	if err := get(ctx, base+"/ManyToManyRelationships", &m2m); err != nil {
		return nil, fmt.Errorf("table %s: ManyToManyRelationships: %w", logicalName, err)
	}
	p.ManyToMany = m2m.Value
	return p, nil
}

// columnKind is the schema file's type of an attribute ("" when it has none): AttributeType,
// except that a multi-select choice reports Virtual and is told by its AttributeTypeName or its
// derived type.
func columnKind(a mdAttribute) string {
	if a.AttributeType == "Virtual" {
		typeName := ""
		if a.AttributeTypeName != nil {
			typeName = a.AttributeTypeName.Value
		}
		switch {
		case typeName == "MultiSelectPicklistType" || strings.HasSuffix(a.ODataType, ".MultiSelectPicklistAttributeMetadata"):
			return "MultiSelectPicklist"
		case typeName == "FileType" || strings.HasSuffix(a.ODataType, ".FileAttributeMetadata"):
			return "File"
		case typeName == "ImageType" || strings.HasSuffix(a.ODataType, ".ImageAttributeMetadata"):
			return "Image"
		}
		return ""
	}
	switch a.AttributeType {
	case "String", "Memo", "Integer", "BigInt", "Decimal", "Double", "Money", "Boolean", "DateTime",
		"Picklist", "State", "Status", "Lookup", "Customer", "Owner", "Uniqueidentifier":
		return a.AttributeType
	}
	return ""
}

// systemColumns are the columns the emulator adds to every table itself (a schema file may not
// declare them).
var systemColumns = map[string]bool{
	"createdon": true, "modifiedon": true, "createdby": true, "modifiedby": true,
	"createdonbehalfby": true, "modifiedonbehalfby": true, "versionnumber": true,
	"ownerid": true, "owneridtype": true, "owninguser": true, "owningteam": true, "owningbusinessunit": true,
}

// systemLookups are the lookups behind the system relationships the emulator names itself.
var systemLookups = map[string]bool{
	"createdby": true, "modifiedby": true, "createdonbehalfby": true, "modifiedonbehalfby": true,
	"ownerid": true, "owninguser": true, "owningteam": true, "owningbusinessunit": true,
}

// pullReport says what a pull wrote and what it left out, and why.
type pullReport struct {
	Tables, Columns, Choices, Keys, Relationships int
	Skipped                                       []string
}

func (r *pullReport) skip(format string, args ...any) {
	r.Skipped = append(r.Skipped, fmt.Sprintf(format, args...))
}

// toSchemaDefinition writes pulled tables in the emulator's schema file format. Tables the
// emulator has built in contribute only the columns and keys it lacks; a lookup keeps the
// targets that are pulled or built in; a relationship is kept when every table it joins is.
func toSchemaDefinition(pulled []*pulledTable, builtin *emulator.SchemaDefinition) (*emulator.SchemaDefinition, *pullReport) {
	report := &pullReport{}
	builtinTables := map[string]*emulator.TableDefinition{}
	for i := range builtin.Tables {
		builtinTables[builtin.Tables[i].LogicalName] = &builtin.Tables[i]
	}
	builtinRels := map[string]bool{}
	for _, r := range builtin.Relationships {
		builtinRels[r.SchemaName] = true
	}
	known := map[string]bool{}
	for name := range builtinTables {
		known[name] = true
	}
	for _, p := range pulled {
		known[p.Entity.LogicalName] = true
	}
	def := &emulator.SchemaDefinition{}
	written := map[string]map[string]bool{} // table -> columns written or built in
	globals := map[string]*mdOptionSet{}
	for _, p := range pulled {
		t, cols := tableDefinition(p, builtinTables[p.Entity.LogicalName], known, globals, report)
		written[p.Entity.LogicalName] = cols
		if len(t.Columns) > 0 || len(t.Keys) > 0 || builtinTables[t.LogicalName] == nil {
			def.Tables = append(def.Tables, t)
		} else {
			report.skip("table %s: built into the emulator with every column and key pulled; nothing to add", t.LogicalName)
		}
		report.Tables++
	}
	builtinSets := map[string]bool{}
	for _, o := range builtin.OptionSets {
		builtinSets[o.Name] = true
	}
	for _, name := range slices.Sorted(maps.Keys(globals)) {
		if builtinSets[name] {
			continue
		}
		set := globals[name]
		def.OptionSets = append(def.OptionSets, emulator.OptionSetDefinition{
			Name: name, DisplayName: set.DisplayName.text(), Description: set.Description.text(), Options: optionDefinitions(set),
		})
	}
	seen := map[string]bool{}
	for _, p := range pulled {
		for _, r := range p.OneToMany {
			if seen[r.SchemaName] || builtinRels[r.SchemaName] || systemLookups[r.ReferencingAttribute] {
				continue
			}
			seen[r.SchemaName] = true
			switch {
			case !known[r.ReferencedEntity] || !known[r.ReferencingEntity]:
				report.skip("relationship %s: it joins %s and %s; pull both (or use a built-in table) to keep it", r.SchemaName, r.ReferencedEntity, r.ReferencingEntity)
				continue
			case written[r.ReferencingEntity] == nil && builtinTables[r.ReferencingEntity] != nil:
				// A built-in table that was not pulled: its lookups are the built-in ones.
				report.skip("relationship %s: its lookup %s.%s is not in the file; pull %s to keep it", r.SchemaName, r.ReferencingEntity, r.ReferencingAttribute, r.ReferencingEntity)
				continue
			case !written[r.ReferencingEntity][r.ReferencingAttribute]:
				continue // the lookup was skipped, and said why
			}
			rd := emulator.RelationshipDefinition{
				SchemaName:            r.SchemaName,
				ReferencedEntity:      r.ReferencedEntity,
				ReferencingEntity:     r.ReferencingEntity,
				ReferencingAttribute:  r.ReferencingAttribute,
				ReferencingNavigation: r.ReferencingEntityNavigationPropertyName,
				ReferencedNavigation:  r.ReferencedEntityNavigationPropertyName,
			}
			if r.CascadeConfiguration != nil {
				rd.CascadeDelete = r.CascadeConfiguration.Delete
			}
			def.Relationships = append(def.Relationships, rd)
			report.Relationships++
		}
		for _, r := range p.ManyToMany {
			if seen[r.SchemaName] || builtinRels[r.SchemaName] {
				continue
			}
			seen[r.SchemaName] = true
			if !known[r.Entity1LogicalName] || !known[r.Entity2LogicalName] {
				report.skip("relationship %s: it joins %s and %s; pull both (or use a built-in table) to keep it", r.SchemaName, r.Entity1LogicalName, r.Entity2LogicalName)
				continue
			}
			def.Relationships = append(def.Relationships, emulator.RelationshipDefinition{
				SchemaName:                r.SchemaName,
				Type:                      "ManyToMany",
				Entity1:                   r.Entity1LogicalName,
				Entity2:                   r.Entity2LogicalName,
				IntersectEntity:           r.IntersectEntityName,
				Entity1IntersectAttribute: r.Entity1IntersectAttribute,
				Entity2IntersectAttribute: r.Entity2IntersectAttribute,
				Entity1Navigation:         r.Entity1NavigationPropertyName,
				Entity2Navigation:         r.Entity2NavigationPropertyName,
			})
			report.Relationships++
		}
	}
	return def, report
}

// tableDefinition converts one table; cols are the columns the emulator will have (written or
// built in).
func tableDefinition(p *pulledTable, builtin *emulator.TableDefinition, known map[string]bool, globals map[string]*mdOptionSet, report *pullReport) (emulator.TableDefinition, map[string]bool) {
	e := p.Entity
	t := emulator.TableDefinition{LogicalName: e.LogicalName}
	cols := map[string]bool{}
	builtinKeys := map[string]bool{}
	if builtin != nil {
		for _, c := range builtin.Columns {
			cols[c.LogicalName] = true
		}
		for _, k := range builtin.Keys {
			builtinKeys[k.SchemaName] = true
		}
		if builtin.StateColumns == nil || *builtin.StateColumns {
			// The emulator adds the standard pair to such a built-in table itself.
			cols["statecode"], cols["statuscode"] = true, true
		}
	} else {
		t.SchemaName = e.SchemaName
		t.EntitySetName = e.EntitySetName
		t.DisplayName = e.DisplayName.text()
		t.DisplayCollectionName = e.DisplayCollectionName.text()
		t.Description = e.Description.text()
		if e.ObjectTypeCode != nil {
			t.ObjectTypeCode = *e.ObjectTypeCode
		}
		if e.PrimaryIDAttribute != "" && e.PrimaryIDAttribute != e.LogicalName+"id" {
			t.PrimaryIDColumn = e.PrimaryIDAttribute
		}
		if e.PrimaryNameAttribute != nil {
			t.PrimaryNameColumn = *e.PrimaryNameAttribute
		}
		switch e.OwnershipType {
		case "UserOwned", "OrganizationOwned", "BusinessOwned", "None", "":
			t.Ownership = e.OwnershipType
		default:
			report.skip("table %s: ownership %s is written as UserOwned, the nearest the emulator has", e.LogicalName, e.OwnershipType)
			t.Ownership = "UserOwned"
		}
		t.Activity = e.IsActivity != nil && *e.IsActivity
		t.ChangeTracking = e.ChangeTrackingEnabled != nil && *e.ChangeTrackingEnabled
	}
	for _, a := range p.Attributes {
		name := a.LogicalName
		if cols[name] && builtin != nil {
			continue // the built-in table has it
		}
		if (a.IsPrimaryID != nil && *a.IsPrimaryID) || name == e.PrimaryIDAttribute {
			cols[name] = true
			continue
		}
		if systemColumns[name] {
			cols[name] = true
			continue
		}
		if (a.AttributeOf != nil && *a.AttributeOf != "") || (a.IsBaseCurrency != nil && *a.IsBaseCurrency) {
			continue // a column derived from another (a lookup's name, a choice's label, a money column's base-currency value)
		}
		kind := columnKind(a)
		if kind == "" || kind == "Owner" {
			if a.AttributeType != "EntityName" { // a polymorphic lookup's type column comes with it
				report.skip("column %s.%s: type %s has no equivalent in the emulator's schema files", e.LogicalName, name, attributeTypeText(a))
			}
			continue
		}
		if kind == "Uniqueidentifier" {
			report.skip("column %s.%s: a Uniqueidentifier column other than the primary key has no equivalent in the emulator's schema files", e.LogicalName, name)
			continue
		}
		c, ok := columnDefinition(e.LogicalName, a, p.Choices[name], known, globals, report)
		if !ok {
			continue
		}
		if (name == "statecode" || name == "statuscode") && builtin == nil && isStandardState(p) {
			cols[name] = true
			continue // the emulator adds the standard Active/Inactive pair itself
		}
		t.Columns = append(t.Columns, c)
		cols[name] = true
		report.Columns++
		if len(c.Options) > 0 || c.OptionSetName != "" || kind == "Boolean" {
			report.Choices++
		}
	}
	for _, k := range p.Keys {
		if builtinKeys[k.SchemaName] {
			continue
		}
		if k.EntityKeyIndexStatus != "" && k.EntityKeyIndexStatus != "Active" {
			report.skip("key %s.%s: its index is %s, not Active", e.LogicalName, k.SchemaName, k.EntityKeyIndexStatus)
			continue
		}
		missing := slices.IndexFunc(k.KeyAttributes, func(c string) bool { return !cols[c] })
		if missing >= 0 {
			report.skip("key %s.%s: its column %s is not in the file", e.LogicalName, k.SchemaName, k.KeyAttributes[missing])
			continue
		}
		t.Keys = append(t.Keys, emulator.KeyDefinition{SchemaName: k.SchemaName, Columns: append([]string(nil), k.KeyAttributes...)})
		report.Keys++
	}
	return t, cols
}

func attributeTypeText(a mdAttribute) string {
	if a.AttributeTypeName != nil && a.AttributeTypeName.Value != "" {
		return a.AttributeTypeName.Value
	}
	return a.AttributeType
}

// isStandardState reports whether statecode and statuscode are the pair the emulator adds by
// default: Active (0) with status 1, Inactive (1) with status 2.
func isStandardState(p *pulledTable) bool {
	state, status := p.Choices["statecode"], p.Choices["statuscode"]
	if state == nil || status == nil || len(state.Options) != 2 || len(status.Options) != 2 {
		return false
	}
	for i, o := range state.Options {
		if o.Value != i {
			return false
		}
	}
	for i, o := range status.Options {
		if o.Value != i+1 || o.State == nil || *o.State != i {
			return false
		}
	}
	return true
}

// columnDefinition converts one attribute and its choices.
func columnDefinition(table string, a mdAttribute, set *mdOptionSet, known map[string]bool, globals map[string]*mdOptionSet, report *pullReport) (emulator.ColumnDefinition, bool) {
	kind := columnKind(a)
	c := emulator.ColumnDefinition{
		LogicalName: a.LogicalName,
		SchemaName:  a.SchemaName,
		DisplayName: a.DisplayName.text(),
		Description: a.Description.text(),
		Type:        kind,
	}
	if a.RequiredLevel != nil && a.RequiredLevel.Value != "None" {
		c.RequiredLevel = a.RequiredLevel.Value
	}
	if a.IsValidForCreate != nil && !*a.IsValidForCreate {
		c.ValidForCreate = a.IsValidForCreate
	}
	if a.IsValidForUpdate != nil && !*a.IsValidForUpdate {
		c.ValidForUpdate = a.IsValidForUpdate
	}
	if a.IsValidForRead != nil && !*a.IsValidForRead {
		c.ValidForRead = a.IsValidForRead
	}
	switch kind {
	case "String", "Memo":
		if a.MaxLength != nil {
			c.MaxLength = *a.MaxLength
		}
	case "Integer", "BigInt", "Decimal", "Double", "Money":
		c.MinValue, c.MaxValue = a.MinValue, a.MaxValue
		if kind != "Integer" && kind != "BigInt" {
			c.Precision = a.Precision
		}
	case "DateTime":
		if a.DateTimeBehavior != nil {
			c.DateTimeBehavior = a.DateTimeBehavior.Value
		}
		if a.Format != nil && *a.Format == "DateOnly" {
			c.Format = "DateOnly"
		}
	case "Lookup", "Customer":
		for _, target := range a.Targets {
			if known[target] {
				c.Targets = append(c.Targets, target)
			} else {
				report.skip("column %s.%s: target %s is neither pulled nor built into the emulator; pull it to keep it", table, a.LogicalName, target)
			}
		}
		if len(c.Targets) == 0 {
			return c, false
		}
		if kind == "Customer" && len(c.Targets) != len(a.Targets) {
			c.Type = "Lookup"
		}
	case "Picklist", "MultiSelectPicklist", "State", "Status":
		if set == nil {
			report.skip("column %s.%s: its options could not be read", table, a.LogicalName)
			return c, false
		}
		if set.Name != "" && set.Name != table+"_"+a.LogicalName {
			c.OptionSetName = set.Name
		}
		if set.IsGlobal != nil && *set.IsGlobal && (kind == "Picklist" || kind == "MultiSelectPicklist") {
			globals[set.Name] = set // the options go to the file's optionSets, shared by name
		} else {
			c.Options = optionDefinitions(set)
		}
		if a.DefaultFormValue != nil && *a.DefaultFormValue != -1 && kind == "Picklist" {
			v := *a.DefaultFormValue
			c.DefaultValue = &v
		}
	case "File", "Image":
		if a.MaxSizeInKB != nil {
			c.MaxSizeInKB = *a.MaxSizeInKB
		}
		if kind == "Image" && a.CanStoreFullImage != nil && *a.CanStoreFullImage {
			c.CanStoreFullImage = a.CanStoreFullImage
		}
	case "Boolean":
		if set != nil {
			if set.TrueOption != nil {
				c.TrueLabel = set.TrueOption.Label.text()
			}
			if set.FalseOption != nil {
				c.FalseLabel = set.FalseOption.Label.text()
			}
		}
		if b, ok := a.DefaultValue.(bool); ok && b {
			one := int64(1)
			c.DefaultValue = &one
		}
	}
	return c, true
}

// optionDefinitions are a choice's options: value, label, colour, description, and the state a
// status belongs to or the default status of a state.
func optionDefinitions(set *mdOptionSet) []emulator.OptionDefinition {
	var out []emulator.OptionDefinition
	for _, o := range set.Options {
		d := emulator.OptionDefinition{Value: o.Value, Label: o.Label.text(), Description: o.Description.text(), State: o.State, DefaultStatus: o.DefaultStatus}
		if o.Color != nil {
			d.Color = *o.Color
		}
		out = append(out, d)
	}
	return out
}
