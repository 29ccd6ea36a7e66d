package dataverse_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/go-cmp/cmp"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// bulkScenario has a custom table with an alternate key and a lookup, and two application users
// (two apps) so a job can pool clients.
const bulkScenario = `
tenants:
  - domain: bulk.onmicrosoft.com
apps:
  - name: bulk-app
    clientId: 0b5c1d3e-0000-4000-8000-000000000001
    secrets:
      - value: "bulk~scenario~secret~one~for~the~emulator~only"
  - name: bulk-app-2
    clientId: 0b5c1d3e-0000-4000-8000-000000000002
    secrets:
      - value: "bulk~scenario~secret~two~for~the~emulator~only"
applicationUsers:
  - app: bulk-app
    roles: [System Administrator]
  - app: bulk-app-2
    roles: [System Administrator]
schema:
  tables:
    - logicalName: new_item
      primaryNameColumn: new_name
      columns:
        - {logicalName: new_name, type: String, maxLength: 100}
        - {logicalName: new_code, type: String, maxLength: 40}
        - {logicalName: new_seq, type: Integer}
        - {logicalName: new_accountid, type: Lookup, targets: [account]}
      keys:
        - {schemaName: new_item_code, columns: [new_code]}
  relationships:
    - {schemaName: new_account_new_item, referencedEntity: account, referencingEntity: new_item,
       referencingAttribute: new_accountid, cascadeDelete: RemoveLink}
`

// bulkEnv is an emulator with bulkScenario and a client per application user.
type bulkEnv struct {
	*emulatortest.Env
	clients []*dataverse.Client
}

func newBulkEnv(t testing.TB, opts *emulator.Options) *bulkEnv {
	return newBulkEnvWith(t, opts, nil)
}

// newBulkEnvWith is newBulkEnv with the clients' transport wrapped by wrap (when not nil).
func newBulkEnvWith(t testing.TB, opts *emulator.Options, wrap func(policy.Transporter) policy.Transporter) *bulkEnv {
	t.Helper()
	sc, err := emulator.ParseScenario([]byte(bulkScenario), "bulk.yaml")
	if err != nil {
		t.Fatalf("scenario: %v", err)
	}
	if opts == nil {
		opts = &emulator.Options{}
	}
	opts.Scenario = sc
	env := emulatortest.New(t, opts)
	be := &bulkEnv{Env: env}
	for _, creds := range []emulator.Credentials{
		{ClientID: "0b5c1d3e-0000-4000-8000-000000000001", ClientSecret: "bulk~scenario~secret~one~for~the~emulator~only"},
		{ClientID: "0b5c1d3e-0000-4000-8000-000000000002", ClientSecret: "bulk~scenario~secret~two~for~the~emulator~only"},
	} {
		co := env.ClientOptions
		if wrap != nil {
			co.Transport = wrap(co.Transport)
		}
		c, err := dataverse.NewClient(env.OrgURL, env.SecretCredential(t, creds), &dataverse.ClientOptions{ClientOptions: co})
		if err != nil {
			t.Fatalf("NewClient: %v", err)
		}
		be.clients = append(be.clients, c)
	}
	return be
}

// itemRow is the n-th input row of the tests: a name, a unique code and a sequence number.
func itemRow(n int) dataverse.Record {
	return dataverse.Record{
		"new_name": fmt.Sprintf("Item %d «ünïcode» \"quoted\"", n),
		"new_code": fmt.Sprintf("CODE-%07d", n),
		"new_seq":  n,
	}
}

// itemRows yields n rows made by row.
func itemRows(n int, row func(int) dataverse.Record) iter.Seq2[dataverse.Record, error] {
	return func(yield func(dataverse.Record, error) bool) {
		for i := range n {
			if !yield(row(i), nil) {
				return
			}
		}
	}
}

// storedItem is a new_item as read back.
type storedItem struct {
	ID   string `json:"new_itemid"`
	Name string `json:"new_name"`
	Code string `json:"new_code"`
	Seq  int    `json:"new_seq"`
}

// readItems reads every new_item, keyed by code, and fails the test on a duplicate code.
func readItems(t testing.TB, c *dataverse.Client) map[string]storedItem {
	t.Helper()
	got := map[string]storedItem{}
	pager := dataverse.NewPager[storedItem](c, "new_items", &dataverse.ListOptions{Query: dataverse.Query{
		Select: []string{"new_itemid", "new_name", "new_code", "new_seq"}, MaxPageSize: 5000,
	}})
	dups := 0
	for it, err := range pager.All(context.Background()) {
		if err != nil {
			t.Fatalf("reading new_items: %v", err)
		}
		if _, dup := got[it.Code]; dup {
			dups++
			if dups <= 3 {
				t.Errorf("code %s is stored twice", it.Code)
			}
		}
		got[it.Code] = it
	}
	if dups > 0 {
		t.Errorf("%d rows are stored twice", dups)
	}
	return got
}

