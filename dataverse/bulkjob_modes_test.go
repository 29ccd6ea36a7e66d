package dataverse_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// runJob runs a job on env's first client and fails the test on an error.
func runJob(t *testing.T, env *bulkEnv, opts *dataverse.BulkJobOptions, rows func(yield func(dataverse.Record, error) bool)) *dataverse.BulkResult {
	t.Helper()
	job, err := dataverse.NewBulkJob(env.clients[:1], "new_items", opts)
	if err != nil {
		t.Fatal(err)
	}
	res, err := job.Run(t.Context(), rows)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return res
}

// Update by primary id (UpdateMultiple) and by alternate key ($batch, since UpdateMultiple cannot
// address a record by key): existing rows change, a row naming a missing record fails with 404
// and creates nothing.
func TestBulkJobUpdates(t *testing.T) {
	t.Parallel()
	env := newBulkEnv(t, nil)
	const n = 400
	withID := func(i int) dataverse.Record {
		r := itemRow(i)
		r["new_itemid"] = itemID(i)
		return r
	}
	if res := runJob(t, env, nil, itemRows(n, withID)); res.Written != n {
		t.Fatalf("create: %+v", res)
	}
	renamed := func(tag string) func(int) dataverse.Record {
		return func(i int) dataverse.Record {
			r := itemRow(i)
			r["new_name"] = fmt.Sprintf("%s %d", tag, i)
			return r
		}
	}
	for _, tc := range []struct {
		name    string
		opts    dataverse.BulkJobOptions
		row     func(int) dataverse.Record
		missing dataverse.Record
		method  dataverse.BulkMethod
	}{
		{
			name: "by id", opts: dataverse.BulkJobOptions{Mode: dataverse.BulkUpdate},
			row: func(i int) dataverse.Record {
				r := renamed("by id")(i)
				r["new_itemid"] = itemID(i)
				delete(r, "new_code")
				return r
			},
			missing: dataverse.Record{"new_itemid": itemID(n + 1), "new_name": "nobody"},
			method:  dataverse.BulkMethodMultiple,
		},
		{
			name: "by key", opts: dataverse.BulkJobOptions{Mode: dataverse.BulkUpdate, KeyColumns: []string{"new_code"}},
			row:     renamed("by key"),
			missing: dataverse.Record{"new_code": "NO-SUCH-CODE", "new_name": "nobody"},
			method:  dataverse.BulkMethodBatch,
		},
	} {
		sink := &memorySink{}
		opts := tc.opts
		opts.Errors = sink
		res := runJob(t, env, &opts, func(yield func(dataverse.Record, error) bool) {
			for i := range n {
				if i == n/2 && !yield(tc.missing, nil) {
					return
				}
				if !yield(tc.row(i), nil) {
					return
				}
			}
		})
		if res.Written != n || res.Failed != 1 || res.Method != tc.method {
			t.Errorf("%s: written %d, failed %d, method %s; want %d, 1, %s", tc.name, res.Written, res.Failed, res.Method, n, tc.method)
		}
		if len(sink.failures) != 1 || sink.failures[0].Position != n/2 || sink.failures[0].StatusCode != 404 {
			t.Errorf("%s: failures %+v; want the missing record at position %d, 404", tc.name, sink.failures, n/2)
		}
		got := readItems(t, env.clients[0])
		if len(got) != n {
			t.Errorf("%s: %d rows stored, want %d (an update creates nothing)", tc.name, len(got), n)
		}
		for i := range n {
			if it := got[fmt.Sprintf("CODE-%07d", i)]; it.Name != tc.row(i)["new_name"] || it.ID != itemID(i) {
				t.Fatalf("%s: row %d is %+v", tc.name, i, it)
			}
		}
	}
}

// A table that answers that it does not support the bulk message: the job falls back to $batch
// and writes every row; with BulkMethodMultiple it stops instead, saying why.
func TestBulkJobFallsBackToBatch(t *testing.T) {
	t.Parallel()
	unsupported := emulator.FaultRule{
		ID:     "no-createmultiple",
		Match:  emulator.FaultMatch{PathPrefix: "/api/data/v9.2/new_items/Microsoft.Dynamics.CRM.CreateMultiple"},
		Action: emulator.FaultAction{Kind: emulator.ActionError, Status: 404, Code: "0x8006088a", Message: "Resource not found for the segment 'Microsoft.Dynamics.CRM.CreateMultiple'."},
	}
	env := newBulkEnv(t, &emulator.Options{Faults: []emulator.FaultRule{unsupported}})
	const n = 250
	res := runJob(t, env, nil, itemRows(n, itemRow))
	if res.Written != n || res.Method != dataverse.BulkMethodBatch {
		t.Errorf("written %d with method %q; want %d through $batch", res.Written, res.Method, n)
	}
	if got := countRequests(env.Emulator, "$batch"); got < n/dataverse.DefaultBulkBatchOperations {
		t.Errorf("%d $batch requests for %d rows", got, n)
	}
	checkItems(t, env.clients[0], n, itemRow, nil)

	job, err := dataverse.NewBulkJob(env.clients[:1], "new_items", &dataverse.BulkJobOptions{Method: dataverse.BulkMethodMultiple})
	if err != nil {
		t.Fatal(err)
	}
	res, err = job.Run(t.Context(), itemRows(10, func(i int) dataverse.Record { return itemRow(n + i) }))
	if err == nil || !strings.Contains(err.Error(), "does not support the bulk messages") || res.Written != 0 {
		t.Errorf("with BulkMethodMultiple: %+v, %v", res, err)
	}
}

