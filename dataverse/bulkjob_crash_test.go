package dataverse_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// The crash test runs the job in a child process (this test binary, re-executed to run
// TestBulkJobCrashHelper), kills it with SIGKILL while requests are in flight, twice, and then
// finishes the job from its checkpoint. The child reaches the parent's emulator over HTTPS, as
// any other program would.

// crashHelperEnv names the environment variable that makes TestBulkJobCrashHelper run; it holds
// the job's settings as JSON.
const crashHelperEnv = "D365_BULK_CRASH_HELPER"

// crashJob is what the child needs to run the job.
type crashJob struct {
	childConn
	Checkpoint, Errors string
	Rows               int
}

// TestBulkJobCrashHelper is the child process of TestBulkJobCrashAndResume; it does nothing in
// an ordinary run.
func TestBulkJobCrashHelper(t *testing.T) {
	spec := os.Getenv(crashHelperEnv)
	if spec == "" {
		t.Skip("runs only as the child process of TestBulkJobCrashAndResume")
	}
	var job crashJob
	if err := json.Unmarshal([]byte(spec), &job); err != nil {
		t.Fatal(err)
	}
	res, err := runCrashJob(t, &job)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	fmt.Printf("finished: %+v\n", res)
}

// runCrashJob runs the crash test's job with a client of its own.
func runCrashJob(t testing.TB, job *crashJob) (*dataverse.BulkResult, error) {
	c := job.client(t)
	sink, err := dataverse.OpenJSONLinesErrorFile(job.Errors)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	bj, err := dataverse.NewBulkJob([]*dataverse.Client{c}, "new_items", &dataverse.BulkJobOptions{
		BatchSize:          100,
		Checkpoint:         job.Checkpoint,
		CheckpointInterval: 200 * time.Millisecond,
		Errors:             sink,
	})
	if err != nil {
		t.Fatal(err)
	}
	return bj.Run(t.Context(), itemRows(job.Rows, itemRow))
}

// checkpointDone reads how many positions the checkpoint at path marks done (0 when there is no
// checkpoint yet or it is being replaced).
func checkpointDone(path string) (done int64, dispatched int64) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, 0
	}
	var cp struct {
		Done       int64      `json:"done"`
		Ranges     [][2]int64 `json:"ranges"`
		Dispatched int64      `json:"dispatched"`
	}
	if json.Unmarshal(data, &cp) != nil {
		return 0, 0
	}
	done = cp.Done
	for _, r := range cp.Ranges {
		done += r[1] - r[0]
	}
	return done, cp.Dispatched
}

// TestBulkJobCrashAndResume: a create job without ids in its rows, under faults, killed with
// SIGKILL twice while requests are in flight and resumed from its checkpoint, writes every row
// exactly once, with the ids derived from the input, and its error file stays empty.
func TestBulkJobCrashAndResume(t *testing.T) {
	if os.Getenv(crashHelperEnv) != "" {
		t.Skip("in the child process")
	}
	t.Parallel()
	n := bulkFaultRows() / 2
	env := newBulkEnv(t, &emulator.Options{FaultSeed: 3})
	dir := t.TempDir()
	job := &crashJob{
		childConn: childConn{OrgURL: env.OrgURL, Authority: env.Emulator.AuthorityHost(), Tenant: env.Emulator.TenantID(),
			ClientID: "0b5c1d3e-0000-4000-8000-000000000001", ClientSecret: "bulk~scenario~secret~one~for~the~emulator~only",
			CAFile: writeCAFile(t, dir, env.Emulator.CACertPEM())},
		Checkpoint: filepath.Join(dir, "job.checkpoint"), Errors: filepath.Join(dir, "errors.jsonl"), Rows: n,
	}
	clear := addFaults(t, env.Emulator, webAPIFaults())

	var lastDone int64
	for kill := 1; kill <= 2; kill++ {
		cmd, exited, out := startChild(t, "TestBulkJobCrashHelper", crashHelperEnv, job)
		// Kill it once the checkpoint shows another third of the rows done.
		target := int64(kill * n / 3)
		killed := false
		for !killed {
			select {
			case err := <-exited:
				t.Fatalf("the job ended before it was killed (%v):\n%s", err, out.String())
			case <-time.After(10 * time.Millisecond):
			}
			if done, _ := checkpointDone(job.Checkpoint); done >= target {
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
				killed = true
			}
		}
		<-exited
		done, dispatched := checkpointDone(job.Checkpoint)
		t.Logf("kill %d: the checkpoint marks %d of %d rows done, %d dispatched", kill, done, n, dispatched)
		if done < lastDone || done >= int64(n) {
			t.Fatalf("after kill %d the checkpoint marks %d rows done (before: %d, rows: %d)", kill, done, lastDone, n)
		}
		lastDone = done
	}

	upsertsBefore := countRequests(env.Emulator, "UpsertMultiple")
	res, err := runCrashJob(t, job)
	fired := clear()
	if err != nil {
		t.Fatalf("the resumed job: %v", err)
	}
	t.Logf("resumed: %+v; faults fired %v", res, fired)
	if res.Skipped != lastDone || res.Written+res.Skipped != int64(n) || res.Failed != 0 {
		t.Errorf("the resumed job skipped %d (want %d, the checkpoint's), wrote %d, failed %d; want %d in all", res.Skipped, lastDone, res.Written, res.Failed, n)
	}
	if countRequests(env.Emulator, "UpsertMultiple") == upsertsBefore {
		t.Errorf("the resumed job sent no UpsertMultiple: the rows the killed job may have sent were created again")
	}
	if f := readJSONLines(t, job.Errors); len(f) != 0 {
		t.Errorf("the error file holds %d failures, the first: %+v", len(f), f[0])
	}
	checkItems(t, env.clients[0], n, itemRow, nil)
}

// countRequests counts the Web API requests whose path contains part.
func countRequests(emu *emulator.Emulator, part string) int {
	n := 0
	for _, e := range emu.RequestLog(emulator.LogFilter{}) {
		if strings.Contains(e.Path, part) {
			n++
		}
	}
	return n
}
