package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestBuildBatchRefusals: each mistake in an operations file is named with its operation's index
// before anything is sent.
func TestBuildBatchRefusals(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ ops, want string }{
		{`[{"method":"GET","url":""}]`, "operation 0: url is empty"},
		{`[{"method":"","url":"x"}]`, `operation 0: method "" is not GET`},
		{`[{"method":"POST","url":"a","contentId":"x"}]`, `operation 0: contentId "x" needs a change set`},
		{`[{"method":"POST","url":"a","changeset":"c","contentId":"x"},{"method":"POST","url":"a","changeset":"c","contentId":"x"}]`, `operation 1: contentId "x" is used twice`},
		{`[{"method":"POST","url":"a","headers":{"authorization":"x"}}]`, "operation 0: headers: Authorization is sent by d365"},
		{`[{"method":"POST","url":"a","changeset":"c"},{"method":"POST","url":"a","changeset":"d"},{"method":"POST","url":"a","changeset":"c"}]`, `operation 2: change set "c" was already closed`},
	} {
		ops, err := parseBatchOperations([]byte(tt.ops))
		if err == nil {
			_, err = buildBatch(ops)
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.ops, err, tt.want)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{`{`, "not valid JSON at byte"},
		{`{"a":1}`, "not a JSON array of operations"},
		{`[]`, "the list of operations is empty"},
		{`[{"method":"GET","url":"x","bdy":{}}]`, `operation 0: json: unknown field "bdy"`},
		{`[1]`, "operation 0:"},
	} {
		if _, err := parseBatchOperations([]byte(tt.in)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("parseBatchOperations(%s): err = %v, want %q", tt.in, err, tt.want)
		}
	}
}

// TestSubstituteRefs: "$name" at the start of a url or as a body member's value becomes the
// Content-ID reference of the named operation; anything else is left alone.
func TestSubstituteRefs(t *testing.T) {
	t.Parallel()
	refs := map[string]string{"acct": "$1", "c": "$2"}
	for in, want := range map[string]string{
		"$acct":           "$1",
		"$acct/name":      "$1/name",
		"$c/x/y":          "$2/x/y",
		"$other":          "$other",
		"accounts":        "accounts",
		"$metadata":       "$metadata",
		"accounts($acct)": "accounts($acct)",
	} {
		if got := substituteRef(in, refs); got != want {
			t.Errorf("substituteRef(%q) = %q, want %q", in, got, want)
		}
	}
	body, err := substituteBodyRefs(json.RawMessage(`{"a@odata.bind":"$acct","n":"$nope","k":1,"s":"text"}`), refs)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"a@odata.bind":"$1","n":"$nope","k":1,"s":"text"}`; string(body) != want {
		t.Errorf("body = %s, want %s", body, want)
	}
}
