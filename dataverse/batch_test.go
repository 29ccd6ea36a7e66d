package dataverse

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(want, got) {
		t.Errorf("%s differs (-want +got):\n%s", name, cmp.Diff(string(want), string(got)))
	}
}

func testClient(t *testing.T) *Client {
	t.Helper()
	c, err := NewClient("https://contoso.crm.dynamics.com", &fakeCredential{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// sampleBatch has a query, a change set with Content-ID references, and
// writes with per-part headers.
func sampleBatch() *Batch {
	b := NewBatch()
	b.Add(QueryRequest("accounts", Query{Select: []string{"name"}, Filter: Eq("name", "O'Neil & Sons").String(), Top: 3, MaxPageSize: 3}))
	cs := b.ChangeSet()
	ref := cs.Add(CreateRequest("contacts", Record{"firstname": "Ada"}))
	cs.Add(BatchRequest{Method: "PUT", Path: ref + "/lastname", Body: map[string]string{"value": "Lovelace"}})
	cs.Add(CreateRequest("tasks", Record{"subject": "Call", "regardingobjectid_contact_task@odata.bind": ref}))
	del := DeleteRequest("contacts", idA)
	del.Header = map[string][]string{"If-Match": {`W/"12"`}}
	b.Add(del)
	up := UpdateRequest("accounts", idB, Record{"name": "Zoë"})
	up.Header.Set("Prefer", "return=representation")
	b.Add(up)
	return b
}

func TestBatchBodyGolden(t *testing.T) {
	t.Parallel()
	c := testClient(t)
	b := sampleBatch()
	var buf bytes.Buffer
	n := 0
	if err := c.encodeBatch(&buf, b.items, "batch_TEST", func() string { n++; return fmt.Sprintf("changeset_TEST%d", n) }); err != nil {
		t.Fatal(err)
	}
	golden(t, "batch_request.golden", buf.Bytes())
	if bytes.Contains(bytes.ReplaceAll(buf.Bytes(), []byte("\r\n"), nil), []byte("\n")) {
		t.Error("the body has a bare LF; the service requires CRLF")
	}
	// An independent reading of the body: every part is a valid HTTP request.
	reqs := readBatchRequest(t, "multipart/mixed; boundary=batch_TEST", buf.Bytes())
	var lines []string
	for _, r := range reqs {
		lines = append(lines, r.ContentID+" "+r.Method+" "+r.Target)
	}
	want := []string{
		" GET /api/data/v9.2/accounts?$select=name&$filter=name%20eq%20'O''Neil%20%26%20Sons'&$top=3",
		"1 POST /api/data/v9.2/contacts",
		"2 PUT $1/lastname",
		"3 POST /api/data/v9.2/tasks",
		" DELETE /api/data/v9.2/contacts(" + idA.String() + ")",
		" PATCH /api/data/v9.2/accounts(" + idB.String() + ")",
	}
	if diff := cmp.Diff(want, lines); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
}

func TestBatchBuilderErrors(t *testing.T) {
	t.Parallel()
	c := testClient(t)
	ctx := context.Background()
	tests := map[string]func() *Batch{
		"GET in change set": func() *Batch {
			b := NewBatch()
			b.ChangeSet().Add(RetrieveRequest("contacts", idA))
			return b
		},
		"reference to a later operation": func() *Batch {
			b := NewBatch()
			cs := b.ChangeSet()
			cs.Add(BatchRequest{Method: "PATCH", Path: "$2", Body: Record{}})
			cs.Add(CreateRequest("contacts", Record{}))
			return b
		},
		"reference outside a change set": func() *Batch {
			b := NewBatch()
			b.Add(BatchRequest{Method: "DELETE", Path: "$1"})
			return b
		},
		"bad entity set": func() *Batch {
			b := NewBatch()
			b.Add(CreateRequest("con tacts", Record{}))
			return b
		},
		"bad method": func() *Batch {
			b := NewBatch()
			b.Add(BatchRequest{Method: "MERGE", Path: "contacts"})
			return b
		},
		"header injection": func() *Batch {
			b := NewBatch()
			b.Add(BatchRequest{Method: "GET", Path: "contacts", Header: http.Header{"X": {"a\r\nAuthorization: x"}}})
			return b
		},
		"change set over the limit": func() *Batch {
			b := NewBatch()
			cs := b.ChangeSet()
			for range MaxBatchOperations + 1 {
				cs.Add(DeleteRequest("contacts", idA))
			}
			return b
		},
		"empty": NewBatch,
	}
	for name, mk := range tests {
		if _, err := c.ExecuteBatch(ctx, mk(), nil); err == nil {
			t.Errorf("%s: ExecuteBatch succeeded", name)
		}
	}
}

func TestExecuteBatch(t *testing.T) {
	t.Parallel()
	var f *fakeAPI
	f = newFakeAPI(t, batchEcho(t, func() string { return f.base() }, nil), nil)
	res, err := f.client.ExecuteBatch(context.Background(), sampleBatch(), &BatchOptions{RequestOptions: RequestOptions{CallerObjectID: idA}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Err() != nil {
		t.Fatal(res.Err())
	}
	var got []string
	for _, r := range res.Responses {
		got = append(got, fmt.Sprintf("%d %s %d %s", r.Index, r.ContentID, r.StatusCode, r.ID()))
	}
	want := []string{
		"0  200 00000000-0000-0000-0000-000000000000",
		"1 1 204 00000000-0000-0000-0000-000000000001",
		"2 2 204 00000000-0000-0000-0000-000000000000",
		"3 3 204 00000000-0000-0000-0000-000000000003",
		"4  204 00000000-0000-0000-0000-000000000000",
		"5  204 00000000-0000-0000-0000-000000000000",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("responses (-want +got):\n%s", diff)
	}
	var page Page[Record]
	if err := res.Responses[0].Decode(&page); err != nil || len(page.Items) != 1 {
		t.Errorf("decoding the GET part: %v %+v", err, page)
	}
	outer := f.only()
	if outer.Path != testBasePath+"$batch" || !strings.HasPrefix(outer.Header.Get("Content-Type"), "multipart/mixed; boundary=batch_") {
		t.Errorf("outer request %s Content-Type %q", outer.Path, outer.Header.Get("Content-Type"))
	}
	if outer.Header.Get("CallerObjectId") != idA.String() || outer.Header.Get("Prefer") != "" {
		t.Errorf("outer headers: CallerObjectId %q Prefer %q", outer.Header.Get("CallerObjectId"), outer.Header.Get("Prefer"))
	}
}

func TestExecuteBatchContinueOnError(t *testing.T) {
	t.Parallel()
	var f *fakeAPI
	f = newFakeAPI(t, batchEcho(t, func() string { return f.base() }, func(p partRequest) (int, string, string, bool) {
		if p.Method == "DELETE" {
			return 404, "REQ_ID: 1234\r\nContent-Type: application/json; odata.metadata=minimal\r\n", `{"error":{"code":"0x80040217","message":"contact With Id = x Does Not Exist"}}`, true
		}
		return 0, "", "", false
	}), nil)
	res, err := f.client.ExecuteBatch(context.Background(), sampleBatch(), &BatchOptions{ContinueOnError: true})
	if err != nil {
		t.Fatalf("ExecuteBatch: %v", err)
	}
	if len(res.Responses) != 6 {
		t.Fatalf("%d responses", len(res.Responses))
	}
	e := res.Responses[4].Err
	if e == nil || e.StatusCode != 404 || e.Code != CodeObjectDoesNotExist || e.RequestID != "1234" || e.BatchPart == nil || e.BatchPart.Index != 4 {
		t.Fatalf("part 4 error = %+v", e)
	}
	if want := "dataverse: DELETE contacts(" + idA.String() + "): batch part 4: 404 0x80040217: contact With Id = x Does Not Exist [request id 1234]"; e.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", e.Error(), want)
	}
	if !IsNotFound(res.Err()) {
		t.Errorf("BatchResult.Err() = %v", res.Err())
	}
	if got := f.only().Header.Get("Prefer"); got != "odata.continue-on-error" {
		t.Errorf("Prefer = %q", got)
	}
}

func TestExecuteBatchStopsAtFirstFailure(t *testing.T) {
	t.Parallel()
	// Without continue-on-error the service answers with the failed part's
	// status; the failed change-set operation is named by its Content-ID.
	body := "--batchresponse_y\r\nContent-Type: multipart/mixed; boundary=changesetresponse_y\r\n\r\n" +
		"--changesetresponse_y\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: 3\r\n\r\n" +
		"HTTP/1.1 400 Bad Request\r\nREQ_ID: r-9\r\nContent-Type: application/json; odata.metadata=minimal\r\nOData-Version: 4.0\r\n\r\n" +
		`{"error":{"code":"0x80044331","message":"A validation error occurred.  The length of the 'subject' attribute of the 'task' entity exceeded the maximum allowed length of '200'."}}` + "\r\n" +
		"--changesetresponse_y--\r\n--batchresponse_y--\r\n"
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "multipart/mixed; boundary=batchresponse_y")
		w.WriteHeader(400)
		_, _ = io.WriteString(w, body)
	}, nil)
	res, err := f.client.ExecuteBatch(context.Background(), sampleBatch(), nil)
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not a *ResponseError", err)
	}
	if re.StatusCode != 400 || re.Code != "0x80044331" || re.BatchPart == nil || re.BatchPart.Index != 3 || re.BatchPart.ContentID != "3" || re.Method != "POST" || re.Path != "tasks" {
		t.Errorf("error = %+v part %+v", re, re.BatchPart)
	}
	if !strings.Contains(err.Error(), "batch part 3 (Content-ID 3): 400 0x80044331") {
		t.Errorf("Error() = %q", err)
	}
	if res == nil || len(res.Responses) != 1 {
		t.Errorf("result = %+v", res)
	}
}

