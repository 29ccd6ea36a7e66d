package dataverse

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFileSyncCheckpointRoundTripAndLock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "contacts.state")
	cp, err := OpenFileSyncCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if st, err := cp.Load(ctx); st != nil || err != nil {
		t.Fatalf("Load of a missing file = %v, %v; want no position", st, err)
	}
	want := &SyncState{EntitySet: "contacts", Select: []string{"fullname"}, DeltaLink: "https://o/api/data/v9.2/contacts?$select=fullname&$deltatoken=9%2101", Updated: time.Date(2026, 12, 7, 1, 2, 3, 0, time.UTC)}
	if err := cp.Save(ctx, want); err != nil {
		t.Fatal(err)
	}
	got, err := cp.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	data, _ := os.ReadFile(path)
	if !strings.HasPrefix(string(data), `{"format":"d365-sync-state","version":1,"entitySet":"contacts"`) {
		t.Errorf("file = %s", data)
	}
	// No temporary file is left beside it.
	entries, _ := os.ReadDir(filepath.Dir(path))
	for _, e := range entries {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("left %s behind", e.Name())
		}
	}
	// A second holder is refused while the first has it open.
	_, err = OpenFileSyncCheckpoint(path)
	var ce *CheckpointError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "another sync is running with it") {
		t.Fatalf("second open: %v", err)
	}
	if err := cp.Close(); err != nil {
		t.Fatal(err)
	}
	cp2, err := OpenFileSyncCheckpoint(path)
	if err != nil {
		t.Fatalf("open after close: %v", err)
	}
	cp2.Close()
}

func TestParseSyncStateRefusesWhatNoSyncSaved(t *testing.T) {
	tests := []struct{ data, errHas string }{
		{``, "not a sync state's JSON"},
		{`{"format":"d365-bulk-checkpoint","version":1}`, `its format is "d365-bulk-checkpoint"`},
		{`{"format":"d365-sync-state","version":2,"entitySet":"contacts","deltaLink":"x"}`, "its version is 2"},
		{`{"format":"d365-sync-state","version":1,"entitySet":"contacts","deltaLink":"x","extra":1}`, `unknown field "extra"`},
		{`{"format":"d365-sync-state","version":1,"deltaLink":"x"}`, "names no entity set"},
		{`{"format":"d365-sync-state","version":1,"entitySet":"contacts"}`, "neither a delta link nor a next link"},
		{`{"format":"d365-sync-state","version":1,"entitySet":"contacts","deltaLink":"x","nextLink":"y"}`, "both a delta link and a next link"},
		{`{"format":"d365-sync-state","version":1,"entitySet":"contacts","deltaLink":"x","fullLoad":true}`, "full load without a next link"},
		{`{"format":"d365-sync-state","version":1,"entitySet":"contacts","deltaLink":"x","untracked":true}`, "untracked but has a delta link"},
		{`{"format":"d365-sync-state","version":1,"entitySet":"contacts","nextLink":"y","untracked":true}`, "untracked but its next link is not a full load's"},
		{`{"format":"d365-sync-state","version":1,"entitySet":"con tacts","deltaLink":"x"}`, "is not an entity set name"},
		{`{"format":"d365-sync-state","version":1,"entitySet":"contacts","deltaLink":"x"} {}`, "data after"},
	}
	for _, tt := range tests {
		_, err := parseSyncState([]byte(tt.data))
		if err == nil || !strings.Contains(err.Error(), tt.errHas) {
			t.Errorf("%s: err = %v, want %q", tt.data, err, tt.errHas)
		}
	}
	// Through the file: a *CheckpointError that says how to start over.
	path := filepath.Join(t.TempDir(), "bad.state")
	os.WriteFile(path, []byte("garbage"), 0o600)
	cp, err := OpenFileSyncCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	_, err = cp.Load(context.Background())
	var ce *CheckpointError
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "remove it to start over with a full load") {
		t.Errorf("Load of garbage: %v", err)
	}
}

// FuzzParseSyncState: a state file is accepted only when it is one a Sync could have saved.
func FuzzParseSyncState(f *testing.F) {
	f.Add([]byte(`{"format":"d365-sync-state","version":1,"entitySet":"contacts","deltaLink":"https://o/x"}`))
	f.Add([]byte(`{"format":"d365-sync-state","version":1,"entitySet":"contacts","nextLink":"https://o/x","fullLoad":true,"select":["a"]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := parseSyncState(data)
		if err != nil {
			return
		}
		if st.validate() != nil || (st.DeltaLink == "") == (st.NextLink == "") {
			t.Fatalf("accepted %s as %+v", data, st)
		}
	})
}
