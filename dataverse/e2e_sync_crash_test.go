package dataverse_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
)

// The kill test runs a sync in a child process (this test binary, re-executed to run
// TestSyncCrashHelper) that writes each change to a file as it gets it, and is killed with
// SIGKILL at the moment it has received and written a page but not yet saved its position. The
// next run must deliver that page again: at least once, never a loss.

// syncCrashEnv names the environment variable that makes TestSyncCrashHelper run; it holds a
// syncCrashJob as JSON.
const syncCrashEnv = "D365_SYNC_CRASH_HELPER"

// syncCrashJob is what the child needs.
type syncCrashJob struct {
	childConn
	State, Out, Saving string
	PageSize           int
	// StopAtSave is the save (1-based) at which the child writes Saving and waits to be killed.
	StopAtSave int
}

// TestSyncCrashHelper is the child process of TestSyncKilledBeforeSaveRedelivers; it does nothing
// in an ordinary run.
func TestSyncCrashHelper(t *testing.T) {
	spec := os.Getenv(syncCrashEnv)
	if spec == "" {
		t.Skip("runs only as the child process of TestSyncKilledBeforeSaveRedelivers")
	}
	var job syncCrashJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		t.Fatal(err)
	}
	c := job.client(t)
	fcp, err := dataverse.OpenFileSyncCheckpoint(job.State)
	if err != nil {
		t.Fatal(err)
	}
	out, err := os.OpenFile(job.Out, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cp := &stoppingCheckpoint{SyncCheckpoint: fcp, stopAt: job.StopAtSave, saving: job.Saving}
	for ch, err := range c.NewSync("contacts", cp, &dataverse.SyncOptions{Select: []string{"firstname"}, MaxPageSize: job.PageSize}).Changes(t.Context()) {
		if err != nil {
			t.Fatal(err)
		}
		// Unbuffered: what the child wrote survives its kill, as a consumer's applied changes do.
		if _, err := out.Write(append(ch.AppendJSON(nil), '\n')); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatal("the sync ended before the save it was to be killed at")
}

// stoppingCheckpoint announces its stopAt-th save by creating the file saving, then waits there
// to be killed, before the position is written.
type stoppingCheckpoint struct {
	dataverse.SyncCheckpoint
	stopAt int
	saving string
	saves  int
}

func (c *stoppingCheckpoint) Save(ctx context.Context, st *dataverse.SyncState) error {
	if c.saves++; c.saves == c.stopAt {
		if err := os.WriteFile(c.saving, nil, 0o600); err != nil {
			return err
		}
		time.Sleep(time.Hour) // the parent kills the process here
	}
	return c.SyncCheckpoint.Save(ctx, st)
}

// TestSyncKilledBeforeSaveRedelivers: a sync killed (SIGKILL) after it received and handed out a
// page but before it saved its position delivers that page again on the next run, in a full load
// and in a delta alike: every row arrives at least once, and only the unsaved page twice.
func TestSyncKilledBeforeSaveRedelivers(t *testing.T) {
	if os.Getenv(syncCrashEnv) != "" {
		t.Skip("in the child process")
	}
	if testing.Short() {
		t.Skip("runs child processes")
	}
	t.Parallel()
	const n, pageSize = 1000, 150
	env, ids := syncEnv(t, n, nil)
	dir := t.TempDir()
	creds := env.emu.Credentials()
	job := syncCrashJob{childConn: childConn{OrgURL: env.emu.OrgURL(), Authority: env.emu.AuthorityHost(), Tenant: creds.TenantID,
		ClientID: creds.ClientID, ClientSecret: creds.ClientSecret, CAFile: writeCAFile(t, dir, env.emu.CACertPEM())},
		State: filepath.Join(dir, "contacts.sync"), PageSize: pageSize}
	ctx := t.Context()

	for _, step := range []struct {
		phase  string
		stopAt int
	}{{"full load", 3}, {"delta", 2}} {
		phase, stopAt := step.phase, step.stopAt
		if phase == "delta" {
			// Finish the load in this process, then change 500 rows: a delta of 4 pages.
			cp, err := dataverse.OpenFileSyncCheckpoint(job.State)
			if err != nil {
				t.Fatal(err)
			}
			runSync(t, env.client.NewSync("contacts", cp, &dataverse.SyncOptions{Select: []string{"firstname"}, MaxPageSize: pageSize}), newReplica())
			cp.Close()
			for _, id := range ids[:500] {
				if _, err := env.client.Update(ctx, "contacts", id, map[string]any{"firstname": "Changed"}, nil); err != nil {
					t.Fatal(err)
				}
			}
		}
		job.Out = filepath.Join(dir, strings.ReplaceAll(phase, " ", "-")+".jsonl")
		job.Saving = job.Out + ".saving"
		job.StopAtSave = stopAt
		cmd, exited, childOut := startChild(t, "TestSyncCrashHelper", syncCrashEnv, job)
		for {
			if _, err := os.Stat(job.Saving); err == nil {
				break
			}
			select {
			case err := <-exited:
				t.Fatalf("%s: the child ended before it was killed (%v):\n%s", phase, err, childOut.String())
			case <-time.After(10 * time.Millisecond):
			}
		}
		if err := cmd.Process.Kill(); err != nil { // SIGKILL
			t.Fatal(err)
		}
		<-exited

		killed := readChangeLines(t, job.Out)
		cp, err := dataverse.OpenFileSyncCheckpoint(job.State)
		if err != nil {
			t.Fatal(err)
		}
		again := runSync(t, env.client.NewSync("contacts", cp, &dataverse.SyncOptions{Select: []string{"firstname"}, MaxPageSize: pageSize}), newReplica())
		cp.Close()

		// The killed run handed out stopAt pages (the full load's reset too); the last one was
		// not saved, so the next run starts with exactly that page, without a reset.
		unsaved := killed[len(killed)-pageSize:]
		if len(again) < pageSize || !slices.Equal(changeIDs(again[:pageSize]), changeIDs(unsaved)) {
			t.Fatalf("%s: the next run does not start with the unsaved page (killed run %d changes, next run %d)", phase, len(killed), len(again))
		}
		seen := map[uuid.UUID]int{}
		for _, ch := range append(killed, again...) {
			if ch.Op == dataverse.ChangeUpsert {
				seen[ch.ID]++
			}
		}
		want := ids
		if phase == "delta" {
			want = ids[:500]
		}
		twice := 0
		for _, id := range want {
			switch seen[id] {
			case 0:
				t.Fatalf("%s: row %s was never delivered", phase, id)
			case 2:
				twice++
			}
		}
		if len(seen) != len(want) || twice != pageSize {
			t.Errorf("%s: %d rows delivered (want %d), %d twice (want the one unsaved page, %d)", phase, len(seen), len(want), twice, pageSize)
		}
		t.Logf("%s: killed after %d changes at save %d; the next run delivered %d", phase, len(killed), stopAt, len(again))
	}
}

// readChangeLines reads the changes the child wrote.
func readChangeLines(t *testing.T, path string) []dataverse.Change {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []dataverse.Change
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Op string    `json:"op"`
			ID uuid.UUID `json:"id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("%s: %q: %v", path, sc.Text(), err)
		}
		out = append(out, dataverse.Change{Op: dataverse.ChangeOp(line.Op), ID: line.ID})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func changeIDs(chs []dataverse.Change) []string {
	out := make([]string, len(chs))
	for i, ch := range chs {
		out[i] = fmt.Sprintf("%s %s", ch.Op, ch.ID)
	}
	return out
}