func TestExecuteBatchChangeSetRolledBack(t *testing.T) {
	t.Parallel()
	// A failed change set is answered by one application/http part.
	body := "--batchresponse_z\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\r\n{\"value\":[]}\r\n" +
		"--batchresponse_z\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
		"HTTP/1.1 412 Precondition Failed\r\nContent-Type: application/json\r\n\r\n" +
		`{"error":{"code":"0x80040237","message":"A record with matching key values already exists."}}` + "\r\n" +
		"--batchresponse_z--\r\n"
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "multipart/mixed; boundary=batchresponse_z")
		_, _ = io.WriteString(w, body)
	}, nil)
	res, err := f.client.ExecuteBatch(context.Background(), sampleBatch(), &BatchOptions{ContinueOnError: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Responses) != 2 || res.Responses[1].Index != 1 || res.Responses[1].Err == nil || !IsPreconditionFailed(res.Responses[1].Err) {
		t.Errorf("responses = %+v", res.Responses)
	}
}

func TestExecuteBatchSplitsLargeBatches(t *testing.T) {
	t.Parallel()
	var f *fakeAPI
	var batches atomic.Int32
	echo := batchEcho(t, func() string { return f.base() }, nil)
	f = newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		batches.Add(1)
		echo(w, r)
	}, nil)
	b := NewBatch()
	for range 700 {
		b.Add(DeleteRequest("contacts", idA))
	}
	for range 6 { // 6 change sets of 300: none may be split
		cs := b.ChangeSet()
		for range 300 {
			cs.Add(CreateRequest("contacts", Record{"a": 1}))
		}
	}
	b.Add(DeleteRequest("contacts", idB))
	if b.Len() != 2501 {
		t.Fatalf("Len = %d", b.Len())
	}
	res, err := f.client.ExecuteBatch(context.Background(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Responses) != 2501 {
		t.Fatalf("%d responses, want 2501", len(res.Responses))
	}
	for i, r := range res.Responses {
		if r.Index != i {
			t.Fatalf("response %d has index %d", i, r.Index)
		}
	}
	var sizes []int
	for _, req := range f.reqs() {
		parts := readBatchRequest(t, req.Header.Get("Content-Type"), req.Body)
		sizes = append(sizes, len(parts))
		perCS := map[int]int{}
		for _, p := range parts {
			if p.ChangeSet != 0 {
				perCS[p.ChangeSet]++
			}
		}
		for cs, n := range perCS {
			if n != 300 {
				t.Errorf("change set %d was split: %d operations in one request", cs, n)
			}
		}
	}
	// 700 + 300 = 1000 | 3×300 = 900 (the next would exceed) | 2×300 + 1 = 601
	if diff := cmp.Diff([]int{1000, 900, 601}, sizes); diff != "" {
		t.Errorf("operations per request (-want +got):\n%s", diff)
	}
}