// Requests that time out halve the batch size and are sent again with fewer rows (as upserts of
// the same ids: the service may have run them); fast requests grow it back. Nothing is duplicated.
func TestBulkJobAdaptsBatchSize(t *testing.T) {
	t.Parallel()
	slow := emulator.FaultRule{
		ID:      "slow",
		Match:   emulator.FaultMatch{PathPrefix: "/api/data/v9.2/new_items/Microsoft.Dynamics.CRM."},
		Trigger: emulator.FaultTrigger{Count: 2},
		Action:  emulator.FaultAction{Kind: emulator.ActionLatency, Delay: 5 * time.Second},
	}
	env := newBulkEnv(t, &emulator.Options{Faults: []emulator.FaultRule{slow}})
	const n, start = 3000, 200
	var mu sync.Mutex
	var sizes []int
	res := runJob(t, env, &dataverse.BulkJobOptions{
		BatchSize: start, Concurrency: 1, CallTimeout: 2 * time.Second, ProgressInterval: 5 * time.Millisecond,
		OnProgress: func(p dataverse.BulkProgress) {
			mu.Lock()
			defer mu.Unlock()
			if len(sizes) == 0 || sizes[len(sizes)-1] != p.BatchSize {
				sizes = append(sizes, p.BatchSize)
			}
		},
	}, itemRows(n, itemRow))
	t.Logf("batch sizes seen: %v; %+v", sizes, res)
	if res.Written != n || res.Splits == 0 {
		t.Errorf("written %d, splits %d; want %d rows and the timed-out requests split", res.Written, res.Splits, n)
	}
	least, grew := start, false
	for _, s := range sizes {
		if s < least {
			least = s
		} else if s > least {
			grew = true
		}
	}
	if least > start/2 || !grew {
		t.Errorf("batch sizes %v: want halved (to %d or less) after the timeouts, then grown again", sizes, start/2)
	}
	checkItems(t, env.clients[0], n, itemRow, nil)
}

