package dataverse

import (
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// doneModel is the obvious implementation of a done set, to check doneSet against.
type doneModel map[int64]bool

// checkDoneSet checks doneSet's invariants and that it holds exactly the model's positions up to limit.
func checkDoneSet(t *testing.T, s *doneSet, m doneModel, limit int64) {
	t.Helper()
	prev := s.low
	for i, r := range s.ranges {
		if r[0] <= prev || r[1] <= r[0] {
			t.Fatalf("ranges[%d] %v after %d: not sorted, apart and above the low-water mark %d: %v", i, r, prev, s.low, s.ranges)
		}
		prev = r[1]
	}
	var n int64
	for p := range limit {
		if s.contains(p) != m[p] {
			t.Fatalf("contains(%d) = %v, want %v (low %d, ranges %v)", p, s.contains(p), m[p], s.low, s.ranges)
		}
		if m[p] {
			n++
		}
	}
	if s.count() != n {
		t.Fatalf("count() = %d, want %d", s.count(), n)
	}
}

// Positions marked done in any order merge into the low-water mark and the fewest ranges.
func TestDoneSetMerges(t *testing.T) {
	for _, tc := range []struct {
		name   string
		adds   [][2]int64
		low    int64
		ranges [][2]int64
	}{
		{"in order", [][2]int64{{0, 10}, {10, 20}}, 20, nil},
		{"a gap", [][2]int64{{0, 10}, {20, 30}}, 10, [][2]int64{{20, 30}}},
		{"gap filled", [][2]int64{{20, 30}, {0, 10}, {10, 20}}, 30, nil},
		{"adjacent ranges join", [][2]int64{{20, 30}, {40, 50}, {30, 40}}, 0, [][2]int64{{20, 50}}},
		{"overlaps", [][2]int64{{20, 30}, {25, 45}, {5, 21}}, 0, [][2]int64{{5, 45}}},
		{"inside an existing range", [][2]int64{{20, 30}, {22, 23}}, 0, [][2]int64{{20, 30}}},
		{"below the mark", [][2]int64{{0, 10}, {3, 5}}, 10, nil},
		{"spans several", [][2]int64{{10, 12}, {14, 16}, {18, 20}, {11, 19}}, 0, [][2]int64{{10, 20}}},
		{"empty and reversed are ignored", [][2]int64{{5, 5}, {9, 3}}, 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s doneSet
			for _, a := range tc.adds {
				s.add(a[0], a[1])
			}
			if s.low != tc.low || !cmp.Equal(s.ranges, tc.ranges, cmp.Comparer(func(a, b [][2]int64) bool {
				return len(a) == len(b) && (len(a) == 0 || cmp.Equal([][2]int64(a), [][2]int64(b)))
			})) {
				t.Errorf("low %d ranges %v, want low %d ranges %v", s.low, s.ranges, tc.low, tc.ranges)
			}
		})
	}
}

// Random batches finishing in random order: the set always equals the model.
func TestDoneSetMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 50 {
		const limit = 400
		var s doneSet
		m := doneModel{}
		// Batches of random sizes covering [0, limit), finished in random order, some split.
		var batches [][2]int64
		for a := int64(0); a < limit; {
			b := min(limit, a+1+rng.Int64N(20))
			batches = append(batches, [2]int64{a, b})
			a = b
		}
		rng.Shuffle(len(batches), func(i, j int) { batches[i], batches[j] = batches[j], batches[i] })
		for i, b := range batches {
			if round%2 == 0 && b[1]-b[0] > 2 {
				mid := b[0] + (b[1]-b[0])/2
				s.add(mid, b[1])
				s.add(b[0], mid)
			} else {
				s.add(b[0], b[1])
			}
			for p := b[0]; p < b[1]; p++ {
				m[p] = true
			}
			if i%7 == 0 {
				checkDoneSet(t, &s, m, limit+5)
			}
		}
		checkDoneSet(t, &s, m, limit+5)
		if s.low != limit || len(s.ranges) != 0 {
			t.Fatalf("every position done, yet low %d ranges %v", s.low, s.ranges)
		}
	}
}

func validCheckpoint() *checkpointFile {
	return &checkpointFile{
		Format: checkpointFormat, Version: checkpointVersion, EntitySet: "contacts", Mode: BulkCreate,
		Done: 2000, Ranges: [][2]int64{{3000, 4000}, {5000, 5100}}, Dispatched: 16000, Written: 3090, Failed: 10,
	}
}

