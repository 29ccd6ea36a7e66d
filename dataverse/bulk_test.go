package dataverse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

type bulkContact struct {
	ID        *uuid.UUID `json:"contactid,omitempty"`
	FirstName string     `json:"firstname"`
}

// bulkAPI answers CreateMultiple with an id per target, the rest with
// 204, and records the number of targets per request.
func bulkAPI(t *testing.T, failOnRequest int) (*fakeAPI, *[]int) {
	var sizes []int
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Targets []map[string]any }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("body: %v", err)
		}
		sizes = append(sizes, len(body.Targets))
		if len(sizes) == failOnRequest {
			writeError(w, 400, "0x80040237", "Cannot insert duplicate key.")
			return
		}
		for _, tg := range body.Targets {
			if tg["@odata.type"] != "Microsoft.Dynamics.CRM.contact" {
				t.Errorf("target without @odata.type: %v", tg)
			}
		}
		if strings.HasSuffix(r.URL.Path, ".CreateMultiple") {
			ids := make([]string, len(body.Targets))
			for i := range ids {
				ids[i] = fmt.Sprintf("00000000-0000-0000-%04d-%012d", len(sizes), i)
			}
			b, _ := json.Marshal(map[string]any{"@odata.context": "x", "Ids": ids})
			writeJSON(w, 200, string(b))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}, nil)
	return f, &sizes
}

func TestCreateMultipleChunksByCount(t *testing.T) {
	t.Parallel()
	f, sizes := bulkAPI(t, 0)
	recs := make([]bulkContact, 2500)
	for i := range recs {
		recs[i].FirstName = fmt.Sprint(i)
	}
	ids, err := CreateMultiple(context.Background(), f.client, "contacts", "contact", recs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2500 || ids[1000].String() != "00000000-0000-0000-0002-000000000000" {
		t.Errorf("%d ids, ids[1000] = %s", len(ids), ids[1000])
	}
	if diff := cmp.Diff([]int{1000, 1000, 500}, *sizes); diff != "" {
		t.Errorf("chunk sizes (-want +got):\n%s", diff)
	}
	r := f.reqs()[0]
	if r.Method != "POST" || r.Path != testBasePath+"contacts/Microsoft.Dynamics.CRM.CreateMultiple" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
	if !strings.HasPrefix(string(r.Body), `{"Targets":[{"@odata.type":"Microsoft.Dynamics.CRM.contact","firstname":"0"},`) {
		t.Errorf("body starts %.100s", r.Body)
	}
}

func TestBulkChunksByBytes(t *testing.T) {
	t.Parallel()
	f, sizes := bulkAPI(t, 0)
	big := strings.Repeat("x", 1000)
	recs := make([]Record, 10)
	for i := range recs {
		recs[i] = Record{"firstname": big}
	}
	// Each target is about 1,060 bytes: 3 fit in 3,500 bytes.
	if err := UpdateMultiple(context.Background(), f.client, "contacts", "contact", recs, &BulkOptions{ChunkBytes: 3500}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int{3, 3, 3, 1}, *sizes); diff != "" {
		t.Errorf("chunk sizes (-want +got):\n%s", diff)
	}
	for _, r := range f.reqs() {
		if len(r.Body) > 3500 {
			t.Errorf("a request body is %d bytes, over the 3,500 bound", len(r.Body))
		}
	}
}

func TestBulkFailureReportsChunk(t *testing.T) {
	t.Parallel()
	f, _ := bulkAPI(t, 2)
	recs := make([]Record, 5)
	for i := range recs {
		recs[i] = Record{"firstname": "a"}
	}
	ids, err := CreateMultiple(context.Background(), f.client, "contacts", "contact", recs, &BulkOptions{ChunkSize: 2})
	var be *BulkError
	if !errors.As(err, &be) || be.First != 2 || be.Count != 2 || be.Operation != "CreateMultiple" {
		t.Fatalf("error = %v", err)
	}
	if !HasCode(err, "0x80040237") {
		t.Errorf("the ResponseError is not reachable through the BulkError: %v", err)
	}
	if len(ids) != 2 {
		t.Errorf("ids of the committed chunk: %d", len(ids))
	}
	if !strings.Contains(err.Error(), "CreateMultiple records 2 to 3: ") {
		t.Errorf("Error() = %q", err)
	}
}

func TestBulkIdempotency(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		run  func(*Client) error
		want int32
	}{
		{"CreateMultiple is not retried", func(c *Client) error {
			_, err := CreateMultiple(context.Background(), c, "contacts", "contact", []Record{{}}, nil)
			return err
		}, 1},
		{"UpsertMultiple is retried", func(c *Client) error {
			return UpsertMultiple(context.Background(), c, "contacts", "contact", []Record{{"@odata.id": "contacts(emailaddress1='a')"}}, nil)
		}, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h, calls := failThen(1, 503)
			f := newFakeAPI(t, h, nil)
			_ = tt.run(f.client)
			if calls.Load() != tt.want {
				t.Errorf("server saw %d requests, want %d", calls.Load(), tt.want)
			}
		})
	}
}

func TestBulkTarget(t *testing.T) {
	t.Parallel()
	const typ = "Microsoft.Dynamics.CRM.contact"
	tests := []struct {
		in      any
		want    string
		wantErr bool
	}{
		{Record{}, `{"@odata.type":"Microsoft.Dynamics.CRM.contact"}`, false},
		{Record{"a": 1}, `{"@odata.type":"Microsoft.Dynamics.CRM.contact","a":1}`, false},
		{Record{"@odata.type": typ, "a": 1}, `{"@odata.type":"Microsoft.Dynamics.CRM.contact","a":1}`, false},
		{json.RawMessage(` { "x" : "@odata.type" } `), `{"@odata.type":"Microsoft.Dynamics.CRM.contact", "x" : "@odata.type" }`, false},
		{Record{"@odata.type": "Microsoft.Dynamics.CRM.account"}, "", true},
		{[]int{1}, "", true},
		{"text", "", true},
	}
	for _, tt := range tests {
		got, err := bulkTarget(tt.in, typ)
		if (err != nil) != tt.wantErr || (!tt.wantErr && string(got) != tt.want) {
			t.Errorf("bulkTarget(%v) = %s, %v; want %s (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
