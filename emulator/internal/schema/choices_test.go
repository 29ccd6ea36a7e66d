package schema

import (
	"strings"
	"testing"
)

func TestGlobalChoicesAndOptionColours(t *testing.T) {
	t.Parallel()
	def, err := Parse([]byte(`
optionSets:
  - name: new_priority
    displayName: Priority
    options:
      - {value: 1, label: Low, color: "#00ff00"}
      - {value: 2, label: High, description: First}
tables:
  - logicalName: new_a
    changeTracking: true
    columns:
      - {logicalName: new_p, type: Picklist, optionSetName: new_priority}
      - {logicalName: new_q, type: MultiSelectPicklist, optionSetName: new_priority}
      - {logicalName: new_l, type: Picklist, options: [{value: 7, label: Seven, color: "#ABCDEF"}]}
`), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := WithBuiltin(def)
	if err != nil {
		t.Fatal(err)
	}
	global, ok := s.OptionSet("new_priority")
	if !ok || !global.Global || global.DisplayName != "Priority" || len(s.OptionSets()) != 1 {
		t.Fatalf("global choice %+v", global)
	}
	if o, _ := global.Option(1); o.Color != "#00ff00" || o.Label != "Low" {
		t.Errorf("option 1 = %+v", o)
	}
	if o, _ := global.Option(2); o.Description != "First" {
		t.Errorf("option 2 = %+v", o)
	}
	a, _ := s.Table("new_a")
	p, _ := a.Column("new_p")
	q, _ := a.Column("new_q")
	l, _ := a.Column("new_l")
	if p.OptionSet != global || q.OptionSet != global {
		t.Errorf("columns naming the global choice share it: %p %p %p", p.OptionSet, q.OptionSet, global)
	}
	if l.OptionSet.Global || l.OptionSet.Name != "new_a_new_l" || l.OptionSet.Options[0].Color != "#ABCDEF" {
		t.Errorf("local choice %+v", l.OptionSet)
	}
	if !a.ChangeTracking {
		t.Error("changeTracking: true is lost")
	}
}

func TestGlobalChoiceErrorsNameTheCulprit(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, yaml, says string }{
		{"options on a column of a global choice", `
optionSets: [{name: new_g, options: [{value: 1, label: A}]}]
tables: [{logicalName: new_a, columns: [{logicalName: new_c, type: Picklist, optionSetName: new_g, options: [{value: 2, label: B}]}]}]`,
			`table "new_a": column "new_c": optionSetName "new_g" is a global choice; remove the column's options`},
		{"global choice on a status column", `
optionSets: [{name: new_g, options: [{value: 1, label: A}]}]
tables: [{logicalName: new_a, columns: [{logicalName: statecode, type: State, optionSetName: new_g}, {logicalName: statuscode, type: Status, options: [{value: 1, label: A, state: 0}]}]}]`,
			`only Picklist and MultiSelectPicklist columns may use the global choice "new_g"`},
		{"twice", `optionSets: [{name: new_g, options: [{value: 1, label: A}]}, {name: new_g, options: [{value: 1, label: A}]}]`,
			`option set "new_g": defined twice`},
		{"bad name", `optionSets: [{name: New G, options: [{value: 1, label: A}]}]`,
			`option set "New G": name must be`},
		{"no options", `optionSets: [{name: new_g, options: []}]`, `option set "new_g": a global choice needs options`},
		{"bad colour", `optionSets: [{name: new_g, options: [{value: 1, label: A, color: red}]}]`,
			`option set "new_g": option 1: color "red" must be #rrggbb`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			def, err := Parse([]byte(tt.yaml), "x.yaml")
			if err != nil {
				t.Fatal(err)
			}
			_, err = WithBuiltin(def)
			if err == nil || !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %v, want one saying %q", err, tt.says)
			}
		})
	}
}