// A checkpoint written and read back is the same; the write leaves no temporary file behind and
// replaces the previous checkpoint whole.
func TestCheckpointWriteIsAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "job.checkpoint")
	cp := validCheckpoint()
	if err := writeCheckpoint(path, cp); err != nil {
		t.Fatal(err)
	}
	// A crash while the next one was written leaves a temporary file: readers never see it.
	if err := os.WriteFile(filepath.Join(dir, ".job.checkpoint.tmp-123"), []byte(`{"format":"d365-bulk-chec`), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := readCheckpoint(path)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(cp, got); d != "" {
		t.Errorf("read back (-wrote +read):\n%s", d)
	}
	cp2 := validCheckpoint()
	cp2.Done, cp2.Ranges = 5100, nil
	if err := writeCheckpoint(path, cp2); err != nil {
		t.Fatal(err)
	}
	if got, err = readCheckpoint(path); err != nil || got.Done != 5100 || len(got.Ranges) != 0 {
		t.Errorf("after the second write: %+v, %v", got, err)
	}
	entries, _ := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if want := []string{".job.checkpoint.tmp-123", "job.checkpoint"}; !cmp.Equal(names, want) {
		t.Errorf("the directory holds %v, want %v (no temporary file of ours left)", names, want)
	}
	// No checkpoint is not an error: the job starts from the beginning.
	if got, err := readCheckpoint(filepath.Join(dir, "none")); got != nil || err != nil {
		t.Errorf("a missing checkpoint: %v, %v", got, err)
	}
	// A failed write (the directory is gone) says so and names the file.
	if err := writeCheckpoint(filepath.Join(dir, "gone", "job.checkpoint"), cp); err == nil || !strings.Contains(err.Error(), "writing checkpoint") {
		t.Errorf("write into a missing directory: %v", err)
	}
}

// A corrupt checkpoint is refused with what is wrong, where, and what to do: using it could skip
// rows that were never written.
func TestCheckpointCorruptIsRefused(t *testing.T) {
	valid, _ := json.Marshal(validCheckpoint())
	edit := func(f func(cp *checkpointFile)) string {
		cp := validCheckpoint()
		f(cp)
		b, _ := json.Marshal(cp)
		return string(b)
	}
	for _, tc := range []struct {
		name, data, want string
	}{
		{"truncated", string(valid[:len(valid)/2]), "not a checkpoint's JSON"},
		{"empty", "", "not a checkpoint's JSON"},
		{"another file", `{"hello":"world"}`, "not a checkpoint's JSON"},
		{"trailing data", string(valid) + "{}", "data after"},
		{"format", edit(func(cp *checkpointFile) { cp.Format = "x" }), `format is "x"`},
		{"version", edit(func(cp *checkpointFile) { cp.Version = 2 }), "version is 2"},
		{"mode", edit(func(cp *checkpointFile) { cp.Mode = "delete" }), `mode "delete"`},
		{"no entity set", edit(func(cp *checkpointFile) { cp.EntitySet = "" }), "names no entity set"},
		{"negative mark", edit(func(cp *checkpointFile) { cp.Done = -1 }), "below 0"},
		{"reversed range", edit(func(cp *checkpointFile) { cp.Ranges[0] = [2]int64{4000, 3000} }), "ranges[0] [4000, 3000) is empty or reversed"},
		{"range below the mark", edit(func(cp *checkpointFile) { cp.Ranges[0] = [2]int64{1000, 3000} }), "ranges[0] [1000, 3000) does not start after position 2000"},
		{"overlapping ranges", edit(func(cp *checkpointFile) { cp.Ranges[1] = [2]int64{3500, 5100} }), "ranges[1] [3500, 5100) does not start after position 4000"},
		{"dispatch mark too low", edit(func(cp *checkpointFile) { cp.Dispatched = 10 }), "dispatch mark 10 is below done position 5100"},
		{"negative totals", edit(func(cp *checkpointFile) { cp.Written = -3 }), "negative"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "job.checkpoint")
			if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			cp, err := readCheckpoint(path)
			var ce *CheckpointError
			if !errors.As(err, &ce) || cp != nil {
				t.Fatalf("readCheckpoint = %v, %v; want a *CheckpointError", cp, err)
			}
			msg := err.Error()
			for _, want := range []string{path, tc.want, "remove it"} {
				if !strings.Contains(msg, want) {
					t.Errorf("the error %q does not say %q", msg, want)
				}
			}
		})
	}
}

