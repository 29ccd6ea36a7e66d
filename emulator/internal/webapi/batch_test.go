package webapi_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/webapi"
)

// crlf turns a readable batch body (LF lines) into the CRLF one the wire
// needs.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// batchResult is one response part: its status, Content-ID and body.
type batchResult struct {
	status    int
	contentID string
	header    http.Header
	body      string
	changeset []batchResult
}

// readBatch parses a multipart batch response.
func readBatch(t *testing.T, r *response) []batchResult {
	t.Helper()
	media, params, err := mime.ParseMediaType(r.header.Get("Content-Type"))
	if err != nil || media != "multipart/mixed" || !strings.HasPrefix(params["boundary"], "batchresponse_") {
		t.Fatalf("batch response Content-Type = %q (%s)", r.header.Get("Content-Type"), r.body)
	}
	return readParts(t, bytes.NewReader(r.body), params["boundary"])
}

func readParts(t *testing.T, body io.Reader, boundary string) []batchResult {
	t.Helper()
	var out []batchResult
	mr := multipart.NewReader(body, boundary)
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		media, params, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		if media == "multipart/mixed" {
			if !strings.HasPrefix(params["boundary"], "changesetresponse_") {
				t.Errorf("changeset boundary %q", params["boundary"])
			}
			out = append(out, batchResult{changeset: readParts(t, part, params["boundary"])})
			continue
		}
		raw, _ := io.ReadAll(part)
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
		if err != nil {
			t.Fatalf("%v in part:\n%q", err, raw)
		}
		data, _ := io.ReadAll(resp.Body)
		out = append(out, batchResult{status: resp.StatusCode, contentID: part.Header.Get("Content-ID"), header: resp.Header, body: string(data)})
	}
}

func statuses(results []batchResult) []any {
	var out []any
	for _, r := range results {
		if r.changeset != nil {
			out = append(out, statuses(r.changeset))
		} else {
			out = append(out, r.status)
		}
	}
	return out
}