// checkItems checks that exactly rows 0..n-1 (by itemRow, minus those in except) are stored, once each.
func checkItems(t testing.TB, c *dataverse.Client, n int, row func(int) dataverse.Record, except map[int]bool) {
	t.Helper()
	got := readItems(t, c)
	want := len(got)
	missing, wrong := 0, 0
	for i := range n {
		if except[i] {
			continue
		}
		r := row(i)
		code := r["new_code"].(string)
		it, ok := got[code]
		delete(got, code)
		if !ok {
			missing++
			if missing <= 3 {
				t.Errorf("row %d (%s) is missing", i, code)
			}
			continue
		}
		if d := cmp.Diff(storedItem{ID: it.ID, Name: r["new_name"].(string), Code: code, Seq: r["new_seq"].(int)}, it); d != "" {
			wrong++
			if wrong <= 3 {
				t.Errorf("row %d read back differently (-want +got):\n%s", i, d)
			}
		}
	}
	if missing > 0 || wrong > 0 || len(got) > 0 {
		t.Errorf("%d rows stored: %d missing, %d different, %d unexpected", want, missing, wrong, len(got))
	}
}

// memorySink keeps failures in memory.
type memorySink struct {
	mu       sync.Mutex
	failures []dataverse.BulkFailure
}

func (s *memorySink) WriteFailure(f dataverse.BulkFailure) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failures = append(s.failures, f)
	return nil
}

