package dataverse

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/google/uuid"
)

// TestInputErrorsAreInvalidArgument: every error the client returns before sending anything
// because of its input wraps ErrInvalidArgument (a CLI tells "fix your input" from "the service
// failed" with errors.Is), and keeps its own text. The server fails the test if anything reaches
// it.
func TestInputErrorsAreInvalidArgument(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request was sent: %s %s", r.Method, r.URL)
		w.WriteHeader(http.StatusTeapot)
	}, nil)
	c := f.client
	ctx := context.Background()
	list := func(q Query) func() error {
		return func() error { _, err := c.List(ctx, "contacts", &ListOptions{Query: q}); return err }
	}
	withOpts := func(o RequestOptions) func() error {
		return func() error { _, err := c.List(ctx, "contacts", &ListOptions{RequestOptions: o}); return err }
	}
	fetch := func(x string, o *FetchOptions) func() error {
		return func() error { _, err := c.FetchXML(ctx, "contacts", x, o); return err }
	}
	bigBatch := NewBatch() // a bad operation in its second $batch request: the first is not sent either
	for range MaxBatchOperations + 10 {
		bigBatch.Add(RetrieveRequest("contacts", idA))
	}
	bigBatch.Add(BatchRequest{Method: http.MethodGet, Path: "https://elsewhere.example/api/data/v9.2/contacts"})
	getInChangeSet := NewBatch()
	getInChangeSet.ChangeSet().Add(RetrieveRequest("contacts", idA))
	unencodable := map[string]any{"ch": make(chan int)}

	tests := map[string]func() error{
		// Clients.
		"NewClient nil credential": func() error { _, err := NewClient(f.orgURL(), nil, nil); return err },
		"NewClient http org URL":   func() error { _, err := NewClient("http://contoso.crm.dynamics.com", f.cred, nil); return err },
		"NewClient bad version":    func() error { _, err := NewClient(f.orgURL(), f.cred, &ClientOptions{APIVersion: "9.2"}); return err },
		"NewClient version clash": func() error {
			_, err := NewClient(f.orgURL()+"/api/data/v9.1", f.cred, &ClientOptions{APIVersion: "v9.2"})
			return err
		},
		// Names and ids.
		"empty entity set":    func() error { _, err := c.Create(ctx, "", Record{}, nil); return err },
		"bad entity set":      func() error { _, err := c.Create(ctx, "contacts?$x=1", Record{}, nil); return err },
		"nil id":              func() error { return c.Delete(ctx, "contacts", uuid.Nil, nil) },
		"nil out":             func() error { return c.Retrieve(ctx, "contacts", idA, nil, nil) },
		"bad property name":   func() error { return c.ClearProperty(ctx, "contacts", idA, "a/b", nil) },
		"GetProperty nil out": func() error { return c.GetProperty(ctx, "contacts", idA, "fullname", nil, nil) },
		"bad navigation":      func() error { return c.Associate(ctx, "accounts", idA, "a b", "contacts", idB, nil) },
		"zero target":         func() error { return c.Disassociate(ctx, "accounts", idA, "contact_customer_accounts", uuid.Nil, nil) },
		// Query options.
		"bad $select":                    list(Query{Select: []string{"fullname,emailaddress1"}}),
		"bad $orderby":                   list(Query{OrderBy: []string{"name; drop"}}),
		"negative $top":                  list(Query{Top: -1}),
		"page size too big":              list(Query{MaxPageSize: MaxPageSizeLimit + 1}),
		"bad annotation":                 list(Query{Annotations: []string{`x" ,y`}}),
		"bad $expand":                    list(Query{Expand: []Expand{{Property: "a b"}}}),
		"bad $expand select":             list(Query{Expand: []Expand{{Property: "parentcustomerid_account", Select: []string{"a,b"}}}}),
		"Filterf bad value":              list(Query{Filter: Filterf("fullname eq %v", struct{}{})}),
		"builder bad name":               list(Query{Filter: Eq("full name", "x").String()}),
		"time out of range":              list(Query{Filter: Filterf("createdon ge %v", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))}),
		"query too long even for $batch": list(Query{Filter: Filterf("fullname eq %v", strings.Repeat("x", maxBatchURLLength))}),
		"Count bad filter": func() error {
			_, err := c.Count(ctx, "contacts", &CountOptions{Filter: Filterf("%v")})
			return err
		},
		"Select without representation": func() error {
			_, err := c.Create(ctx, "contacts", Record{}, &CreateOptions{Select: []string{"fullname"}})
			return err
		},
		// Request options.
		"bad bypass value":       withOpts(RequestOptions{BypassBusinessLogicExecution: []string{"All"}}),
		"header with line break": withOpts(RequestOptions{Header: http.Header{"X-A": {"a\r\nB: c"}}}),
		// Bodies, keys, literals.
		"nil record":          func() error { _, err := c.Create(ctx, "contacts", nil, nil); return err },
		"invalid JSON record": func() error { _, err := c.Create(ctx, "contacts", json.RawMessage(`{"a":`), nil); return err },
		"unencodable record":  func() error { _, err := c.Update(ctx, "contacts", idA, unencodable, nil); return err },
		"unencodable value":   func() error { return c.SetProperty(ctx, "contacts", idA, "fullname", make(chan int), nil) },
		"empty key":           func() error { return c.RetrieveByKey(ctx, "contacts", AlternateKey{}, &Record{}, nil) },
		"null key value":      func() error { return c.DeleteByKey(ctx, "contacts", AlternateKey{"a": nil}, nil) },
		"list key value":      func() error { return c.DeleteByKey(ctx, "contacts", AlternateKey{"a": []string{"x"}}, nil) },
		"bad key type":        func() error { return c.DeleteByKey(ctx, "contacts", AlternateKey{"a": struct{}{}}, nil) },
		"create-only with ETag": func() error {
			_, err := c.Upsert(ctx, "contacts", idA, Record{}, &UpsertOptions{Mode: UpsertCreateOnly, IfMatch: `W/"1"`})
			return err
		},
		"unknown upsert mode": func() error { _, err := c.Upsert(ctx, "contacts", idA, Record{}, &UpsertOptions{Mode: 9}); return err },
		// Functions and actions.
		"bad function name":      func() error { return c.CallFunction(ctx, "Who Am I", nil, nil, nil) },
		"bad parameter name":     func() error { return c.CallFunction(ctx, "F", Params{"a b": 1}, nil, nil) },
		"bad parameter value":    func() error { return c.CallFunction(ctx, "F", Params{"a": struct{}{}}, nil, nil) },
		"bad EntityRef":          func() error { return c.CallFunction(ctx, "F", Params{"a": EntityRef{EntitySet: "contacts"}}, nil, nil) },
		"ID without EntitySet":   func() error { return c.CallFunction(ctx, "F", nil, nil, &OperationOptions{ID: idA}) },
		"unencodable parameters": func() error { return c.CallAction(ctx, "A", unencodable, nil, nil) },
		"no table names":         func() error { _, err := c.RetrieveTotalRecordCount(ctx); return err },
		// Raw requests and links.
		"Do empty method":   func() error { _, err := c.Do(ctx, " ", "WhoAmI", nil, nil); return err },
		"Do unencoded path": func() error { _, err := c.Do(ctx, "GET", "contacts?$filter=a eq 1", nil, nil); return err },
		"Do foreign URL": func() error {
			_, err := c.Do(ctx, "GET", "https://elsewhere.example/api/data/v9.2/WhoAmI", nil, nil)
			return err
		},
		"Do leaving the base": func() error { _, err := c.Do(ctx, "GET", "../../../x", nil, nil); return err },
		"foreign next link": func() error {
			_, err := ResumePager[Record](c, "https://elsewhere.example/api/data/v9.2/contacts?$skiptoken=x", nil)
			return err
		},
		"ResumePager negative Top": func() error {
			_, err := ResumePager[Record](c, f.base()+"contacts", &ListOptions{Query: Query{Top: -2}})
			return err
		},
		// FetchXML.
		"FetchXML not XML":        fetch("<fetch", nil),
		"FetchXML not <fetch>":    fetch("<query/>", nil),
		"FetchXML page size":      fetch("<fetch/>", &FetchOptions{PageSize: MaxPageSizeLimit + 1}),
		"FetchXML bad annotation": fetch("<fetch/>", &FetchOptions{Annotations: []string{"a b"}}),
		// Batches and bulk.
		"empty batch":               func() error { _, err := c.ExecuteBatch(ctx, NewBatch(), nil); return err },
		"GET in a change set":       func() error { _, err := c.ExecuteBatch(ctx, getInChangeSet, nil); return err },
		"bad operation, 2nd $batch": func() error { _, err := c.ExecuteBatch(ctx, bigBatch, nil); return err },
		"bad batch constructor": func() error {
			b := NewBatch()
			b.Add(CreateRequest("", Record{}))
			_, err := c.ExecuteBatch(ctx, b, nil)
			return err
		},
		"bulk bad logical name": func() error {
			_, err := CreateMultiple(ctx, c, "contacts", "con tact", []Record{{}}, nil)
			return err
		},
		"bulk first record bad": func() error {
			return UpsertMultiple(ctx, c, "contacts", "contact", []any{json.RawMessage(`[1]`)}, nil)
		},
	}
	for name, call := range tests {
		err := call()
		if !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: error %v does not wrap ErrInvalidArgument", name, err)
			continue
		}
		if msg := err.Error(); strings.Contains(msg, ErrInvalidArgument.Error()) || !strings.HasPrefix(msg, "dataverse: ") {
			t.Errorf("%s: error text %q: want the cause's own words only", name, msg)
		}
	}
}