func TestBatchRetryOnlyForGets(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name      string
		batch     func() *Batch
		wantCalls int32
	}{
		{"GET-only batch is retried", func() *Batch {
			b := NewBatch()
			b.Add(RetrieveRequest("contacts", idA))
			return b
		}, 2},
		{"batch with a create is not retried", func() *Batch {
			b := NewBatch()
			b.Add(CreateRequest("contacts", Record{}))
			return b
		}, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			var f *fakeAPI
			echo := batchEcho(t, func() string { return f.base() }, nil)
			f = newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					w.WriteHeader(503)
					return
				}
				echo(w, r)
			}, nil)
			_, _ = f.client.ExecuteBatch(context.Background(), tt.batch(), nil)
			if calls.Load() != tt.wantCalls {
				t.Errorf("server saw %d requests, want %d", calls.Load(), tt.wantCalls)
			}
		})
	}
}

func TestLongGetGoesThroughBatch(t *testing.T) {
	t.Parallel()
	var f *fakeAPI
	var mu sync.Mutex
	var parts []partRequest
	echo := batchEcho(t, func() string { return f.base() }, func(p partRequest) (int, string, string, bool) {
		mu.Lock()
		defer mu.Unlock()
		parts = append(parts, p)
		return 0, "", "", false
	})
	f = newFakeAPI(t, echo, nil)
	names := make([]any, 0, 3000)
	for i := range 3000 {
		names = append(names, fmt.Sprintf("name-%05d", i))
	}
	filter := In("lastname", names...).String()
	page, err := f.client.List(context.Background(), "contacts", &ListOptions{Query: Query{Filter: filter, MaxPageSize: 10}})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 {
		t.Errorf("page = %+v", page)
	}
	outer := f.only()
	mu.Lock()
	defer mu.Unlock()
	if outer.Method != "POST" || !strings.HasSuffix(outer.Path, "/$batch") {
		t.Fatalf("outer request = %s %s", outer.Method, outer.Path)
	}
	if len(parts) != 1 || parts[0].Method != "GET" || parts[0].Header.Get("Prefer") != "odata.maxpagesize=10" {
		t.Fatalf("parts = %+v", parts)
	}
	if len(parts[0].Target) <= maxURLLength-200 || !strings.HasPrefix(parts[0].Target, testBasePath+"contacts?$filter=") {
		t.Errorf("part target (%d bytes) = %.80s…", len(parts[0].Target), parts[0].Target)
	}
	// Over 64 KB even $batch cannot carry it.
	for i := range 3000 {
		names = append(names, fmt.Sprintf("other-%05d", i))
	}
	_, err = f.client.List(context.Background(), "contacts", &ListOptions{Query: Query{Filter: In("lastname", names...).String()}})
	if err == nil || !strings.Contains(err.Error(), "even inside $batch") {
		t.Errorf("error = %v", err)
	}
}

