package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// TestBatchSplitsAtTheOperationLimit runs "d365 batch" with 1,203 operations against the
// emulator: they go out as two $batch requests (Dataverse takes at most 1,000 operations in one),
// the 400-operation change set whole in the second, and every operation gets its own result.
func TestBatchSplitsAtTheOperationLimit(t *testing.T) {
	t.Parallel()
	off := emulator.LimitsOff()
	env := emulatortest.New(t, &emulator.Options{Limits: &off})
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, env.Emulator.CACertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{
		"D365_URL": env.OrgURL, "D365_CA_FILE": caFile, "AZURE_AUTHORITY_HOST": env.Emulator.AuthorityHost(),
		"AZURE_TENANT_ID": env.Credentials.TenantID, "AZURE_CLIENT_ID": env.Credentials.ClientID,
		"AZURE_CLIENT_SECRET": env.Credentials.ClientSecret,
	}
	// 800 creates outside any change set, then a change set of 400 creates (operations 800 to
	// 1199: it would straddle the limit), then 3 GETs.
	var ops []batchOperation
	for i := range 800 {
		ops = append(ops, batchOperation{Method: "POST", URL: "contacts", Body: json.RawMessage(fmt.Sprintf(`{"lastname":"Split%04d"}`, i))})
	}
	for i := range 400 {
		ops = append(ops, batchOperation{Method: "POST", URL: "contacts", ChangeSet: "big", Body: json.RawMessage(fmt.Sprintf(`{"lastname":"Set%04d"}`, i))})
	}
	for range 3 {
		ops = append(ops, batchOperation{Method: "GET", URL: "WhoAmI"})
	}
	data, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	opsFile := filepath.Join(dir, "ops.json")
	if err := os.WriteFile(opsFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	env.Emulator.ClearRequestLog()
	var out, errOut strings.Builder
	code := run(context.Background(), []string{"batch", opsFile, "-o", "jsonl"}, &IOStreams{
		In: strings.NewReader(""), Out: &out, ErrOut: &errOut,
		LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok },
	})
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errOut.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != len(ops) {
		t.Fatalf("%d results for %d operations", len(lines), len(ops))
	}
	for i, l := range lines {
		var r batchOperationResult
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("result %d: %v", i, err)
		}
		want := 204
		if i >= 1200 {
			want = 200
		}
		if r.Index != i || r.Status != want || r.Error != nil {
			t.Fatalf("result %d = %s, want index %d status %d", i, l, i, want)
		}
	}
	batches := env.Emulator.RequestLog(emulator.LogFilter{Method: "POST", PathPrefix: "/api/data/v9.2/$batch"})
	if len(batches) != 2 {
		t.Errorf("%d $batch requests, want 2 (800 operations, then the change set of 400 and 3 GETs)", len(batches))
	}
	if !strings.Contains(errOut.String(), "d365: batch: 1203 operations, 1203 succeeded, 0 failed, 0 not run") {
		t.Errorf("stderr: %s", errOut.String())
	}
}