// TestServiceErrorsAreNotInvalidArgument: failures after something was sent never wrap
// ErrInvalidArgument, even when they are about a bad link or record.
func TestServiceErrorsAreNotInvalidArgument(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasSuffix(r.URL.Path, "/missing"):
			writeError(w, http.StatusNotFound, CodeResourceNotFound, "Resource not found for the segment 'missing'.")
		case strings.HasSuffix(r.URL.Path, "/garbled"):
			writeJSON(w, http.StatusOK, `{"value":[`)
		case strings.HasSuffix(r.URL.Path, "/foreign"):
			writeJSON(w, http.StatusOK, `{"value":[],"@odata.nextLink":"https://elsewhere.example/api/data/v9.2/foreign?$skiptoken=2"}`)
		case strings.Contains(r.URL.Path, "UpsertMultiple"):
			w.WriteHeader(http.StatusNoContent)
		default:
			writeError(w, http.StatusServiceUnavailable, "0x80040216", "Unavailable")
		}
	}, &ClientOptions{ClientOptions: policy.ClientOptions{Retry: policy.RetryOptions{MaxRetries: -1}}})
	c := f.client
	tests := map[string]func() error{
		"404":                  func() error { _, err := c.List(ctx, "missing", nil); return err },
		"503":                  func() error { _, err := c.List(ctx, "other", nil); return err },
		"undecodable":          func() error { _, err := c.List(ctx, "garbled", nil); return err },
		"foreign service link": func() error { _, err := c.List(ctx, "foreign", nil); return err },
		// The first chunk was written before the bad second record was met.
		"bulk record after a sent chunk": func() error {
			return UpsertMultiple(ctx, c, "contacts", "contact", []any{Record{"a": 1}, Record{"a": 2}, json.RawMessage(`[1]`)}, &BulkOptions{ChunkSize: 1})
		},
	}
	for name, call := range tests {
		err := call()
		if err == nil || errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: error %v, want a failure that is not ErrInvalidArgument", name, err)
		}
	}
	if n := len(f.reqs()); n != 5 {
		t.Errorf("server saw %d requests, want one per case", n)
	}
}