// TestBulkJobCreatesEveryRowOnce: the smallest job, with two pooled clients: every row is written
// once, the totals add up, both application users did some of the work, and the job sends as
// many requests at once as their governors allow (the service's x-ms-dop-hint, 3 here, each).
func TestBulkJobCreatesEveryRowOnce(t *testing.T) {
	t.Parallel()
	limits := emulator.LimitsDefault()
	limits.DOPHint = 3
	env := newBulkEnv(t, &emulator.Options{Limits: &limits})
	const n = 2500
	var events []dataverse.BulkProgress
	job, err := dataverse.NewBulkJob(env.clients, "new_items", &dataverse.BulkJobOptions{
		BatchSize:  100,
		OnProgress: func(p dataverse.BulkProgress) { events = append(events, p) },
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := job.Run(t.Context(), itemRows(n, itemRow))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Written != n || res.Failed != 0 || res.Skipped != 0 || res.Read != n {
		t.Errorf("result %+v, want %d written", res, n)
	}
	if len(events) == 0 || !events[len(events)-1].Final || events[len(events)-1].Written != n {
		t.Fatalf("the last progress event is not the final one with every row: %+v", events)
	}
	if w := events[len(events)-1].Workers; w != 6 {
		t.Errorf("the job ended with %d workers; want 6 (two application users, x-ms-dop-hint 3)", w)
	}
	checkItems(t, env.clients[0], n, itemRow, nil)

	users := map[string]int{}
	for _, e := range env.Emulator.RequestLog(emulator.LogFilter{}) {
		if strings.Contains(e.Path, "CreateMultiple") {
			users[e.AppID]++
		}
	}
	if len(users) != 2 {
		t.Errorf("CreateMultiple calls per app %v: want both application users used", users)
	}
}

// writeFile is a helper that writes a file in the test's directory.
func readJSONLines(t testing.TB, path string) []dataverse.BulkFailure {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []dataverse.BulkFailure
	for line := range strings.Lines(string(data)) {
		var f dataverse.BulkFailure
		if err := json.Unmarshal([]byte(line), &f); err != nil {
			t.Fatalf("%s: %q: %v", path, line, err)
		}
		out = append(out, f)
	}
	return out
}

// bulkFaultRows is the size of the fault and crash tests: 100,000 rows as the issue asks, fewer
// under the race detector, where the emulator's store is about ten times slower.
func bulkFaultRows() int {
	if raceEnabled {
		return 10_000
	}
	if testing.Short() {
		return 20_000
	}
	return 100_000
}

// webAPIFaults are the fault rules of the fault test: 10 % throttling, 5 % 503 and 1 %
// dropped connections, on the Web API only (the token endpoint is not what is tested here).
func webAPIFaults() []emulator.FaultRule {
	api := emulator.FaultMatch{PathPrefix: "/api/data/"}
	return []emulator.FaultRule{
		{ID: "throttle", Match: api, Trigger: emulator.FaultTrigger{Probability: 0.10}, Action: emulator.FaultAction{Kind: emulator.ActionThrottle}},
		{ID: "unavailable", Match: api, Trigger: emulator.FaultTrigger{Probability: 0.05}, Action: emulator.FaultAction{Kind: emulator.ActionError, Status: 503}},
		{ID: "drop", Match: api, Trigger: emulator.FaultTrigger{Probability: 0.01}, Action: emulator.FaultAction{Kind: emulator.ActionDrop}},
	}
}

// addFaults installs the rules and returns a function that removes them and reports how often
// each fired.
func addFaults(t testing.TB, emu *emulator.Emulator, rules []emulator.FaultRule) (clear func() map[string]int64) {
	t.Helper()
	for _, r := range rules {
		if _, err := emu.AddFault(r); err != nil {
			t.Fatalf("AddFault %s: %v", r.ID, err)
		}
	}
	return func() map[string]int64 {
		fired := map[string]int64{}
		for _, f := range emu.Faults() {
			fired[f.ID] = f.Fired
		}
		emu.ClearFaults()
		return fired
	}
}

// lossyTransport loses the response of some write requests after the service executed them, as a
// connection that breaks on the way back does: the client sees an error, the row is written. The
// emulator's drop faults act before the service runs the request; this is the other half.
type lossyTransport struct {
	next policy.Transporter
	*lossCounter
}

// lossCounter is shared by the lossy transports of a test's clients.
type lossCounter struct {
	every atomic.Int64 // lose the response of every every-th POST or PATCH
	n     atomic.Int64
	lost  atomic.Int64
}

func (l *lossyTransport) Do(req *http.Request) (*http.Response, error) {
	resp, err := l.next.Do(req)
	if err != nil || (req.Method != http.MethodPost && req.Method != http.MethodPatch) || !strings.Contains(req.URL.Path, "/api/data/") {
		return resp, err
	}
	if l.n.Add(1)%l.every.Load() != 0 || resp.StatusCode >= 300 {
		return resp, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	l.lost.Add(1)
	return nil, errors.New("lossyTransport: connection reset by peer after the request was sent")
}

// itemID is the primary id the upsert-by-id tests give row n.
func itemID(n int) string { return fmt.Sprintf("7e5a0000-0000-4000-8000-%012d", n) }

// TestBulkJobUnderFaults is the fault test: N rows under the default service-protection
// limits with 10 % throttling, 5 % 503 and 1 % dropped connections, for create, upsert by id and
// upsert by alternate key. Every row is read back equal, none lost, none duplicated, and the error
// sink stays empty. For the upserts, a quarter of the rows exist beforehand with other values.
func TestBulkJobUnderFaults(t *testing.T) {
	t.Parallel()
	n := bulkFaultRows()
	stale := func(i int) dataverse.Record {
		r := itemRow(i)
		r["new_name"], r["new_seq"] = "stale", -1
		return r
	}
	withID := func(row func(int) dataverse.Record) func(int) dataverse.Record {
		return func(i int) dataverse.Record {
			r := row(i)
			r["new_itemid"] = itemID(i)
			return r
		}
	}
	for _, tc := range []struct {
		name string
		opts dataverse.BulkJobOptions
		row  func(int) dataverse.Record
		// before are the rows written before the faulty job (every 4th row, with stale values).
		before func(int) dataverse.Record
	}{
		{name: "create", opts: dataverse.BulkJobOptions{Mode: dataverse.BulkCreate}, row: itemRow},
		{name: "upsert by id", opts: dataverse.BulkJobOptions{Mode: dataverse.BulkUpsert}, row: withID(itemRow), before: withID(stale)},
		{name: "upsert by key", opts: dataverse.BulkJobOptions{Mode: dataverse.BulkUpsert, KeyColumns: []string{"new_code"}}, row: itemRow, before: stale},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			loss := &lossCounter{}
			loss.every.Store(1 << 62) // nothing lost until the faulty job starts
			env := newBulkEnvWith(t, &emulator.Options{FaultSeed: 9}, func(next policy.Transporter) policy.Transporter {
				return &lossyTransport{next: next, lossCounter: loss}
			})
			ctx := t.Context()
			if tc.before != nil {
				pre, err := dataverse.NewBulkJob(env.clients[:1], "new_items", &dataverse.BulkJobOptions{LogicalName: "new_item"})
				if err != nil {
					t.Fatal(err)
				}
				if res, err := pre.Run(ctx, itemRows(n/4, func(i int) dataverse.Record { return tc.before(4 * i) })); err != nil || res.Written != int64(n/4) {
					t.Fatalf("writing the existing rows: %+v, %v", res, err)
				}
			}
			clear := addFaults(t, env.Emulator, webAPIFaults())
			// About 1.5 % of the writes (3 % under the race detector, whose smaller test sends
			// about 200 requests).
			loss.n.Store(0)
			loss.every.Store(67)
			if raceEnabled {
				loss.every.Store(33)
			}
			sink := &memorySink{}
			opts := tc.opts
			opts.Errors = sink
			// 100 rows per request: enough requests for every fault to fire many times.
			opts.BatchSize = 100
			opts.Checkpoint = filepath.Join(t.TempDir(), "job.checkpoint")
			job, err := dataverse.NewBulkJob(env.clients, "new_items", &opts)
			if err != nil {
				t.Fatal(err)
			}
			res, err := job.Run(ctx, itemRows(n, tc.row))
			fired := clear()
			loss.every.Store(1 << 62)
			fired["lost after execution"] = loss.lost.Load()
			t.Logf("%d rows in %v (%.0f rows/s): %d requests, %d retries, %d splits, batch size %d; faults fired %v",
				n, res.Elapsed, res.RowsPerSecond(), res.Requests, res.Retries, res.Splits, res.BatchSize, fired)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.Written != int64(n) || res.Failed != 0 || res.Skipped != 0 {
				t.Errorf("written %d, failed %d, skipped %d; want %d, 0, 0", res.Written, res.Failed, res.Skipped, n)
			}
			if len(sink.failures) != 0 {
				t.Errorf("the error sink holds %d failures, the first: %+v", len(sink.failures), sink.failures[0])
			}
			for _, id := range []string{"throttle", "unavailable", "drop", "lost after execution"} {
				if fired[id] == 0 {
					t.Errorf("fault %s never fired: the test did not test it", id)
				}
			}
			checkItems(t, env.clients[0], n, tc.row, nil)
			if tc.name == "upsert by id" {
				got := readItems(t, env.clients[0])
				for i := range n {
					if it := got[fmt.Sprintf("CODE-%07d", i)]; it.ID != itemID(i) {
						t.Fatalf("row %d has id %s, want its own %s", i, it.ID, itemID(i))
					}
				}
			}
		})
	}
}

// TestBulkJobIsolatesBadRows: among many good rows, 3 the service refuses (a string over its
// maximum length, a lookup to a missing record, text in a whole-number column). Every other row is
// written, and exactly those 3 reach the error file, with their positions, status and Dataverse
// code, through bulk messages (split until isolated) and through $batch (answered per row).
func TestBulkJobIsolatesBadRows(t *testing.T) {
	t.Parallel()
	const n = 3000
	bad := map[int]func(dataverse.Record){
		17: func(r dataverse.Record) { r["new_name"] = strings.Repeat("x", 101) },
		1500: func(r dataverse.Record) {
			r["new_accountid@odata.bind"] = "/accounts(7e5a0000-0000-4000-8000-00000000dead)"
		},
		2999: func(r dataverse.Record) { r["new_seq"] = "not a number" },
	}
	row := func(i int) dataverse.Record {
		r := itemRow(i)
		if f := bad[i]; f != nil {
			f(r)
		}
		return r
	}
	for _, method := range []dataverse.BulkMethod{dataverse.BulkMethodMultiple, dataverse.BulkMethodBatch} {
		t.Run(string(method), func(t *testing.T) {
			t.Parallel()
			env := newBulkEnv(t, nil)
			path := filepath.Join(t.TempDir(), "errors.jsonl")
			sink, err := dataverse.OpenJSONLinesErrorFile(path)
			if err != nil {
				t.Fatal(err)
			}
			job, err := dataverse.NewBulkJob(env.clients, "new_items", &dataverse.BulkJobOptions{Method: method, Errors: sink})
			if err != nil {
				t.Fatal(err)
			}
			res, err := job.Run(t.Context(), itemRows(n, row))
			if cerr := sink.Close(); cerr != nil {
				t.Fatal(cerr)
			}
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.Written != n-3 || res.Failed != 3 {
				t.Errorf("written %d, failed %d; want %d, 3", res.Written, res.Failed, n-3)
			}
			failures := readJSONLines(t, path)
			got := map[int64]dataverse.BulkFailure{}
			for _, f := range failures {
				got[f.Position] = f
			}
			if len(failures) != 3 || len(got) != 3 {
				t.Fatalf("the error file holds %d failures at positions %v; want 3, at 17, 1500 and 2999", len(failures), got)
			}
			for pos := range bad {
				f, ok := got[int64(pos)]
				if !ok {
					t.Errorf("row %d is not in the error file", pos)
					continue
				}
				if f.StatusCode < 400 || f.StatusCode >= 500 || !strings.HasPrefix(f.Code, "0x") || f.Message == "" || f.ID == "" {
					t.Errorf("row %d: failure %+v lacks its status, code, message or id", pos, f)
				}
				var rec dataverse.Record
				if err := json.Unmarshal(f.Record, &rec); err != nil || rec["new_code"] != fmt.Sprintf("CODE-%07d", pos) {
					t.Errorf("row %d: the failure's record is %s", pos, f.Record)
				}
				t.Logf("row %d: %d %s %s", pos, f.StatusCode, f.Code, f.Message)
			}
			checkItems(t, env.clients[0], n, itemRow, map[int]bool{17: true, 1500: true, 2999: true})
		})
	}
}