// A checkpoint of another job is refused before anything is sent, and so is a second job on a
// checkpoint in use.
func TestCheckpointOfAnotherJobIsRefused(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "job.checkpoint")
	if err := writeCheckpoint(path, validCheckpoint()); err != nil {
		t.Fatal(err)
	}
	c, err := NewClient("https://nowhere.invalid", &fakeCredential{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		set  string
		opts BulkJobOptions
		want string
	}{
		{"accounts", BulkJobOptions{}, "writes contacts, not accounts"},
		{"contacts", BulkJobOptions{Mode: BulkUpsert}, "in create mode, not upsert"},
		{"contacts", BulkJobOptions{Mode: BulkCreate, Concurrency: 1}, ""},
	} {
		tc.opts.LogicalName, tc.opts.Checkpoint = "contact", path
		job, err := NewBulkJob([]*Client{c}, tc.set, &tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		r, err := job.newRun(t.Context())
		if tc.want == "" {
			if err != nil {
				t.Fatalf("the matching job: %v", err)
			}
			// While it holds the checkpoint, a second job is refused.
			job2, _ := NewBulkJob([]*Client{c}, tc.set, &tc.opts)
			_, err2 := job2.newRun(t.Context())
			var ce *CheckpointError
			if !errors.As(err2, &ce) || !strings.Contains(err2.Error(), "another job is running") {
				t.Errorf("a second job on the same checkpoint: %v", err2)
			}
			r.lock.Unlock()
			if r.done.low != 2000 || r.resumeMark != 16000 {
				t.Errorf("resumed at low %d, dispatch mark %d", r.done.low, r.resumeMark)
			}
			continue
		}
		var ce *CheckpointError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("job on %s %+v: %v; want a *CheckpointError saying %q", tc.set, tc.opts.Mode, err, tc.want)
		}
	}
}

// FuzzParseCheckpoint: any input is refused or yields a checkpoint whose done positions are
// consistent (sorted, apart, above the mark, below the dispatch mark) and that reads back the
// same after writing.
func FuzzParseCheckpoint(f *testing.F) {
	valid, _ := json.Marshal(validCheckpoint())
	f.Add(valid)
	f.Add([]byte(`{"format":"d365-bulk-checkpoint","version":1,"entitySet":"a","mode":"update","done":0,"ranges":[],"dispatched":0,"written":0,"failed":0,"updated":"0001-01-01T00:00:00Z"}`))
	f.Add([]byte(`{"format":"d365-bulk-checkpoint","version":1,"entitySet":"a","mode":"upsert","key":["k"],"done":5,"ranges":[[7,9],[10,11]],"dispatched":11}`))
	f.Add([]byte(`{"ranges":[[9223372036854775807,-9223372036854775808]]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cp, err := parseCheckpoint(data)
		if err != nil {
			if cp != nil {
				t.Fatal("a checkpoint with an error")
			}
			return
		}
		s := doneSet{low: cp.Done}
		prev := cp.Done
		for _, r := range cp.Ranges {
			if r[0] <= prev || r[1] <= r[0] {
				t.Fatalf("accepted ranges %v above %d", cp.Ranges, cp.Done)
			}
			prev = r[1]
			s.add(r[0], r[1])
		}
		if cp.Dispatched < prev {
			t.Fatalf("accepted dispatch mark %d below %d", cp.Dispatched, prev)
		}
		if s.low != cp.Done || len(s.ranges) != len(cp.Ranges) {
			t.Fatalf("the ranges do not rebuild as stored: %+v vs %v %v", cp, s.low, s.ranges)
		}
		again, err := json.Marshal(cp)
		if err != nil {
			t.Fatal(err)
		}
		cp2, err := parseCheckpoint(again)
		if err != nil {
			t.Fatalf("a parsed checkpoint written again is refused: %v\n%s", err, again)
		}
		if d := cmp.Diff(cp, cp2); d != "" {
			t.Fatalf("written again and read back (-first +second):\n%s", d)
		}
	})
}
