package webapi

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// FuzzSplitValidJSON: on any valid JSON, the bulk actions' scanner agrees with encoding/json:
// an array's items are its elements, and an object's members are the names and values the
// Decoder-based readObject finds (a duplicate or a non-object refused by both).
func FuzzSplitValidJSON(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"b":"x\"}","c":[1,{"d":"]"}],"e":null,"f":true}`,
		`[{"@odata.type":"Microsoft.Dynamics.CRM.contact","lastname":"A"}, 7, "s", [], {}]`,
		` { "n\u0061me" : -1.5e3 , "x":{"y":[]}} `,
		`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `[]`, `null`, `"x"`, `[ 1 , 2 ]`,
	} {
		f.Add([]byte(s))
	}
	t := &schema.Table{LogicalName: "contact"}
	f.Fuzz(func(tt *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		if items, ok := splitValidArray(data); ok {
			var want []json.RawMessage
			if err := json.Unmarshal(data, &want); err != nil {
				tt.Fatalf("split an array encoding/json refuses: %v", err)
			}
			if len(items) != len(want) {
				tt.Fatalf("%d items, want %d", len(items), len(want))
			}
			for i := range items {
				if !bytes.Equal(items[i], bytes.TrimSpace(want[i])) {
					tt.Fatalf("item %d = %q, want %q", i, items[i], want[i])
				}
			}
		}
		got, err := splitValidObject(data)
		want, werr := readObject(t, data)
		switch {
		case err != nil:
			if werr == nil {
				tt.Fatalf("split refused (%v) what readObject reads", err)
			}
			return
		case werr != nil:
			tt.Fatalf("split read %d members of what readObject refuses: %v", len(got), werr)
		}
		if len(got) != len(want) {
			tt.Fatalf("%d members, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].name != want[i].name || !bytes.Equal(got[i].value, want[i].value) {
				tt.Fatalf("member %d = %q:%q, want %q:%q", i, got[i].name, got[i].value, want[i].name, want[i].value)
			}
		}
	})
}

// FuzzReadBulkObject: on any body, valid JSON or not, readBulkObject answers what readObject
// answers: the same members in the same order, or the same error.
func FuzzReadBulkObject(f *testing.F) {
	for _, s := range []string{
		`{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.contact","lastname":"A"}]}`,
		`{"Targets":[],"Targets":[]}`, `{"Targets":null}`, `[]`, `"x"`, ``, `{`, `{} {}`, `{"a":1}x`,
		` {"T\u0061rgets" : [ {"a":"\u00e9"} ] } `, "{\"a\":\"\xff\"}", `{"a":"b"`, "\xef\xbb\xbf{}",
	} {
		f.Add([]byte(s))
	}
	t := &schema.Table{LogicalName: "contact"}
	f.Fuzz(func(tt *testing.T, data []byte) {
		got, err := readBulkObject(t, data)
		want, werr := readObject(t, data)
		if (err == nil) != (werr == nil) || (err != nil && err.Error() != werr.Error()) {
			tt.Fatalf("readBulkObject error %v, readObject error %v", err, werr)
		}
		if len(got) != len(want) {
			tt.Fatalf("%d members, want %d", len(got), len(want))
		}
		for i := range got {
			if got[i].name != want[i].name || !bytes.Equal(got[i].value, want[i].value) {
				tt.Fatalf("member %d = %q:%q, want %q:%q", i, got[i].name, got[i].value, want[i].name, want[i].value)
			}
		}
	})
}

// FuzzDecodeString: on any bytes, decodeString decodes what json.Unmarshal into a string
// decodes, and refuses what it refuses.
func FuzzDecodeString(f *testing.F) {
	for _, s := range []string{
		`"plain"`, `"Item 1 «ünïcode» \"quoted\""`, `"a\u0000b"`, "\"tab\there\"", "\"\xff\"", `"`, `""`,
		`"a"b"`, `"\"`, `7`, `null`, ` "x" `, `"\ud800"`, `"/\/"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(tt *testing.T, data []byte) {
		var got, want string
		err := decodeString(data, &got)
		werr := json.Unmarshal(data, &want)
		if (err == nil) != (werr == nil) || got != want {
			tt.Fatalf("decodeString(%q) = %q, %v; json.Unmarshal gives %q, %v", data, got, err, want, werr)
		}
	})
}
