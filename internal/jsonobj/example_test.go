package jsonobj_test

import (
	"fmt"

	"github.com/d365s2s/d365/internal/jsonobj"
)

// Numbers keep every digit, as json.Number; input Parse is not sure of is
// left to encoding/json.
func ExampleParse() {
	row, ok := jsonobj.Parse([]byte(`{"accountnumber":"A-1","revenue":12345678901234567.25,"numberofemployees":42}`))
	fmt.Println(ok, row["revenue"], row["numberofemployees"])

	_, ok = jsonobj.Parse([]byte(`{"name":"Contoso",}`))
	fmt.Println(ok)
	// Output:
	// true 12345678901234567.25 42
	// false
}

// The members come in document order, a repeated name as often as it is
// written (a decoder keeps the last); no map is built for the object.
func ExampleParseMembers() {
	members, null, ok := jsonobj.ParseMembers([]byte(`{"lastname":"Ada","numberofchildren":2,"lastname":"Ann"}`), nil)
	for _, m := range members {
		fmt.Println(m.Name, m.Value)
	}
	fmt.Println(null, ok)

	_, null, ok = jsonobj.ParseMembers([]byte(`null`), nil)
	fmt.Println(null, ok)
	// Output:
	// lastname Ada
	// numberofchildren 2
	// lastname Ann
	// false true
	// true true
}
