package dataverse_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d365s2s/d365/dataverse"
)

// The JSON Lines error file: one object per failure; reopened (a resumed job), it appends after
// what is there (a last line a crash cut short is dropped: its row is reported again), and does
// not write a position twice; a file that is not an error file is refused, with the line.
func TestJSONLinesErrorFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "errors.jsonl")
	s, err := dataverse.OpenJSONLinesErrorFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []dataverse.BulkFailure{
		{Position: 3, StatusCode: 400, Code: "0x80044331", Message: "too long", Record: []byte(`{"a":1}`)},
		{Position: 9, Message: "not sent"},
	} {
		if err := s.WriteFailure(f); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A crash cut a third line short.
	fh, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	fh.WriteString(`{"position":12,"message":"cut`)
	fh.Close()
	s, err = dataverse.OpenJSONLinesErrorFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s.WriteFailure(dataverse.BulkFailure{Position: 9, Message: "again"}) // already there
	s.WriteFailure(dataverse.BulkFailure{Position: 10, Message: "new"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// A last line without its newline, but whole, is kept.
	data, _ := os.ReadFile(path)
	os.WriteFile(path, data[:len(data)-1], 0o644)
	s, err = dataverse.OpenJSONLinesErrorFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s.WriteFailure(dataverse.BulkFailure{Position: 12, Message: "newer"})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var positions []int64
	for _, f := range readJSONLines(t, path) {
		positions = append(positions, f.Position)
	}
	if want := []int64{3, 9, 10, 12}; !equalInts(positions, want) {
		t.Errorf("positions %v, want %v", positions, want)
	}
	other := filepath.Join(t.TempDir(), "other.txt")
	os.WriteFile(other, []byte("id,name\n1,x\n"), 0o644)
	if _, err := dataverse.OpenJSONLinesErrorFile(other); err == nil || !strings.Contains(err.Error(), "line 1 is not a failure") {
		t.Errorf("a CSV file as error file: %v", err)
	}
}

func equalInts(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
