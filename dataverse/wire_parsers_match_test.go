package dataverse

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// TestWireParsersMatchAuth: the auth package parses Retry-After (Entra throttling) and the 401
// challenge (DiscoverChallenge) with its own copies of this package's parsers, since neither
// package may import the other. The copies must stay the same code, tested by the same tables;
// this fails when one side changes alone.
func TestWireParsersMatchAuth(t *testing.T) {
	t.Parallel()
	for _, pair := range []struct {
		here, there string
		from        string // compare from this line on; "" means after the package clause
	}{
		{"retry_after.go", "retry_after.go", ""},
		{"challenge.go", "challenge_parse.go", "// parseBearerChallenge finds"},
		{"wire_parsers_test.go", "wire_parsers_test.go", ""},
	} {
		here := readFrom(t, pair.here, pair.from)
		there := readFrom(t, filepath.Join("..", "auth", pair.there), pair.from)
		if !bytes.Equal(here, there) {
			t.Errorf("dataverse/%s and auth/%s differ from %q on: make the same change in both", pair.here, pair.there, pair.from)
		}
	}
}

// readFrom returns the file from the first line starting with from, or after its package clause.
func readFrom(t *testing.T, name, from string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	marker := []byte("\n" + from)
	if from == "" {
		marker = []byte("\n")
	}
	i := bytes.Index(b, marker)
	if i < 0 {
		t.Fatalf("%s has no line starting with %q", name, from)
	}
	return b[i+1:]
}