func FuzzParseBatchResponse(f *testing.F) {
	for _, name := range []string{"batch_response.http"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("--b\r\nContent-Type: application/http\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n\r\n--b--\r\n"))
	f.Add([]byte("--b\r\nContent-Type: multipart/mixed; boundary=c\r\n\r\n--c\r\nContent-Type: application/http\r\nContent-ID: 1\r\n\r\nHTTP/1.1 404 Not Found\r\n\r\n{}\r\n--c--\r\n--b--\r\n"))
	c, err := NewClient("https://contoso.crm.dynamics.com", &fakeCredential{}, nil)
	if err != nil {
		f.Fatal(err)
	}
	b := sampleBatch()
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, boundary := range []string{"b", "batchresponse_x"} {
			parts, _ := parseBatchResponse("multipart/mixed; boundary="+boundary, bytes.NewReader(body))
			out := c.matchBatchParts(parts, b.items)
			if len(out) > b.Len() {
				t.Fatalf("%d responses for %d operations", len(out), b.Len())
			}
			for _, r := range out {
				if r.Index < 0 || r.Index >= b.Len() {
					t.Fatalf("response index %d out of range", r.Index)
				}
				if r.Err != nil && r.Err.Error() == "" {
					t.Fatal("empty error text")
				}
			}
		}
	})
}

