package dataverse_test

import (
	"context"
	"fmt"
	"io"
	"testing"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
)

// BenchmarkSyncDelta measures what a delta read of 100 changes costs at two table sizes, in the
// same run, against a full export of the same table: with change tracking the delta's cost should
// follow the number of changes, not the number of rows. Each delta/op updates 100 rows (outside
// the timer) and then times one Sync.Changes that reads them (a request for the delta link and
// the 100 upserts yielded and applied); each export/op times Client.Export of the whole table
// (JSON Lines to io.Discard). The emulator runs in the benchmark's process, so the figures
// include the server's work, which is the point: they are the cost of the read end to end. The
// position is kept in memory (a FileSyncCheckpoint adds one small atomic file write per page).
//
//	go test -run '^$' -bench 'SyncDelta' -benchtime 20x -timeout 30m ./dataverse
//
// Results: docs/benchmarks.md ("Incremental sync").
func BenchmarkSyncDelta(b *testing.B) {
	for _, rows := range []int{10_000, 200_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			env, ids := syncEnv(b, 0, nil)
			for first := 0; first < rows; first += 50_000 {
				ids = append(ids, seedContacts(b, env.client, first, min(50_000, rows-first))...)
			}
			// The position is kept in memory: the benchmark times the read, not the fsync of a
			// state file, whose latency follows whatever else the machine writes.
			cp := &memoryCheckpoint{}
			opts := &dataverse.SyncOptions{Select: []string{"firstname", "lastname"}, PrimaryKey: "contactid"}
			mirror := newReplica()
			runSync(b, env.client.NewSync("contacts", cp, opts), mirror) // the initial load
			if len(mirror.rows) != rows {
				b.Fatalf("the load read %d rows, want %d", len(mirror.rows), rows)
			}
			b.Run("delta100", func(b *testing.B) {
				round := 0
				for b.Loop() {
					b.StopTimer()
					round++
					touch := make([]uuid.UUID, 100)
					for i := range touch {
						touch[i] = ids[(round*100+i*(rows/100))%rows]
					}
					updateNames(b, env.client, touch, fmt.Sprintf("R%d", round))
					b.StartTimer()
					if got := runSync(b, env.client.NewSync("contacts", cp, opts), mirror); len(got) != 100 {
						b.Fatalf("the delta held %d changes, want 100", len(got))
					}
				}
				b.ReportMetric(100, "changes/op")
			})
			b.Run("export", func(b *testing.B) {
				for b.Loop() {
					res, err := env.client.Export(b.Context(), io.Discard, "contacts", &dataverse.ExportOptions{Query: dataverse.Query{Select: []string{"firstname", "lastname"}}})
					if err != nil {
						b.Fatal(err)
					}
					if res.Rows != int64(rows) {
						b.Fatalf("exported %d rows, want %d", res.Rows, rows)
					}
				}
				b.ReportMetric(float64(rows), "rows/op")
			})
		})
	}
}

// updateNames sets the first name of each row with one UpdateMultiple.
func updateNames(b *testing.B, c *dataverse.Client, ids []uuid.UUID, name string) {
	b.Helper()
	rows := make([]map[string]any, len(ids))
	for i, id := range ids {
		rows[i] = map[string]any{"contactid": id.String(), "firstname": name}
	}
	if err := dataverse.UpdateMultiple(b.Context(), c, "contacts", "contact", rows, nil); err != nil {
		b.Fatal(err)
	}
}

// memoryCheckpoint keeps a sync's position in memory.
type memoryCheckpoint struct{ st *dataverse.SyncState }

func (m *memoryCheckpoint) Load(context.Context) (*dataverse.SyncState, error) { return m.st, nil }

func (m *memoryCheckpoint) Save(_ context.Context, st *dataverse.SyncState) error {
	m.st = st
	return nil
}
