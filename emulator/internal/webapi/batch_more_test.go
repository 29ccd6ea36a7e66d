package webapi_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/webapi"
	"github.com/google/go-cmp/cmp"
)

// A Content-ID names the row its part created even when the part asked
// for a representation (201 with a body and no OData-EntityId header).
func TestBatchContentIDAfterRepresentation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	body := crlf(`--batch_R
Content-Type: multipart/mixed; boundary=changeset_S

--changeset_S
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

POST /api/data/v9.2/contacts HTTP/1.1
Content-Type: application/json
Prefer: return=representation

{"lastname":"Represented"}
--changeset_S
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 2

PATCH $1 HTTP/1.1
Content-Type: application/json

{"firstname":"Ada"}
--changeset_S
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 3

POST /api/data/v9.2/accounts HTTP/1.1
Content-Type: application/json

{"name":"Bound","primarycontactid@odata.bind":"$1"}
--changeset_S--
--batch_R--
`)
	r := e.call(http.MethodPost, api+"$batch", tokenAdmin, body, "Content-Type", "multipart/mixed; boundary=batch_R")
	if r.status != http.StatusOK {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	results := readBatch(t, r)
	if diff := cmp.Diff([]any{[]any{201, 204, 204}}, statuses(results)); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s\n%s", diff, r.body)
	}
	var created map[string]any
	if err := json.Unmarshal([]byte(results[0].changeset[0].body), &created); err != nil {
		t.Fatal(err)
	}
	id, _ := created["contactid"].(string)
	if id == "" {
		t.Fatalf("representation without contactid: %s", results[0].changeset[0].body)
	}
	if got := results[0].changeset[1].header.Get("OData-EntityId"); !strings.HasSuffix(got, "/contacts("+id+")") {
		t.Errorf("PATCH $1 updated %q; want contacts(%s)", got, id)
	}
	m := e.call(http.MethodGet, api+"contacts("+id+")?$select=fullname", tokenAdmin, nil).json(t)
	if m["fullname"] != "Ada Represented" {
		t.Errorf("fullname after PATCH $1 = %v", m["fullname"])
	}
	accounts := e.call(http.MethodGet, api+"accounts?$select=_primarycontactid_value&$filter=name eq 'Bound'", tokenAdmin, nil).json(t)
	if v := accounts["value"].([]any); len(v) != 1 || v[0].(map[string]any)["_primarycontactid_value"] != id {
		t.Errorf("account bound to $1: %v", v)
	}
}

// batchOf writes a batch of n GET WhoAmI parts.
func batchOf(n int) string {
	var b strings.Builder
	for range n {
		b.WriteString("--batch_N\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET WhoAmI HTTP/1.1\r\n\r\n\r\n")
	}
	b.WriteString("--batch_N--\r\n")
	return b.String()
}

func TestBatchFramingAndSize(t *testing.T) {
	t.Parallel()
	// 1,000 parts need more than the usual test limit of 64 KiB.
	e := newEnvConfig(t, "", nil, func(o *webapi.Options) { o.MaxBodyBytes = 1 << 20 })
	ct := []string{"Content-Type", "multipart/mixed; boundary=batch_N"}
	const payloadPrefix = "Error identified in Payload provided by the user for Entity :'$batch'"

	// The closing delimiter must end with CRLF.
	for name, body := range map[string]string{
		"no final CRLF": strings.TrimSuffix(batchOf(1), "\r\n"),
		"final LF only": strings.TrimSuffix(batchOf(1), "\r\n") + "\n",
	} {
		r := e.call(http.MethodPost, api+"$batch", tokenAdmin, body, ct...)
		expectError(t, r, http.StatusBadRequest, "0x80048d19", payloadPrefix)
		if _, msg := r.errorOf(t); !strings.Contains(msg, "Stream was not readable.") {
			t.Errorf("%s: message %q", name, msg)
		}
	}
	r := e.call(http.MethodPost, api+"$batch", tokenAdmin, batchOf(1), ct...)
	if r.status != http.StatusOK || len(readBatch(t, r)) != 1 {
		t.Errorf("one part with the final CRLF: %d %s", r.status, r.body)
	}

	// 1,000 requests are the limit; 1,001 are refused before any runs.
	r = e.call(http.MethodPost, api+"$batch", tokenAdmin, batchOf(1000), ct...)
	if r.status != http.StatusOK {
		t.Fatalf("1,000 parts: %d %.300s", r.status, r.body)
	}
	if got := len(readBatch(t, r)); got != 1000 {
		t.Errorf("1,000 parts answered with %d", got)
	}
	r = e.call(http.MethodPost, api+"$batch", tokenAdmin, batchOf(1001), ct...)
	expectError(t, r, http.StatusBadRequest, "0x80048d19", "The number of requests in the batch exceeds the maximum of "+strconv.Itoa(1000)+".")
}
