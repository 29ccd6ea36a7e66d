package webapi

import (
	"encoding/json"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
)

// FuzzBulkDeleteCriteria: whatever FilterExpression a client sends, it is refused with an error
// or turned into $filter text that parses: a value can never change the filter's shape.
func FuzzBulkDeleteCriteria(f *testing.F) {
	for _, s := range []string{
		`{"FilterOperator":"And","Conditions":[{"AttributeName":"name","Operator":"Equal","Values":["O'Brien"]}]}`,
		`{"FilterOperator":1,"Conditions":[{"AttributeName":"numberofemployees","Operator":"In","Values":[1,2,{"Value":"3","Type":"System.Int32"}]}],"Filters":[{"Conditions":[{"AttributeName":"name","Operator":"Like","Values":["%a%"]}]}]}`,
		`{"Conditions":[{"AttributeName":"primarycontactid","Operator":"Null","Values":[]},{"AttributeName":"createdon","Operator":"GreaterThan","Values":["2024-01-01T00:00:00Z"]}]}`,
		`{"Conditions":[{"AttributeName":"name","Operator":"BeginsWith","Values":["a) or (name eq 'b"]}]}`,
		`{"Filters":[{"Filters":[{}]}]}`,
		`null`,
	} {
		f.Add(s)
	}
	account, _ := schema.Builtin().Table("account")
	f.Fuzz(func(t *testing.T, criteria string) {
		if !json.Valid([]byte(criteria)) {
			return
		}
		text, err := filterExpressionText(account, json.RawMessage(criteria), "Criteria")
		if err != nil {
			if _, ok := err.(*apiError); !ok {
				t.Fatalf("refusal %T %v is not an API error", err, err)
			}
			return
		}
		if text == "" {
			return
		}
		if _, err := odata.ParseFilter(text); err != nil {
			t.Fatalf("criteria %s became $filter %q, which does not parse: %v", criteria, text, err)
		}
	})
}