// Rows that cannot be sent are reported without a request: a primary id that is not a GUID, an
// update without an id, a key column missing. The other rows are written.
func TestBulkJobRefusesUnsendableRows(t *testing.T) {
	t.Parallel()
	env := newBulkEnv(t, nil)
	sink := &memorySink{}
	res := runJob(t, env, &dataverse.BulkJobOptions{Errors: sink}, func(yield func(dataverse.Record, error) bool) {
		_ = yield(itemRow(0), nil) &&
			yield(dataverse.Record{"new_itemid": "not-a-guid", "new_code": "X"}, nil) &&
			yield(nil, nil) &&
			yield(dataverse.Record{"@odata.type": "Microsoft.Dynamics.CRM.account", "new_code": "Y"}, nil) &&
			yield(itemRow(4), nil)
	})
	if res.Written != 2 || res.Failed != 3 || res.Requests != 1 {
		t.Errorf("%+v: want 2 written in one request, 3 failed", res)
	}
	want := map[int64]string{1: "not a GUID", 2: "null", 3: "@odata.type"}
	for _, f := range sink.failures {
		if !strings.Contains(f.Message, want[f.Position]) || f.StatusCode != 0 {
			t.Errorf("failure %+v; want position %d saying %q with no status", f, f.Position, want[f.Position])
		}
		delete(want, f.Position)
	}
	if len(want) > 0 {
		t.Errorf("not reported: %v", want)
	}

	job, err := dataverse.NewBulkJob(env.clients, "new_items", &dataverse.BulkJobOptions{Mode: dataverse.BulkUpsert, KeyColumns: []string{"new_code"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err = job.Run(t.Context(), itemRows(1, func(int) dataverse.Record { return dataverse.Record{"new_name": "no key"} }))
	if err != nil || res.Failed != 1 || !strings.Contains(res.Failures[0].Message, "no value for key column new_code") {
		t.Errorf("a row without its key: %+v, %v", res, err)
	}
}

// An input error stops the job at its position: the rows before it are written and checkpointed,
// and the job resumed on a corrected input writes the rest.
func TestBulkJobStopsAtInputError(t *testing.T) {
	t.Parallel()
	env := newBulkEnv(t, nil)
	cp := filepath.Join(t.TempDir(), "job.checkpoint")
	const n, bad = 1000, 600
	job, err := dataverse.NewBulkJob(env.clients, "new_items", &dataverse.BulkJobOptions{Checkpoint: cp, BatchSize: 50})
	if err != nil {
		t.Fatal(err)
	}
	res, err := job.Run(t.Context(), func(yield func(dataverse.Record, error) bool) {
		for i := range n {
			if i == bad {
				yield(nil, errors.New("line 602: unterminated quote"))
				return
			}
			if !yield(itemRow(i), nil) {
				return
			}
		}
	})
	if err == nil || !strings.Contains(err.Error(), "input row 600") || !strings.Contains(err.Error(), "unterminated quote") {
		t.Fatalf("Run: %v; want the input's error at row 600", err)
	}
	if res.Written != bad {
		t.Errorf("written %d before the input error, want %d", res.Written, bad)
	}
	if done, _ := checkpointDone(cp); done != bad {
		t.Errorf("the checkpoint marks %d done, want %d", done, bad)
	}
	job, _ = dataverse.NewBulkJob(env.clients, "new_items", &dataverse.BulkJobOptions{Checkpoint: cp, BatchSize: 50})
	res, err = job.Run(t.Context(), itemRows(n, itemRow))
	if err != nil || res.Skipped != bad || res.Written != n-bad {
		t.Errorf("resumed: %+v, %v", res, err)
	}
	checkItems(t, env.clients[0], n, itemRow, nil)
}

// A job cancelled mid-way stops promptly with context.Canceled and a checkpoint; run again, it
// finishes without writing a row twice.
func TestBulkJobCancelAndResume(t *testing.T) {
	t.Parallel()
	env := newBulkEnv(t, nil)
	cp := filepath.Join(t.TempDir(), "job.checkpoint")
	const n = 4000
	ctx, cancel := context.WithCancel(t.Context())
	job, err := dataverse.NewBulkJob(env.clients, "new_items", &dataverse.BulkJobOptions{
		Checkpoint: cp, BatchSize: 50, ProgressInterval: time.Millisecond,
		OnProgress: func(p dataverse.BulkProgress) {
			if p.Written >= n/4 {
				cancel()
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := job.Run(ctx, itemRows(n, itemRow))
	if !errors.Is(err, context.Canceled) || res.Written >= n {
		t.Fatalf("cancelled run: %+v, %v", res, err)
	}
	done, _ := checkpointDone(cp)
	if done != res.Written {
		t.Errorf("the checkpoint marks %d done; the run wrote %d", done, res.Written)
	}
	job, _ = dataverse.NewBulkJob(env.clients, "new_items", &dataverse.BulkJobOptions{Checkpoint: cp, BatchSize: 50})
	res2, err := job.Run(t.Context(), itemRows(n, itemRow))
	if err != nil || res2.Skipped != done || res2.Written != n-done {
		t.Errorf("resumed: %+v, %v", res2, err)
	}
	checkItems(t, env.clients[0], n, itemRow, nil)
}

// Under limits a job reaches in seconds (20 requests per 10-second window), the governor pauses
// the application user's requests for longer than a request may take (CallTimeout 2 s): the job
// waits the pauses out instead of counting them as failed attempts, and finishes with every row
// written once, reporting the time it was held back.
func TestBulkJobWaitsOutThrottling(t *testing.T) {
	t.Parallel()
	strict := emulator.LimitsStrict()
	env := newBulkEnv(t, &emulator.Options{Limits: &strict})
	const n = 900
	res := runJob(t, env, &dataverse.BulkJobOptions{BatchSize: 20, CallTimeout: 2 * time.Second, MaxAttempts: 2}, itemRows(n, itemRow))
	t.Logf("%+v", res)
	if res.Written != n || res.Failed != 0 {
		t.Errorf("written %d, failed %d; want %d, 0", res.Written, res.Failed, n)
	}
	if res.ThrottleWait < 5*time.Second || res.ThrottleWait > res.Elapsed {
		t.Errorf("throttle wait %v in %v: 45 requests at 20 per 10 s must have waited, for less than the whole job", res.ThrottleWait, res.Elapsed)
	}
	checkItems(t, env.clients[0], n, itemRow, nil)
}
