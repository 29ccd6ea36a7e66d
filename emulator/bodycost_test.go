package emulator_test

import (
	"bytes"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator"
)

// manyFieldBody is a valid JSON object with n distinct fields: {"f0":0,"f1":0,…}.
func manyFieldBody(n int) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"f`)
		b.WriteString(strconv.Itoa(i))
		b.WriteString(`":0`)
	}
	b.WriteByte('}')
	return b.Bytes()
}

// manyValueTargets is a CreateMultiple body whose Targets array holds n numbers.
func manyValueTargets(n int) []byte {
	return []byte(`{"Targets":[` + strings.Repeat("0,", n-1) + `0]}`)
}

// A body whose cost exceeds what any row of the table could need is refused with Dataverse's
// payload error before it is decoded: what the emulator allocates to answer it is a small multiple
// of the body (read once), not the many times the body that decoding every field costs.
//
// Not parallel: it reads the process's allocation counter, so nothing else may run meanwhile.
func TestCostlyBodyIsRefusedBeforeDecoding(t *testing.T) {
	emu := start(t, &emulator.Options{Limits: ptr(emulator.LimitsOff())})
	token := v1Token(t, emu)
	for _, tt := range []struct {
		name, path string
		body       []byte
		wantReason string
	}{
		{"300,000 fields in one record", "contacts", manyFieldBody(300_000), "properties and annotations in one object"},
		{"1,100,000 values in Targets", "contacts/Microsoft.Dynamics.CRM.CreateMultiple", manyValueTargets(1_100_000), "values"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, emu.OrgURL()+"/api/data/v9.2/"+tt.path, bytes.NewReader(tt.body))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			req.ContentLength = int64(len(tt.body))
			runtime.GC()
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			resp, err := emu.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			runtime.ReadMemStats(&after)
			allocated := after.TotalAlloc - before.TotalAlloc
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), "0x80048d19") || !strings.Contains(string(raw), tt.wantReason) {
				t.Errorf("answer %d %.300s, want 400 0x80048d19 naming the limit (%s)", resp.StatusCode, raw, tt.wantReason)
			}
			// Reading the body costs about its size; decoding it costs ten to twenty times that.
			if ceiling := 6 * uint64(len(tt.body)); allocated > ceiling {
				t.Errorf("answering a %d-byte body allocated %d bytes (%.1fx the body), want at most %d (6x): it was decoded",
					len(tt.body), allocated, float64(allocated)/float64(len(tt.body)), ceiling)
			}
			t.Logf("%d-byte body: %d bytes allocated while answering (%.1fx)", len(tt.body), allocated, float64(allocated)/float64(len(tt.body)))
		})
	}
}

// Nesting deeper than any deep insert can be is refused by name.
func TestDeeplyNestedBodyIsRefused(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	token := v1Token(t, emu)
	body := `{"lastname":"x","description":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `}`
	res := callAPI(t, emu, token, http.MethodPost, "contacts", body)
	if res.status != http.StatusBadRequest || res.code != "0x80048d19" || !strings.Contains(res.message, "depth") {
		t.Errorf("answer %d %s %q, want 400 0x80048d19 naming the depth limit", res.status, res.code, res.message)
	}
}
