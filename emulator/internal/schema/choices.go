package schema

// OptionSetDefinition describes a global choice: an option set that
// several Picklist or MultiSelectPicklist columns share by naming it in
// their optionSetName (and declaring no options of their own):
//
//	optionSets:
//	  - name: new_priority
//	    displayName: Priority
//	    options:
//	      - {value: 100000000, label: Low, color: "#00ff00"}
//	      - {value: 100000001, label: High, color: "#ff0000"}
//	tables:
//	  - logicalName: new_project
//	    columns:
//	      - {logicalName: new_priority, type: Picklist, optionSetName: new_priority}
//
// GlobalOptionSetDefinitions lists them; see
// https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api.
type OptionSetDefinition struct {
	Name        string             `json:"name" yaml:"name"`
	DisplayName string             `json:"displayName,omitempty" yaml:"displayName,omitempty"`
	Description string             `json:"description,omitempty" yaml:"description,omitempty"`
	Options     []OptionDefinition `json:"options" yaml:"options"`
}

// OptionSets returns the global choices in definition order. The slice
// must not be modified.
func (s *Schema) OptionSets() []*OptionSet { return s.optionSets }

// OptionSet returns the global choice with the given name.
func (s *Schema) OptionSet(name string) (*OptionSet, bool) {
	o, ok := s.byOptionSet[name]
	return o, ok
}

// globalOptionSets compiles the global choices.
func (c *compiler) globalOptionSets(defs []OptionSetDefinition) {
	for i := range defs {
		d := &defs[i]
		where := func() string { return "option set " + quote(d.Name) }
		if !logicalNamePattern.MatchString(d.Name) {
			c.errorf("%s: name must be 1-64 lowercase letters, digits or underscores, starting with a letter", where())
			continue
		}
		if _, dup := c.s.byOptionSet[d.Name]; dup {
			c.errorf("%s: defined twice", where())
			continue
		}
		if len(d.Options) == 0 {
			c.errorf("%s: a global choice needs options", where())
		}
		set := c.options(where, d.Options, TypePicklist)
		set.Name, set.Global = d.Name, true
		set.DisplayName, set.Description = orDefault(d.DisplayName, d.Name), d.Description
		c.s.optionSets = append(c.s.optionSets, set)
		c.s.byOptionSet[d.Name] = set
	}
}
