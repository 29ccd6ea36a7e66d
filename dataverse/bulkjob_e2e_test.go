package dataverse_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

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
		c, err := dataverse.NewClient(env.OrgURL, env.SecretCredential(t, creds), &dataverse.ClientOptions{ClientOptions: env.ClientOptions})
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
// once, the totals add up and both application users did some of the work.
func TestBulkJobCreatesEveryRowOnce(t *testing.T) {
	t.Parallel()
	env := newBulkEnv(t, nil)
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
		t.Errorf("the last progress event is not the final one with every row: %+v", events)
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

var _ = filepath.Join
