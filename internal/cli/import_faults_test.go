package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// faultsScenario gives contacts an alternate key on emailaddress1.
const faultsScenario = `
tenants:
  - domain: faults.onmicrosoft.com
apps:
  - name: faults-app
    secrets:
      - value: "faults~scenario~secret~for~the~emulator~only"
applicationUsers:
  - app: faults-app
    roles: [System Administrator]
schema:
  tables:
    - logicalName: contact
      keys:
        - {schemaName: contact_email, columns: [emailaddress1]}
`

// TestImportThroughFaults runs d365 import (in this process) while the emulator throttles 10% of
// the writes, answers 5% with 503 and drops 1% of the connections (bulk messages and $batch alike): in each mode (create, upsert
// by id, upsert by alternate key) every row is read back equal, none is missing or duplicated,
// the error file is empty and the exit status is 0. At full size it imports 100,000 rows per mode
// in batches of 1,000; under -race, 1,500 rows in batches of 50 (the same number of requests
// order of magnitude, so the faults still fire on every mode).
func TestImportThroughFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("imports 3 x 100,000 rows (1,500 under -race) through injected faults")
	}
	t.Parallel()
	sc, err := emulator.ParseScenario([]byte(faultsScenario), "faults.yaml")
	if err != nil {
		t.Fatal(err)
	}
	env := emulatortest.New(t, &emulator.Options{Scenario: sc, FaultSeed: 9})
	for _, f := range []emulator.FaultRule{
		{Trigger: emulator.FaultTrigger{Probability: 0.10}, Action: emulator.FaultAction{Kind: emulator.ActionThrottle, RetryAfter: 1}},
		{Trigger: emulator.FaultTrigger{Probability: 0.05}, Action: emulator.FaultAction{Kind: emulator.ActionError, Status: 503}},
		{Trigger: emulator.FaultTrigger{Probability: 0.01}, Action: emulator.FaultAction{Kind: emulator.ActionDrop}},
	} {
		// Every write: CreateMultiple/UpsertMultiple on contacts, and the $batch fallback.
		f.Match = emulator.FaultMatch{PathPrefix: "/api/data/", Methods: []string{"POST", "PATCH"}}
		if _, err := env.Emulator.AddFault(f); err != nil {
			t.Fatal(err)
		}
	}
	client, err := dataverse.NewClient(env.OrgURL, env.Credential, &dataverse.ClientOptions{ClientOptions: env.ClientOptions})
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, env.Emulator.CACertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"D365_URL": env.OrgURL, "D365_CA_FILE": caFile, "AZURE_AUTHORITY_HOST": env.Emulator.AuthorityHost(),
		"AZURE_TENANT_ID": env.Credentials.TenantID, "AZURE_CLIENT_ID": env.Credentials.ClientID,
		"AZURE_CLIENT_SECRET": env.Credentials.ClientSecret,
	}
	ctx := context.Background()
	rows, batchSize := 100_000, "1000"
	if raceEnabled {
		rows, batchSize = 1500, "50"
	}
	tests := []struct {
		mode   string
		header string
		row    func(i int) string
		args   []string
	}{
		{"create", "lastname,numberofchildren,emailaddress1", func(i int) string {
			return fmt.Sprintf("Fcreate%05d,%d,create%d@example.com", i, i%7, i)
		}, nil},
		{"upsert-id", "contactid,lastname,numberofchildren,emailaddress1", func(i int) string {
			return fmt.Sprintf("f0000000-0000-4000-8000-%012d,Fupsert-id%05d,%d,upsertid%d@example.com", i, i, i%7, i)
		}, []string{"--mode", "upsert"}},
		{"upsert-key", "emailaddress1,lastname,numberofchildren", func(i int) string {
			return fmt.Sprintf("upsertkey%d@example.com,Fupsert-key%05d,%d", i, i, i%7)
		}, []string{"--mode", "upsert", "--key", "emailaddress1"}},
	}
	var seq uint64
	for _, tt := range tests {
		dir := t.TempDir()
		input, errorsFile := filepath.Join(dir, "rows.csv"), filepath.Join(dir, "failed.jsonl")
		var b strings.Builder
		b.WriteString(tt.header + "\n")
		for i := range rows {
			b.WriteString(tt.row(i) + "\n")
		}
		if err := os.WriteFile(input, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		var errOut strings.Builder
		args := append([]string{"import", "contacts", input, "--errors", errorsFile, "--batch-size", batchSize, "--progress-interval", "1h"}, tt.args...)
		if code := runInProcessWithVars(ctx, args, &errOut, vars); code != 0 {
			t.Fatalf("%s: exit %d\n%s", tt.mode, code, errOut.String())
		}
		faulted := map[string]int{}
		for _, e := range env.Emulator.RequestLog(emulator.LogFilter{After: seq}) {
			seq = e.Seq
			if len(e.Faults) > 0 {
				path, _, _ := strings.Cut(e.Path, "?")
				faulted[fmt.Sprintf("%s %s %d%s", e.Method, path, e.Status, e.Outcome)]++
			}
		}
		t.Logf("%s: %s; faults: %v", tt.mode, strings.TrimSpace(errOut.String()), faulted)
		if len(faulted) == 0 {
			t.Errorf("%s: no fault fired; the test did not test anything", tt.mode)
		}
		if b, err := os.ReadFile(errorsFile); err != nil || len(b) != 0 {
			t.Errorf("%s: error file = %q, %v; want empty", tt.mode, b, err)
		}
		prefix := "F" + tt.mode
		seen := map[string]int{}
		pager := client.Pager("contacts", &dataverse.ListOptions{Query: dataverse.Query{
			Select: []string{"lastname", "numberofchildren"}, Filter: "startswith(lastname,'" + prefix + "')"}})
		for rec, err := range pager.All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			name, _ := rec.String("lastname")
			var i int
			if _, err := fmt.Sscanf(strings.TrimPrefix(name, prefix), "%d", &i); err != nil {
				t.Fatalf("%s: unexpected row %q", tt.mode, name)
			}
			if got := fmt.Sprint(rec["numberofchildren"]); got != fmt.Sprint(i%7) {
				t.Errorf("%s: %s has numberofchildren %s, want %d", tt.mode, name, got, i%7)
			}
			seen[name]++
		}
		missing, dups := 0, 0
		for i := range rows {
			switch seen[fmt.Sprintf("%s%05d", prefix, i)] {
			case 0:
				missing++
			case 1:
			default:
				dups++
			}
		}
		if missing > 0 || dups > 0 || len(seen) != rows {
			t.Errorf("%s: %d distinct rows of %d, %d missing, %d duplicated", tt.mode, len(seen), rows, missing, dups)
		}
	}
}
