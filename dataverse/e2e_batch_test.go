package dataverse_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
)

// countContacts counts the contacts whose last name starts with prefix.
func countContacts(t *testing.T, env *e2eEnv, prefix string) int64 {
	t.Helper()
	n, err := env.client.Count(t.Context(), "contacts", &dataverse.CountOptions{Filter: dataverse.StartsWith("lastname", prefix).String()})
	if err != nil {
		t.Fatalf("Count %s*: %v", prefix, err)
	}
	return n
}

// TestE2EBatchOf2500SplitsIntoThreeRequests: 2,500 operations go out as three $batch requests of at
// most 1,000, a change set that would straddle a boundary moves whole to the next request, and
// every operation gets its response in order. The operations outside the change set are reads
// of one record: the split is what is tested, and reads keep the test fast under the race
// detector (2,500 creates take about ten seconds there).
func TestE2EBatchOf2500SplitsIntoThreeRequests(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()
	target, err := env.client.Create(ctx, "contacts", map[string]any{"firstname": "Read", "lastname": "Often"}, nil)
	if err != nil {
		t.Fatal(err)
	}

	b := dataverse.NewBatch()
	const before, csOps, total = 995, 10, 2500
	for range before {
		b.Add(dataverse.RetrieveRequest("contacts", target.ID, "fullname"))
	}
	cs := b.ChangeSet()
	for i := range csOps {
		cs.Add(dataverse.CreateRequest("contacts", map[string]any{"lastname": fmt.Sprintf("Split %02d", i)}))
	}
	for range total - before - csOps {
		b.Add(dataverse.RetrieveRequest("contacts", target.ID, "fullname"))
	}
	if b.Len() != total {
		t.Fatalf("Len %d, want %d", b.Len(), total)
	}
	env.wire.take()
	res, err := env.client.ExecuteBatch(ctx, b, nil)
	if err != nil {
		t.Fatalf("ExecuteBatch: %v", err)
	}
	var sizes []int
	for _, r := range env.wire.take() {
		if r.Method == http.MethodPost && r.Path == "$batch" {
			sizes = append(sizes, r.Operations)
		}
	}
	if diff := cmp.Diff([]int{995, 1000, 505}, sizes); diff != "" {
		t.Errorf("operations per $batch request (-want +got):\n%s", diff)
	}
	if len(res.Responses) != total {
		t.Fatalf("%d responses, want %d", len(res.Responses), total)
	}
	created := map[uuid.UUID]bool{}
	for i, r := range res.Responses {
		if r.Index != i || r.Err != nil {
			t.Fatalf("response %d: index %d err %v", i, r.Index, r.Err)
		}
		if i >= before && i < before+csOps {
			if r.StatusCode != http.StatusNoContent || r.ContentID != fmt.Sprint(i-before+1) || r.ID() == uuid.Nil {
				t.Fatalf("change-set response %d: status %d Content-ID %q id %v", i, r.StatusCode, r.ContentID, r.ID())
			}
			created[r.ID()] = true
			continue
		}
		var c e2eContact
		if r.StatusCode != http.StatusOK || r.Decode(&c) != nil || c.ID != target.ID || c.FullName != "Read Often" {
			t.Fatalf("read response %d: status %d body %.100s", i, r.StatusCode, r.Body)
		}
	}
	if len(created) != csOps {
		t.Errorf("%d distinct ids from the change set, want %d", len(created), csOps)
	}
	if n := countContacts(t, env, "Split "); n != csOps {
		t.Errorf("%d contacts created, want %d", n, csOps)
	}
}

// TestE2EBatches runs batch tests side by side on one emulator; each works on rows of its own.
func TestE2EBatches(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	for _, sub := range []struct {
		name string
		test func(*testing.T, *e2eEnv)
	}{
		{"BatchChangeSetContentIDReferences", e2eBatchChangeSetContentIDReferences},
		{"BatchStopsAtFirstFailure", e2eBatchStopsAtFirstFailure},
		{"BatchContinueOnError", e2eBatchContinueOnError},
		{"BatchChangeSetRollsBack", e2eBatchChangeSetRollsBack},
	} {
		t.Run(sub.name, func(t *testing.T) {
			t.Parallel()
			sub.test(t, env)
		})
	}
}