// TestExecuteBatchUnnamedFailure: without continue-on-error the service stops at the first failed
// operation and answers with that operation's response alone (webapi.md §6; Microsoft's "Handling
// errors" example). A top-level operation's response has no Content-ID, so the client cannot tell
// which operation failed: it must say so, not blame the first operation, which ran and succeeded.
// With a single operation, the failure is that operation's. (Found by the end-to-end tests
// against the emulator.)
func TestExecuteBatchUnnamedFailure(t *testing.T) {
	t.Parallel()
	body := "--batchresponse_u\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
		"HTTP/1.1 404 Not Found\r\nREQ_ID: r-7\r\nContent-Type: application/json; odata.metadata=minimal\r\nOData-Version: 4.0\r\n\r\n" +
		`{"error":{"code":"0x80040217","message":"contact With Id = x Does Not Exist"}}` + "\r\n" +
		"--batchresponse_u--\r\n"
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "multipart/mixed; boundary=batchresponse_u")
		w.WriteHeader(http.StatusNotFound)
		_, _ = io.WriteString(w, body)
	}, nil)

	b := NewBatch()
	b.Add(CreateRequest("contacts", Record{"lastname": "A"}))
	b.Add(UpdateRequest("contacts", idA, Record{"lastname": "B"}))
	b.Add(CreateRequest("contacts", Record{"lastname": "C"}))
	res, err := f.client.ExecuteBatch(context.Background(), b, nil)
	var re *ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("error %v is not a *ResponseError", err)
	}
	if re.StatusCode != 404 || re.Code != CodeObjectDoesNotExist || re.RequestID != "r-7" || re.BatchPart == nil || re.BatchPart.Index != -1 ||
		re.Method != "POST" || re.Path != "$batch" {
		t.Errorf("error = %+v part %+v, want the 404 with BatchPart.Index -1 on POST $batch", re, re.BatchPart)
	}
	if want := "dataverse: POST $batch: an operation the service did not name: 404 0x80040217: contact With Id = x Does Not Exist [request id r-7]"; err.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", err.Error(), want)
	}
	if res == nil || len(res.Responses) != 0 {
		t.Errorf("responses = %+v, want none: the service sent none for the operations that succeeded", res)
	}

	// One operation: the failure is its own.
	one := NewBatch()
	one.Add(UpdateRequest("contacts", idA, Record{"lastname": "B"}))
	_, err = f.client.ExecuteBatch(context.Background(), one, nil)
	if !errors.As(err, &re) || re.BatchPart == nil || re.BatchPart.Index != 0 || re.Method != "PATCH" || !strings.HasPrefix(re.Path, "contacts(") {
		t.Errorf("single-operation batch: %v (%+v), want part 0, the PATCH", err, re)
	}
}
