package dataverse

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"
)

// callerHeader is a RequestOptions.Header as a caller writes it: several
// values, a name that is not canonical, and (in some calls) a name the
// client sets too, which the caller's value replaces.
func callerHeader(extra ...string) http.Header {
	h := http.Header{"X-Multi": {"1", "2"}, "x-lower-case": {"v"}}
	for i := 0; i+1 < len(extra); i += 2 {
		h[extra[i]] = []string{extra[i+1]}
	}
	return h
}

// nestedExpand is a two-level $expand with every nested option set.
func nestedExpand() []Expand {
	return []Expand{{
		Property: "contact_customer_accounts",
		Select:   []string{"name", "accountid"},
		Filter:   "statecode eq 0",
		OrderBy:  []string{"name desc"},
		Top:      5,
		Expand:   []Expand{{Property: "primarycontactid", Select: []string{"fullname"}}},
	}}
}

// TestCallsDoNotMutateOptions: whatever a call does with the options it is given — cloning the
// query for a pager that enforces Top across pages, moving a long GET into a $batch, setting
// Prefer, If-Match and the plug-in tag, merging the caller's headers over its own — the values
// the caller passed (options, nested Expand, Annotations, headers, records, batch requests) are
// the same afterwards. Each call gets one value and the test compares it with an identical value
// built by the same constructor, i.e. a deep copy taken before the call.
func TestCallsDoNotMutateOptions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	// unchanged runs call on one value from mk and compares it with a fresh one.
	unchanged := func(t *testing.T, what string, mk func() any, call func(v any) error) {
		t.Helper()
		got := mk()
		if err := call(got); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if diff := cmp.Diff(mk(), got, cmp.AllowUnexported(BatchRequest{})); diff != "" {
			t.Errorf("%s changed what the caller passed (-before +after):\n%s", what, diff)
		}
	}
	// sawHeaders checks that the options were used: the last request the server saw carried
	// the caller's headers (so an untouched value is not an ignored one).
	sawHeaders := func(t *testing.T, f *fakeAPI) {
		t.Helper()
		rs := f.reqs()
		h := rs[len(rs)-1].Header
		if diff := cmp.Diff([]string{"1", "2"}, h.Values("X-Multi")); diff != "" || h.Get("X-Lower-Case") != "v" {
			t.Errorf("the server did not see the caller's headers: X-Multi %q, X-Lower-Case %q", h.Values("X-Multi"), h.Get("X-Lower-Case"))
		}
	}

	t.Run("Pager with Top across two pages", func(t *testing.T) {
		t.Parallel()
		f := pagedAPI(t, 5, 2) // 10 rows, 2 a page
		mk := func() any {
			return &ListOptions{
				Query: Query{
					Select: []string{"fullname", "emailaddress1"}, Filter: Filterf("lastname eq %v", "O'Brien"),
					OrderBy: []string{"fullname asc"}, Top: 3, Count: true, Expand: nestedExpand(),
					MaxPageSize: 2, Annotations: []string{AnnotationFormattedValue, AnnotationLookupLogicalName},
				},
				RequestOptions: RequestOptions{
					Header: callerHeader(), Tag: "sync-job", CallerObjectID: idA,
					BypassBusinessLogicExecution:        []string{"CustomSync", "CustomAsync"},
					BypassBusinessLogicExecutionStepIDs: []uuid.UUID{idB},
				},
			}
		}
		var rows int
		var next string
		unchanged(t, "NewPager", mk, func(v any) error {
			p := NewPager[named](f.client, "contacts", v.(*ListOptions))
			for _, err := range p.All(ctx) {
				if err != nil {
					return err
				}
				rows++
			}
			return nil
		})
		if reqs := f.reqs(); rows != 3 || len(reqs) != 2 || !strings.Contains(reqs[0].RawQuery, "tag=sync-job") {
			t.Errorf("read %d rows in %d requests, want 3 in 2 (query %q)", rows, len(reqs), reqs[0].RawQuery)
		} else {
			next = f.srv.URL + reqs[1].Path + "?" + reqs[1].RawQuery
		}
		sawHeaders(t, f)
		unchanged(t, "List", mk, func(v any) error {
			_, err := f.client.List(ctx, "contacts", v.(*ListOptions))
			return err
		})
		unchanged(t, "ResumePager", mk, func(v any) error {
			p, err := ResumePager[Record](f.client, next, v.(*ListOptions))
			if err != nil {
				return err
			}
			_, err = p.NextPage(ctx)
			return err
		})
		sawHeaders(t, f)
	})

	t.Run("List long enough for $batch", func(t *testing.T) {
		t.Parallel()
		var f *fakeAPI
		f = newFakeAPI(t, batchEcho(t, func() string { return f.base() }, nil), nil)
		names := make([]any, 3000)
		for i := range names {
			names[i] = fmt.Sprintf("name-%05d", i)
		}
		filter := In("lastname", names...).String()
		mk := func() any {
			return &ListOptions{
				Query: Query{
					Select: []string{"fullname"}, Filter: filter, Expand: nestedExpand(),
					MaxPageSize: 10, Annotations: []string{AnnotationsAll},
				},
				RequestOptions: RequestOptions{Header: callerHeader(), Tag: "long-get"},
			}
		}
		unchanged(t, "List through $batch", mk, func(v any) error {
			page, err := f.client.List(ctx, "contacts", v.(*ListOptions))
			if err == nil && len(page.Items) != 1 {
				err = fmt.Errorf("page has %d rows, want the one row of the batch part", len(page.Items))
			}
			return err
		})
		if r := f.only(); r.Method != http.MethodPost || !strings.HasSuffix(r.Path, "/$batch") {
			t.Errorf("request %s %s, want the long GET sent as a $batch", r.Method, r.Path)
		}
		sawHeaders(t, f)
	})

	t.Run("Retrieve, Create, Update, Upsert", func(t *testing.T) {
		t.Parallel()
		f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
			switch r.Method {
			case http.MethodGet:
				writeJSON(w, 200, `{"@odata.etag":"W/\"7\"","contactid":"`+idA.String()+`","fullname":"A"}`)
			default:
				w.Header().Set("OData-EntityId", "https://x"+testBasePath+"contacts("+idA.String()+")")
				if strings.Contains(r.Header.Get("Prefer"), "return=representation") {
					writeJSON(w, 200, `{"@odata.etag":"W/\"8\"","contactid":"`+idA.String()+`"}`)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}
		}, nil)
		unchanged(t, "Retrieve", func() any {
			return &RetrieveOptions{
				Select: []string{"fullname"}, Expand: nestedExpand(), Annotations: []string{AnnotationFormattedValue},
				RequestOptions: RequestOptions{Header: callerHeader("Consistency", "Eventual"), Tag: "r", StrongConsistency: true},
			}
		}, func(v any) error {
			return f.client.Retrieve(ctx, "contacts", idA, &Record{}, v.(*RetrieveOptions))
		})
		sawHeaders(t, f)
		type write struct {
			Record  Record
			Options any
		}
		record := func() Record {
			return Record{"firstname": "Ada", "parentcustomerid_account@odata.bind": "/accounts(" + idB.String() + ")", "nested": map[string]any{"a": []any{1.0, "x"}}}
		}
		unchanged(t, "Create", func() any {
			return &write{record(), &CreateOptions{
				ReturnRepresentation: true, Select: []string{"contactid"}, Expand: nestedExpand(), Annotations: []string{AnnotationsAll},
				RequestOptions: RequestOptions{Header: callerHeader(), Tag: "c", SolutionUniqueName: "s"},
			}}
		}, func(v any) error {
			w := v.(*write)
			_, err := f.client.Create(ctx, "contacts", w.Record, w.Options.(*CreateOptions))
			return err
		})
		sawHeaders(t, f)
		unchanged(t, "Update", func() any {
			return &write{record(), &UpdateOptions{
				IfMatch: `W/"7"`, ReturnRepresentation: true, Select: []string{"fullname"}, Annotations: []string{AnnotationFormattedValue},
				RequestOptions: RequestOptions{Header: callerHeader("Prefer", `return=representation,odata.include-annotations="*"`), Tag: "u"},
			}}
		}, func(v any) error {
			w := v.(*write)
			_, err := f.client.Update(ctx, "contacts", idA, w.Record, w.Options.(*UpdateOptions))
			return err
		})
		sawHeaders(t, f)
		unchanged(t, "Upsert", func() any {
			return &write{record(), &UpsertOptions{
				Mode: UpsertCreateOnly, ReturnRepresentation: true, Annotations: []string{AnnotationsAll},
				RequestOptions: RequestOptions{Header: callerHeader("If-None-Match", "*"), Tag: "p"},
			}}
		}, func(v any) error {
			w := v.(*write)
			_, err := f.client.Upsert(ctx, "contacts", idA, w.Record, w.Options.(*UpsertOptions))
			return err
		})
		sawHeaders(t, f)
	})

	t.Run("ExecuteBatch", func(t *testing.T) {
		t.Parallel()
		var f *fakeAPI
		f = newFakeAPI(t, batchEcho(t, func() string { return f.base() }, nil), nil)
		type batchCall struct {
			Requests []BatchRequest // added to the batch; the caller keeps them
			Options  *BatchOptions
		}
		unchanged(t, "ExecuteBatch", func() any {
			upd := UpdateRequest("contacts", idA, Record{"firstname": "B"})
			upd.Header.Set("X-Part", "kept")
			q := QueryRequest("contacts", Query{Select: []string{"fullname"}, Expand: nestedExpand(), MaxPageSize: 5, Annotations: []string{AnnotationsAll}})
			q.Header.Add("X-Part", "q")
			return &batchCall{
				Requests: []BatchRequest{
					q,
					{Method: http.MethodPost, Path: "contacts", Header: http.Header{"Prefer": {"return=representation"}, "x-part": {"create"}}, Body: Record{"firstname": "C"}},
					upd,
				},
				Options: &BatchOptions{ContinueOnError: true, RequestOptions: RequestOptions{Header: callerHeader(), Tag: "b", CallerID: idB}},
			}
		}, func(v any) error {
			c := v.(*batchCall)
			b := NewBatch()
			b.Add(c.Requests[0])
			cs := b.ChangeSet()
			cs.Add(c.Requests[1])
			cs.Add(c.Requests[2])
			res, err := f.client.ExecuteBatch(ctx, b, c.Options)
			if err == nil && len(res.Responses) != 3 {
				err = fmt.Errorf("%d responses, want 3", len(res.Responses))
			}
			if err == nil {
				err = res.Err()
			}
			return err
		})
		sawHeaders(t, f)
	})
}