// e2eBatchChangeSetContentIDReferences: later operations of a change set refer to records created
// by earlier ones as $n, in @odata.bind values and as the request path; GETs outside the change set
// read the results in the same batch.
func e2eBatchChangeSetContentIDReferences(t *testing.T, env *e2eEnv) {
	ctx := t.Context()

	b := dataverse.NewBatch()
	cs := b.ChangeSet()
	acct := cs.Add(dataverse.CreateRequest("accounts", map[string]any{"name": "Fabrikam"}))
	contact := cs.Add(dataverse.CreateRequest("contacts", map[string]any{"lastname": "Ref", "parentcustomerid_account@odata.bind": acct}))
	cs.Add(dataverse.BatchRequest{Method: http.MethodPatch, Path: acct, Body: map[string]any{"primarycontactid@odata.bind": contact}})
	cs.Add(dataverse.BatchRequest{Method: http.MethodPut, Path: contact + "/jobtitle", Body: map[string]any{"value": "Buyer"}})
	created := cs.Add(dataverse.BatchRequest{
		Method: http.MethodPost, Path: "contacts",
		Header: http.Header{"Prefer": {"return=representation"}},
		Body:   map[string]any{"firstname": "Second", "lastname": "Ref", "parentcustomerid_account@odata.bind": acct},
	})
	query := b.Add(dataverse.QueryRequest("contacts", dataverse.Query{
		Select: []string{"lastname", "jobtitle", "_parentcustomerid_value"}, Filter: dataverse.Eq("lastname", "Ref").String(), OrderBy: []string{"firstname"},
	}))
	if acct != "$1" || contact != "$2" || created != "$5" {
		t.Fatalf("Content-ID references %s %s %s, want $1 $2 $5", acct, contact, created)
	}

	res, err := env.client.ExecuteBatch(ctx, b, nil)
	if err != nil {
		t.Fatalf("ExecuteBatch: %v", err)
	}
	if len(res.Responses) != 6 {
		t.Fatalf("%d responses, want 6", len(res.Responses))
	}
	for i, want := range []struct {
		status    int
		contentID string
	}{{204, "1"}, {204, "2"}, {204, "3"}, {204, "4"}, {201, "5"}, {200, ""}} {
		r := res.Responses[i]
		if r.StatusCode != want.status || r.ContentID != want.contentID || r.Index != i {
			t.Errorf("response %d: status %d Content-ID %q index %d, want %d %q", i, r.StatusCode, r.ContentID, r.Index, want.status, want.contentID)
		}
	}
	acctID, contactID := res.Responses[0].ID(), res.Responses[1].ID()
	if acctID == uuid.Nil || contactID == uuid.Nil {
		t.Fatalf("ids of the created records: %v %v", acctID, contactID)
	}
	var second dataverse.Record
	if err := res.Responses[4].Decode(&second); err != nil {
		t.Fatalf("representation of the fifth operation: %v", err)
	}
	if got, _ := second.String("firstname"); got != "Second" {
		t.Errorf("representation %v", second)
	}
	var page struct {
		Value []struct {
			LastName string    `json:"lastname"`
			JobTitle *string   `json:"jobtitle"`
			Parent   uuid.UUID `json:"_parentcustomerid_value"`
		} `json:"value"`
	}
	if err := res.Responses[query].Decode(&page); err != nil {
		t.Fatal(err)
	}
	// Ordered by first name, nulls first: the contact created as $2 (no first name), then "Second".
	if len(page.Value) != 2 || page.Value[0].Parent != acctID || page.Value[1].Parent != acctID ||
		page.Value[0].JobTitle == nil || *page.Value[0].JobTitle != "Buyer" || page.Value[1].JobTitle != nil {
		t.Errorf("query after the change set = %+v", page.Value)
	}
	if got := lookupOf(t, env, "accounts", acctID, "primarycontactid"); got != contactID {
		t.Errorf("account primarycontactid = %v, want $2 = %v", got, contactID)
	}
}

