package webapi

import (
	"bytes"
	"encoding/json"
	"io"
	"testing"
)

// referenceCost measures a valid JSON document with encoding/json's tokenizer.
func referenceCost(t *testing.T, data []byte) bodyCost {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var c bodyCost
	type frame struct {
		object  bool
		members int
		wantKey bool
	}
	var stack []frame
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return c
		}
		if err != nil {
			t.Fatalf("reference tokenizer: %v", err)
		}
		top := len(stack) - 1
		if d, ok := tok.(json.Delim); ok && (d == '}' || d == ']') {
			f := stack[top]
			if f.object {
				if top == 0 {
					c.topMembers = f.members
				} else {
					c.maxMembers = max(c.maxMembers, f.members)
				}
			}
			stack = stack[:top]
			if top > 0 && stack[top-1].object {
				stack[top-1].wantKey = true
			}
			continue
		}
		if top >= 0 && stack[top].object && stack[top].wantKey {
			// A key: the member is counted here, its value below.
			stack[top].members++
			stack[top].wantKey = false
			c.values++
			continue
		}
		c.values++
		if d, ok := tok.(json.Delim); ok {
			stack = append(stack, frame{object: d == '{', wantKey: d == '{'})
			c.depth = max(c.depth, len(stack))
			continue
		}
		if top >= 0 && stack[top].object {
			stack[top].wantKey = true
		}
	}
}

// FuzzScanBodyCost checks the byte scanner against encoding/json on valid documents (the same
// depth, values and members) and that it never panics on anything else.
func FuzzScanBodyCost(f *testing.F) {
	for _, seed := range []string{
		`{}`, `[]`, `{"a":1,"b":[1,2,{"c":"x\"}{[]"}],"d":{"e":null}}`, `{"Targets":[{"a":true},{"b":-1.5e3}]}`,
		`"just a string"`, `12`, `{"a":"\\"}`, `{"a":[[[[[]]]]]}`, `{"a":1`, `}}]]`, `{"k\u0041":"\\\"":1}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := scanBodyCost(data, maxBodyDepth, maxBodyValues)
		if !json.Valid(data) || got.stopped {
			return
		}
		want := referenceCost(t, data)
		got.stopped = false
		if got != want {
			t.Fatalf("scanBodyCost(%q) = %+v, encoding/json says %+v", data, got, want)
		}
	})
}

// FuzzBodyScannerPieces checks that a body fed in two pieces, split anywhere, measures as the
// whole body does.
func FuzzBodyScannerPieces(f *testing.F) {
	for _, seed := range []string{`{"a":"x\"y","b":[1,true,null]}`, `{"k":12345,"l":"\\"}`, `[[[]]]`} {
		f.Add([]byte(seed), uint(3))
	}
	f.Fuzz(func(t *testing.T, data []byte, at uint) {
		split := int(at % uint(len(data)+1))
		whole := scanBodyCost(data, maxBodyDepth, maxBodyValues)
		s := bodyScanner{maxDepth: maxBodyDepth, maxValues: maxBodyValues}
		if s.feed(data[:split]) {
			s.feed(data[split:])
		}
		if got := s.finish(); got != whole {
			t.Fatalf("%q split at %d: %+v, whole: %+v", data, split, got, whole)
		}
	})
}