func TestBatch(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	body := crlf(`--batch_AAA
Content-Type: application/http
Content-Transfer-Encoding: binary

POST /api/data/v9.2/tasks HTTP/1.1
Content-Type: application/json; type=entry

{"subject":"Task 1"}
--batch_AAA
Content-Type: multipart/mixed; boundary="changeset_BBB"

--changeset_BBB
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

POST ` + e.org + `/api/data/v9.2/contacts HTTP/1.1
Content-Type: application/json

{"firstname":"Ann","lastname":"Lee"}
--changeset_BBB
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 2

PUT $1/lastname HTTP/1.1
Content-Type: application/json

{"value":"Leigh"}
--changeset_BBB
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 3

POST accounts HTTP/1.1
Content-Type: application/json
Prefer: return=representation

{"name":"Batch Co","primarycontactid@odata.bind":"$1"}
--changeset_BBB--
--batch_AAA
Content-Type: application/http
Content-Transfer-Encoding: binary

GET /api/data/v9.2/contacts?$select=fullname HTTP/1.1
Accept: application/json


--batch_AAA--
`)
	r := e.call(http.MethodPost, api+"$batch", tokenAdmin, body, "Content-Type", `multipart/mixed; boundary="batch_AAA"`)
	if r.status != http.StatusOK {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	results := readBatch(t, r)
	if diff := cmp.Diff([]any{204, []any{204, 204, 201}, 200}, statuses(results)); diff != "" {
		t.Fatalf("statuses (-want +got):\n%s\n%s", diff, r.body)
	}
	cs := results[1].changeset
	if cs[0].contentID != "1" || cs[2].contentID != "3" {
		t.Errorf("Content-IDs not echoed: %+v", cs)
	}
	created := cs[0].header.Get("OData-EntityId")
	if created == "" || cs[0].header.Get("Location") != created {
		t.Errorf("create part headers: %v", cs[0].header)
	}
	var account map[string]any
	if err := json.Unmarshal([]byte(cs[2].body), &account); err != nil || account["name"] != "Batch Co" {
		t.Errorf("representation part: %s", cs[2].body)
	}
	if !strings.Contains(created, account["_primarycontactid_value"].(string)) {
		t.Errorf("$1 was not bound: %v vs %s", account["_primarycontactid_value"], created)
	}
	if ct := results[2].header.Get("Content-Type"); ct != "application/json; odata.metadata=minimal; odata.streaming=true" {
		t.Errorf("GET part Content-Type = %q", ct)
	}
	if !strings.Contains(results[2].body, `"fullname":"Ann Leigh"`) {
		t.Errorf("GET part: %s", results[2].body)
	}
}

// A part's absolute URL must be under this service's root: a part written for another
// organization (or scheme, or an unserved version) is refused, never run here.
func TestBatchPartOfAnotherService(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	for _, target := range []string{
		"https://other.example.com/api/data/v9.2/tasks",
		strings.Replace(e.org, "https://", "http://", 1) + "/api/data/v9.2/tasks",
		e.org + "/api/data/v8.2/tasks",
		e.org + "/other/api/data/v9.2/tasks",
	} {
		body := crlf(`--batch_X
Content-Type: application/http
Content-Transfer-Encoding: binary

POST ` + target + ` HTTP/1.1
Content-Type: application/json

{"subject":"elsewhere"}
--batch_X--
`)
		r := e.call(http.MethodPost, api+"$batch", tokenAdmin, body, "Content-Type", "multipart/mixed; boundary=batch_X")
		results := readBatch(t, r)
		if r.status != http.StatusBadRequest || len(results) != 1 || results[0].status != http.StatusBadRequest ||
			!strings.Contains(results[0].body, `"code":"0x80048d19"`) || !strings.Contains(results[0].body, "is not an address of this service") {
			t.Errorf("%s: %d %+v, want the part refused with 400 0x80048d19", target, r.status, results)
		}
	}
	if got := string(e.call(http.MethodGet, api+"tasks/$count", tokenAdmin, nil).body); got != "0" {
		t.Errorf("tasks after refused parts = %s, want 0", got)
	}
	// The organization's own absolute URL, any served version, still runs.
	body := crlf(`--batch_X
Content-Type: application/http
Content-Transfer-Encoding: binary

POST ` + e.org + `/api/data/v9.0/tasks HTTP/1.1
Content-Type: application/json

{"subject":"here"}
--batch_X--
`)
	r := e.call(http.MethodPost, api+"$batch", tokenAdmin, body, "Content-Type", "multipart/mixed; boundary=batch_X")
	if diff := cmp.Diff([]any{204}, statuses(readBatch(t, r))); r.status != http.StatusOK || diff != "" {
		t.Errorf("own absolute URL: %d %s", r.status, diff)
	}
}

func TestBatchFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	changeset := func(secondSubject string) string {
		return `--batch_X
Content-Type: multipart/mixed; boundary=changeset_Y

--changeset_Y
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

POST /api/data/v9.2/tasks HTTP/1.1
Content-Type: application/json

{"subject":"first"}
--changeset_Y
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 2

POST /api/data/v9.2/tasks HTTP/1.1
Content-Type: application/json

{"subject":"` + secondSubject + `"}
--changeset_Y--
--batch_X
Content-Type: application/http
Content-Transfer-Encoding: binary

POST /api/data/v9.2/tasks HTTP/1.1
Content-Type: application/json

{"subject":"after"}
--batch_X--
`
	}
	taskCount := func() string {
		return string(e.call(http.MethodGet, api+"tasks/$count", tokenAdmin, nil).body)
	}
	ct := []string{"Content-Type", "multipart/mixed; boundary=batch_X"}

	// A failing changeset rolls back, and the batch stops there.
	r := e.call(http.MethodPost, api+"$batch", tokenAdmin, crlf(changeset(strings.Repeat("x", 201))), ct...)
	if r.status != http.StatusBadRequest {
		t.Fatalf("status %d %s", r.status, r.body)
	}
	results := readBatch(t, r)
	if len(results) != 1 || results[0].status != 400 || !strings.Contains(results[0].body, `"code":"0x80044331"`) {
		t.Errorf("failed batch body: %+v", results)
	}
	if got := taskCount(); got != "0" {
		t.Errorf("tasks after a failed changeset = %s", got)
	}
	// With continue-on-error the batch goes on.
	r = e.call(http.MethodPost, api+"$batch", tokenAdmin, crlf(changeset(strings.Repeat("x", 201))), append(ct, "Prefer", "odata.continue-on-error")...)
	if diff := cmp.Diff([]any{400, 204}, statuses(readBatch(t, r))); r.status != http.StatusOK || diff != "" {
		t.Errorf("continue-on-error: %d %s", r.status, diff)
	}
	if got := taskCount(); got != "1" {
		t.Errorf("tasks after continue-on-error = %s", got)
	}
	// The honoured preference is echoed, as the service echoes every
	// preference it applies; a batch without it gets no such header.
	if got := r.header.Values("Preference-Applied"); !slices.Equal(got, []string{"odata.continue-on-error"}) {
		t.Errorf("Preference-Applied with continue-on-error = %q", got)
	}
	// odata.continue-on-error=false asks for the default: stop at the failure, nothing echoed.
	r = e.call(http.MethodPost, api+"$batch", tokenAdmin, crlf(changeset(strings.Repeat("x", 201))), append(ct, "Prefer", "odata.continue-on-error=false")...)
	if diff := cmp.Diff([]any{400}, statuses(readBatch(t, r))); r.status != http.StatusBadRequest || diff != "" {
		t.Errorf("continue-on-error=false: %d %s", r.status, diff)
	}
	if got := r.header.Values("Preference-Applied"); len(got) != 0 {
		t.Errorf("Preference-Applied with continue-on-error=false = %q", got)
	}
	// A good changeset commits both.
	r = e.call(http.MethodPost, api+"$batch", tokenAdmin, crlf(changeset("second")), ct...)
	if diff := cmp.Diff([]any{[]any{204, 204}, 204}, statuses(readBatch(t, r))); diff != "" {
		t.Errorf("good batch (-want +got):\n%s", diff)
	}
	if got := r.header.Values("Preference-Applied"); len(got) != 0 {
		t.Errorf("Preference-Applied without a preference = %q", got)
	}

	// LF-only framing is refused as Dataverse refuses it.
	r = e.call(http.MethodPost, api+"$batch", tokenAdmin, changeset("lf"), ct...)
	expectError(t, r, http.StatusBadRequest, "0x80048d19", "Error identified in Payload provided by the user for Entity :'$batch'")
	if _, msg := r.errorOf(t); !strings.Contains(msg, "Stream was not readable") {
		t.Errorf("LF message: %s", msg)
	}
	// GET inside a changeset, and a reference to an undeclared Content-ID.
	bad := crlf(`--batch_X
Content-Type: multipart/mixed; boundary=changeset_Y

--changeset_Y
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

GET /api/data/v9.2/tasks HTTP/1.1


--changeset_Y--
--batch_X
Content-Type: application/http
Content-Transfer-Encoding: binary

PATCH $5 HTTP/1.1
Content-Type: application/json

{"subject":"x"}
--batch_X--
`)
	r = e.call(http.MethodPost, api+"$batch", tokenAdmin, bad, append(ct, "Prefer", "odata.continue-on-error")...)
	results = readBatch(t, r)
	if len(results) != 2 || results[0].status != 400 || results[1].status != 400 ||
		!strings.Contains(results[1].body, "Content-ID Reference: '$5' does not exist in the batch context.") {
		t.Errorf("bad parts: %+v", results)
	}
	// Each error part carries its own REQ_ID, then the JSON content type, as
	// Dataverse's error parts do.
	ids := map[string]bool{r.header.Get("REQ_ID"): true}
	for i, res := range results {
		id := res.header.Get("REQ_ID")
		if _, err := uuid.Parse(id); err != nil || ids[id] {
			t.Errorf("part %d: REQ_ID %q, want a GUID of its own (seen %v)", i, id, ids)
		}
		ids[id] = true
		if ct := res.header.Get("Content-Type"); ct != "application/json; odata.metadata=minimal" {
			t.Errorf("part %d: Content-Type %q", i, ct)
		}
	}
	if !regexp.MustCompile("(?m)^HTTP/1.1 400 Bad Request\r\nREQ_ID: [0-9a-f-]{36}\r\nContent-Type: application/json; odata.metadata=minimal\r\nOData-Version: 4.0\r\n\r\n\\{\"error\"").Match(r.body) {
		t.Errorf("error part headers are not REQ_ID, Content-Type, OData-Version:\n%s", r.body)
	}
	r = e.call(http.MethodPost, api+"$batch", tokenAdmin, "x", "Content-Type", "application/json")
	expectError(t, r, http.StatusBadRequest, "0x80048d19", "The content type 'application/json' of a $batch request must be multipart/mixed")
}

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