// failingBatch is [create "<prefix> A", update of a missing contact, create "<prefix> B"].
func failingBatch(prefix string) (*dataverse.Batch, uuid.UUID) {
	missing := uuid.New()
	b := dataverse.NewBatch()
	b.Add(dataverse.CreateRequest("contacts", map[string]any{"lastname": prefix + " A"}))
	b.Add(dataverse.UpdateRequest("contacts", missing, map[string]any{"lastname": prefix + " missing"}))
	b.Add(dataverse.CreateRequest("contacts", map[string]any{"lastname": prefix + " B"}))
	return b, missing
}

// e2eBatchStopsAtFirstFailure: without continue-on-error the service runs the operations up to
// the first failure and answers with that failure alone (webapi.md §6), which does not say which
// operation it was: the client reports it as unnamed rather than blaming an operation that ran.
func e2eBatchStopsAtFirstFailure(t *testing.T, env *e2eEnv) {
	b, missing := failingBatch("Stop")
	res, err := env.client.ExecuteBatch(t.Context(), b, nil)
	re := wantResponseError(t, "ExecuteBatch", err, http.StatusNotFound, dataverse.CodeObjectDoesNotExist)
	if re.BatchPart == nil || re.BatchPart.Index != -1 || re.Method != http.MethodPost || re.Path != "$batch" {
		t.Errorf("error %+v (part %+v): want an unnamed part of POST $batch", re, re.BatchPart)
	}
	if !strings.Contains(re.Message, missing.String()) {
		t.Errorf("message %q does not name the missing record", re.Message)
	}
	if res == nil || len(res.Responses) != 0 {
		t.Errorf("responses %+v, want none (the service sends only the failure)", res)
	}
	if n := countContacts(t, env, "Stop A"); n != 1 {
		t.Errorf("%d contacts from the operation before the failure, want 1", n)
	}
	if n := countContacts(t, env, "Stop B"); n != 0 {
		t.Errorf("%d contacts from the operation after the failure, want 0: the service must stop", n)
	}
}

func e2eBatchContinueOnError(t *testing.T, env *e2eEnv) {
	b, _ := failingBatch("Continue")
	res, err := env.client.ExecuteBatch(t.Context(), b, &dataverse.BatchOptions{ContinueOnError: true})
	if err != nil {
		t.Fatalf("ExecuteBatch with continue-on-error: %v, want nil with the failure in its response", err)
	}
	if len(res.Responses) != 3 {
		t.Fatalf("%d responses, want 3", len(res.Responses))
	}
	if got := []int{res.Responses[0].StatusCode, res.Responses[1].StatusCode, res.Responses[2].StatusCode}; !cmp.Equal(got, []int{204, 404, 204}) {
		t.Errorf("statuses %v, want [204 404 204]", got)
	}
	e := res.Responses[1].Err
	if e == nil || e.Code != dataverse.CodeObjectDoesNotExist || e.BatchPart == nil || e.BatchPart.Index != 1 {
		t.Errorf("failed part's error = %+v", e)
	}
	var re *dataverse.ResponseError
	if joined := res.Err(); !errors.As(joined, &re) || re != e {
		t.Errorf("BatchResult.Err() = %v, want the failed part's error", joined)
	}
	if n := countContacts(t, env, "Continue "); n != 2 {
		t.Errorf("%d contacts exist, want 2", n)
	}
}

