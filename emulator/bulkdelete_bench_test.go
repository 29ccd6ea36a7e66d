package emulator_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator"
)

// bulkDeleteRows is how many accounts each benchmark iteration deletes.
const bulkDeleteRows = 1000

// seedAccounts creates n accounts named "Bench <i>" with CreateMultiple and returns their ids.
func seedAccounts(b *testing.B, emu *emulator.Emulator, token string, n int) []string {
	b.Helper()
	var sb strings.Builder
	sb.WriteString(`{"Targets":[`)
	for i := range n {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"Bench %d"}`, i)
	}
	sb.WriteString(`]}`)
	r := callAPI(b, emu, token, http.MethodPost, "accounts/Microsoft.Dynamics.CRM.CreateMultiple", sb.String())
	if r.status != http.StatusOK {
		b.Fatalf("CreateMultiple: %d %s", r.status, r.message)
	}
	var ids []string
	for _, id := range r.body["Ids"].([]any) {
		ids = append(ids, id.(string))
	}
	return ids
}

// BenchmarkBulkDeleteJob deletes 1,000 accounts with one BulkDelete call and polls the job until
// it completes: the time a caller waits for the rows to be gone.
func BenchmarkBulkDeleteJob(b *testing.B) {
	off := emulator.LimitsOff()
	emu, err := emulator.New(&emulator.Options{Limits: &off})
	if err != nil {
		b.Fatal(err)
	}
	defer emu.Close()
	token := benchToken(b, emu)
	for b.Loop() {
		b.StopTimer()
		seedAccounts(b, emu, token, bulkDeleteRows)
		b.StartTimer()
		querySet := `[{"EntityName":"account","Criteria":{"Conditions":[{"AttributeName":"name","Operator":"BeginsWith","Values":["Bench "]}]}}]`
		r := callAPI(b, emu, token, http.MethodPost, "BulkDelete", bulkDeleteBody(querySet, ""))
		if r.status != http.StatusOK {
			b.Fatalf("BulkDelete: %d %s", r.status, r.message)
		}
		if job := pollJob(b, emu, token, r.body["JobId"].(string)); job["statuscode"] != float64(30) {
			b.Fatalf("job: %v", job)
		}
	}
	b.ReportMetric(float64(bulkDeleteRows), "rows/op")
}

// BenchmarkDeleteOneByOne deletes the same 1,000 accounts with one DELETE request each, the
// alternative a client without BulkDelete has.
func BenchmarkDeleteOneByOne(b *testing.B) {
	off := emulator.LimitsOff()
	emu, err := emulator.New(&emulator.Options{Limits: &off})
	if err != nil {
		b.Fatal(err)
	}
	defer emu.Close()
	token := benchToken(b, emu)
	for b.Loop() {
		b.StopTimer()
		ids := seedAccounts(b, emu, token, bulkDeleteRows)
		b.StartTimer()
		for _, id := range ids {
			if r := callAPI(b, emu, token, http.MethodDelete, "accounts("+id+")", ""); r.status != http.StatusNoContent {
				b.Fatalf("DELETE: %d %s", r.status, r.message)
			}
		}
	}
	b.ReportMetric(float64(bulkDeleteRows), "rows/op")
}

func benchToken(b *testing.B, emu *emulator.Emulator) string {
	c := emu.Credentials()
	return mustToken(b, emu, secretCredential(b, emu, c.TenantID, c.ClientID, c.ClientSecret))
}