// e2eBatchChangeSetRollsBack: a failure inside a change set undoes its earlier operations; with
// continue-on-error the operations after the change set still run.
func e2eBatchChangeSetRollsBack(t *testing.T, env *e2eEnv) {
	ctx := t.Context()
	for _, continueOnError := range []bool{false, true} {
		prefix := fmt.Sprintf("Rollback %v", continueOnError)
		b := dataverse.NewBatch()
		cs := b.ChangeSet()
		cs.Add(dataverse.CreateRequest("contacts", map[string]any{"lastname": prefix + " in change set 1"}))
		cs.Add(dataverse.CreateRequest("contacts", map[string]any{"lastname": prefix + " in change set 2"}))
		cs.Add(dataverse.UpdateRequest("contacts", uuid.New(), map[string]any{"lastname": prefix + " missing"}))
		b.Add(dataverse.CreateRequest("contacts", map[string]any{"lastname": prefix + " after"}))

		res, err := env.client.ExecuteBatch(ctx, b, &dataverse.BatchOptions{ContinueOnError: continueOnError})
		if continueOnError {
			if err != nil {
				t.Fatalf("continue-on-error: %v", err)
			}
			err = res.Err()
		}
		var re *dataverse.ResponseError
		if !errors.As(err, &re) || re.StatusCode != http.StatusNotFound || re.BatchPart == nil {
			t.Fatalf("continue-on-error %v: error %v, want the change set's 404 naming its part", continueOnError, err)
		}
		// The service answers a failed change set with one error part. With continue-on-error every
		// top-level part answers in order, so the client reports it for an operation of the change
		// set (the failing one when the part names it by Content-ID); without, the part is the
		// whole answer and names no operation.
		if continueOnError && (re.BatchPart.Index < 0 || re.BatchPart.Index > 2 || re.BatchPart.ContentID == "") {
			t.Errorf("continue-on-error: failed part %+v, want an operation of the change set", re.BatchPart)
		}
		if !continueOnError && re.BatchPart.Index != -1 {
			t.Errorf("stop at the failure: failed part %+v, want the unnamed part -1", re.BatchPart)
		}
		if n := countContacts(t, env, prefix+" in change set"); n != 0 {
			t.Errorf("continue-on-error %v: %d change-set creates survived, want 0 (rolled back)", continueOnError, n)
		}
		want := int64(0)
		if continueOnError {
			want = 1
		}
		if n := countContacts(t, env, prefix+" after"); n != want {
			t.Errorf("continue-on-error %v: %d creates after the change set, want %d", continueOnError, n, want)
		}
	}
}

// TestE2EBatchReadsAndPerPartErrors: GETs in a batch decode like their single-request forms, and a
// GET of a missing record fails alone.
func TestE2EBatchReadsAndPerPartErrors(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()
	created, err := env.client.Create(ctx, "contacts", map[string]any{"firstname": "Edsger", "lastname": "Dijkstra"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	b := dataverse.NewBatch()
	b.Add(dataverse.RetrieveRequest("contacts", created.ID, "fullname"))
	b.Add(dataverse.RetrieveRequest("contacts", uuid.New(), "fullname"))
	b.Add(dataverse.QueryRequest("contacts", dataverse.Query{Select: []string{"fullname"}, Count: true, MaxPageSize: 1}))
	res, err := env.client.ExecuteBatch(ctx, b, &dataverse.BatchOptions{ContinueOnError: true})
	if err != nil {
		t.Fatal(err)
	}
	var c e2eContact
	if err := res.Responses[0].Decode(&c); err != nil || c.FullName != "Edsger Dijkstra" || c.ID != created.ID {
		t.Errorf("retrieve in a batch = %+v, %v", c, err)
	}
	if e := res.Responses[1].Err; e == nil || e.StatusCode != http.StatusNotFound || e.Code != dataverse.CodeObjectDoesNotExist {
		t.Errorf("retrieve of a missing record in a batch: %+v", e)
	}
	var page dataverse.Page[e2eContact]
	if err := res.Responses[2].Decode(&page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 1 || page.Count == nil || *page.Count != 1 {
		t.Errorf("query in a batch = %d items, count %v", len(page.Items), page.Count)
	}
	// Only GETs: the batch was marked idempotent; any write makes it not.
	if n := env.wire.count(http.MethodPost, "$batch"); n != 1 {
		t.Errorf("%d $batch requests, want 1", n)
	}
}
