package dataverse_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
)

// e2eContact is a contact as the tests read it.
type e2eContact struct {
	ID        uuid.UUID   `json:"contactid"`
	FirstName *string     `json:"firstname"`
	LastName  string      `json:"lastname"`
	FullName  string      `json:"fullname"`
	JobTitle  *string     `json:"jobtitle"`
	Email     *string     `json:"emailaddress1"`
	ETag      azcore.ETag `json:"@odata.etag"`
}

// wantResponseError checks that err is a *ResponseError with the status and code.
func wantResponseError(t *testing.T, what string, err error, status int, code string) *dataverse.ResponseError {
	t.Helper()
	var re *dataverse.ResponseError
	if !errors.As(err, &re) {
		t.Fatalf("%s: error %v (%T), want a *dataverse.ResponseError %d %s", what, err, err, status, code)
	}
	if re.StatusCode != status || !strings.EqualFold(re.Code, code) {
		t.Fatalf("%s: %d %s (%s), want %d %s", what, re.StatusCode, re.Code, re.Message, status, code)
	}
	return re
}

// TestE2ERecords runs the record tests side by side on one emulator; each works on rows of
// its own.
func TestE2ERecords(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	for _, sub := range []struct {
		name string
		test func(*testing.T, *e2eEnv)
	}{
		{"RecordLifecycleWithRepresentation", e2eRecordLifecycleWithRepresentation},
		{"OptimisticConcurrency", e2eOptimisticConcurrency},
		{"UpsertGuardsByID", e2eUpsertGuardsByID},
		{"FilterValuesAreQuotedAndEncoded", e2eFilterValuesAreQuotedAndEncoded},
		{"SingleProperty", e2eSingleProperty},
		{"DateOnlyColumns", e2eDateOnlyColumns},
	} {
		t.Run(sub.name, func(t *testing.T) {
			t.Parallel()
			sub.test(t, env)
		})
	}
}

func e2eRecordLifecycleWithRepresentation(t *testing.T, env *e2eEnv) {
	ctx := t.Context()

	res, err := env.client.Create(ctx, "contacts", map[string]any{"firstname": "Grace", "lastname": "Hopper"},
		&dataverse.CreateOptions{ReturnRepresentation: true, Select: []string{"fullname", "lastname"}})
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	if res.ID == uuid.Nil || !res.Created || res.ETag == "" || res.Record == nil {
		t.Fatalf("Create with representation = %+v", res)
	}
	if got, _ := res.Record.String("fullname"); got != "Grace Hopper" {
		t.Errorf("representation fullname %q, want the computed %q", got, "Grace Hopper")
	}
	if id, _ := res.Record.GUID("contactid"); id != res.ID || res.Record.ETag() != res.ETag {
		t.Errorf("representation id %v etag %q, want %v %q", id, res.Record.ETag(), res.ID, res.ETag)
	}

	upd, err := env.client.Update(ctx, "contacts", res.ID, map[string]any{"jobtitle": "Rear Admiral"},
		&dataverse.UpdateOptions{ReturnRepresentation: true, Select: []string{"jobtitle"}})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	if upd.Created || upd.ETag == "" || upd.ETag == res.ETag {
		t.Errorf("Update with representation = %+v, want a new ETag (was %q) and Created false", upd, res.ETag)
	}
	if got, _ := upd.Record.String("jobtitle"); got != "Rear Admiral" {
		t.Errorf("updated jobtitle %q", got)
	}

	var rec dataverse.Record
	if err := env.client.Retrieve(ctx, "contacts", res.ID, &rec, &dataverse.RetrieveOptions{Select: []string{"fullname", "jobtitle"}}); err != nil {
		t.Fatalf("Retrieve: %v", err)
	}
	if rec.ETag() != upd.ETag {
		t.Errorf("retrieved ETag %q, want the update's %q", rec.ETag(), upd.ETag)
	}

	if err := env.client.Delete(ctx, "contacts", res.ID, nil); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	err = env.client.Delete(ctx, "contacts", res.ID, nil)
	wantResponseError(t, "second Delete", err, http.StatusNotFound, dataverse.CodeObjectDoesNotExist)
	_, err = env.client.Update(ctx, "contacts", res.ID, map[string]any{"jobtitle": "x"}, nil)
	wantResponseError(t, "Update of a deleted record", err, http.StatusNotFound, dataverse.CodeObjectDoesNotExist)
	if !dataverse.IsNotFound(err) {
		t.Errorf("IsNotFound(%v) = false", err)
	}
}

// e2eOptimisticConcurrency: a stale ETag on update or delete is a typed 412, the current one works,
// and a conditional retrieve with the current ETag is ErrNotModified.
func e2eOptimisticConcurrency(t *testing.T, env *e2eEnv) {
	ctx := t.Context()

	created, err := env.client.Create(ctx, "contacts", map[string]any{"lastname": "Lamport"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var c e2eContact
	sel := &dataverse.RetrieveOptions{Select: []string{"lastname", "jobtitle"}}
	if err := env.client.Retrieve(ctx, "contacts", created.ID, &c, sel); err != nil {
		t.Fatal(err)
	}
	stale := c.ETag

	// Conditional retrieve with the current version: 304, out untouched.
	untouched := e2eContact{LastName: "sentinel"}
	err = env.client.Retrieve(ctx, "contacts", created.ID, &untouched, &dataverse.RetrieveOptions{Select: sel.Select, IfNoneMatch: stale})
	if !errors.Is(err, dataverse.ErrNotModified) || untouched.LastName != "sentinel" {
		t.Fatalf("conditional Retrieve with the current ETag: %v, out %+v; want ErrNotModified and out untouched", err, untouched)
	}

	// Never 304 with $expand or with annotations asked for (webapi.md §2.3).
	for name, o := range map[string]*dataverse.RetrieveOptions{
		"$expand":     {Select: sel.Select, IfNoneMatch: stale, Expand: []dataverse.Expand{{Property: "createdby", Select: []string{"fullname"}}}},
		"annotations": {Select: sel.Select, IfNoneMatch: stale, Annotations: []string{dataverse.AnnotationFormattedValue}},
	} {
		var got e2eContact
		if err := env.client.Retrieve(ctx, "contacts", created.ID, &got, o); err != nil || got.LastName != "Lamport" {
			t.Errorf("conditional Retrieve with %s: %+v, %v; want the record", name, got, err)
		}
	}

	if _, err := env.client.Update(ctx, "contacts", created.ID, map[string]any{"jobtitle": "Writer A"}, &dataverse.UpdateOptions{IfMatch: stale}); err != nil {
		t.Fatalf("Update with the current ETag: %v", err)
	}
	// Now the ETag is stale: a second writer loses.
	_, err = env.client.Update(ctx, "contacts", created.ID, map[string]any{"jobtitle": "Writer B"}, &dataverse.UpdateOptions{IfMatch: stale})
	re := wantResponseError(t, "Update with a stale ETag", err, http.StatusPreconditionFailed, dataverse.CodeConcurrencyVersionMismatch)
	if !dataverse.IsPreconditionFailed(err) || re.Method != http.MethodPatch || !strings.HasPrefix(re.Path, "contacts(") {
		t.Errorf("stale update error %+v", re)
	}
	if !strings.Contains(err.Error(), "read it again") {
		t.Errorf("stale update error %q does not say what to do", err)
	}
	err = env.client.Delete(ctx, "contacts", created.ID, &dataverse.DeleteOptions{IfMatch: stale})
	wantResponseError(t, "Delete with a stale ETag", err, http.StatusPreconditionFailed, dataverse.CodeConcurrencyVersionMismatch)

	// The conditional retrieve with the old ETag now returns the new version.
	if err := env.client.Retrieve(ctx, "contacts", created.ID, &c, &dataverse.RetrieveOptions{Select: sel.Select, IfNoneMatch: stale}); err != nil {
		t.Fatalf("conditional Retrieve after a change: %v", err)
	}
	if c.JobTitle == nil || *c.JobTitle != "Writer A" || c.ETag == stale {
		t.Errorf("after the change: %+v", c)
	}
	if err := env.client.Delete(ctx, "contacts", created.ID, &dataverse.DeleteOptions{IfMatch: c.ETag}); err != nil {
		t.Errorf("Delete with the current ETag: %v", err)
	}
}

// e2eUpsertGuardsByID: create-only and update-only upserts addressed by a caller-chosen id.
func e2eUpsertGuardsByID(t *testing.T, env *e2eEnv) {
	ctx := t.Context()
	id := uuid.New()

	_, err := env.client.Upsert(ctx, "contacts", id, map[string]any{"lastname": "Missing"}, &dataverse.UpsertOptions{Mode: dataverse.UpsertUpdateOnly})
	wantResponseError(t, "update-only upsert of a missing id", err, http.StatusNotFound, dataverse.CodeObjectDoesNotExist)

	res, err := env.client.Upsert(ctx, "contacts", id, map[string]any{"lastname": "Liskov"},
		&dataverse.UpsertOptions{Mode: dataverse.UpsertCreateOnly, ReturnRepresentation: true})
	if err != nil {
		t.Fatalf("create-only upsert of a new id: %v", err)
	}
	if res.ID != id || !res.Created {
		t.Errorf("create-only upsert = ID %v Created %v, want %v true", res.ID, res.Created, id)
	}

	_, err = env.client.Upsert(ctx, "contacts", id, map[string]any{"lastname": "Overwritten"}, &dataverse.UpsertOptions{Mode: dataverse.UpsertCreateOnly})
	wantResponseError(t, "create-only upsert of an existing id", err, http.StatusPreconditionFailed, dataverse.CodeDuplicateRecord)

	res, err = env.client.Upsert(ctx, "contacts", id, map[string]any{"firstname": "Barbara"},
		&dataverse.UpsertOptions{Mode: dataverse.UpsertUpdateOnly, ReturnRepresentation: true, Select: []string{"fullname"}})
	if err != nil {
		t.Fatalf("update-only upsert of an existing id: %v", err)
	}
	if res.Created || res.ID != id {
		t.Errorf("update-only upsert = ID %v Created %v, want %v false", res.ID, res.Created, id)
	}
	if got, _ := res.Record.String("fullname"); got != "Barbara Liskov" {
		t.Errorf("fullname after update-only upsert %q", got)
	}

	// A plain upsert creates and then updates; with representation it says which.
	other := uuid.New()
	for i, want := range []bool{true, false} {
		res, err := env.client.Upsert(ctx, "contacts", other, map[string]any{"lastname": "Plain"}, &dataverse.UpsertOptions{ReturnRepresentation: true})
		if err != nil {
			t.Fatalf("plain upsert %d: %v", i, err)
		}
		if res.Created != want || res.ID != other {
			t.Errorf("plain upsert %d: Created %v ID %v, want %v %v", i, res.Created, res.ID, want, other)
		}
	}
	// Without representation the id comes from OData-EntityId.
	res, err = env.client.Upsert(ctx, "contacts", other, map[string]any{"lastname": "Plain 2"}, nil)
	if err != nil || res.ID != other || !strings.HasSuffix(res.EntityID, "contacts("+other.String()+")") {
		t.Errorf("upsert without representation = %+v, %v", res, err)
	}
}

// e2eFilterValuesAreQuotedAndEncoded: values with quotes, URL delimiters and non-ASCII letters
// go through Filterf and the builder and find exactly their row.
func e2eFilterValuesAreQuotedAndEncoded(t *testing.T, env *e2eEnv) {
	ctx := t.Context()
	names := []string{
		"O'Brien", "OBrien", "O''Brien", "O'Brian",
		"a/b", "a+b", "a b", "a&b", "a#b", "a?b", "a%b", "a=b;c", "a,b:c@d",
		"Zoë Ångström", "李小龍", "emoji 🎉",
	}
	ids := map[string]uuid.UUID{}
	for _, n := range names {
		res, err := env.client.Create(ctx, "contacts", map[string]any{"lastname": n}, nil)
		if err != nil {
			t.Fatalf("Create %q: %v", n, err)
		}
		ids[n] = res.ID
	}
	for _, n := range names {
		if n == "a%b" {
			continue // % is a wildcard inside string functions, not in eq
		}
		for _, filter := range []string{dataverse.Filterf("lastname eq %v", n), dataverse.Eq("lastname", n).String()} {
			page, err := env.client.List(ctx, "contacts", &dataverse.ListOptions{Query: dataverse.Query{Select: []string{"lastname"}, Filter: filter}})
			if err != nil {
				t.Errorf("filter %s: %v", filter, err)
				continue
			}
			var got []string
			for _, r := range page.Items {
				s, _ := r.String("lastname")
				got = append(got, s)
			}
			if diff := cmp.Diff([]string{n}, got); diff != "" {
				t.Errorf("filter %s: rows (-want +got):\n%s", filter, diff)
			} else if id, _ := page.Items[0].GUID("contactid"); id != ids[n] {
				t.Errorf("filter %s: id %v, want %v", filter, id, ids[n])
			}
		}
	}
	// The O'Brien of the issue, through a typed pager and the builder's And/Or.
	f := dataverse.Or(dataverse.Eq("lastname", "O'Brien"), dataverse.And(dataverse.Eq("lastname", "a&b"), dataverse.Ne("lastname", "x")))
	var got []string
	for c, err := range dataverse.NewPager[e2eContact](env.client, "contacts", &dataverse.ListOptions{Query: dataverse.Query{
		Select: []string{"lastname"}, Filter: f.String(), OrderBy: []string{"lastname desc"},
	}}).All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, c.LastName)
	}
	if diff := cmp.Diff([]string{"O'Brien", "a&b"}, got); diff != "" {
		t.Errorf("filter %s (-want +got):\n%s", f, diff)
	}
	// startswith with a quote.
	page, err := env.client.List(ctx, "contacts", &dataverse.ListOptions{Query: dataverse.Query{
		Select: []string{"lastname"}, Filter: dataverse.StartsWith("lastname", "O'Br").String(), OrderBy: []string{"lastname"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, r := range page.Items {
		s, _ := r.String("lastname")
		got = append(got, s)
	}
	if diff := cmp.Diff([]string{"O'Brian", "O'Brien"}, got); diff != "" {
		t.Errorf("startswith O'Br (-want +got):\n%s", diff)
	}
}

// e2eSingleProperty reads, sets and clears one column.
func e2eSingleProperty(t *testing.T, env *e2eEnv) {
	ctx := t.Context()
	created, err := env.client.Create(ctx, "contacts", map[string]any{"lastname": "Turing", "jobtitle": "Cryptanalyst", "numberofchildren": 0}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var title string
	if err := env.client.GetProperty(ctx, "contacts", created.ID, "jobtitle", &title, nil); err != nil || title != "Cryptanalyst" {
		t.Fatalf("GetProperty jobtitle = %q, %v", title, err)
	}
	if err := env.client.SetProperty(ctx, "contacts", created.ID, "jobtitle", "Mathematician", nil); err != nil {
		t.Fatalf("SetProperty: %v", err)
	}
	if err := env.client.SetProperty(ctx, "contacts", created.ID, "numberofchildren", 3, nil); err != nil {
		t.Fatalf("SetProperty number: %v", err)
	}
	var n int
	if err := env.client.GetProperty(ctx, "contacts", created.ID, "numberofchildren", &n, nil); err != nil || n != 3 {
		t.Errorf("GetProperty numberofchildren = %d, %v", n, err)
	}
	if err := env.client.GetProperty(ctx, "contacts", created.ID, "jobtitle", &title, nil); err != nil || title != "Mathematician" {
		t.Errorf("GetProperty after SetProperty = %q, %v", title, err)
	}
	if err := env.client.ClearProperty(ctx, "contacts", created.ID, "jobtitle", nil); err != nil {
		t.Fatalf("ClearProperty: %v", err)
	}
	var c e2eContact
	if err := env.client.Retrieve(ctx, "contacts", created.ID, &c, &dataverse.RetrieveOptions{Select: []string{"jobtitle", "lastname"}}); err != nil {
		t.Fatal(err)
	}
	if c.JobTitle != nil || c.LastName != "Turing" {
		t.Errorf("after ClearProperty: jobtitle %v lastname %q, want null and unchanged", c.JobTitle, c.LastName)
	}
	err = env.client.GetProperty(ctx, "contacts", created.ID, "nosuchcolumn", &title, nil)
	if !dataverse.IsNotFound(err) && !hasStatus(err, http.StatusBadRequest) {
		t.Errorf("GetProperty of an unknown column: %v, want a 400 or 404 *ResponseError", err)
	}
}

func hasStatus(err error, status int) bool {
	var re *dataverse.ResponseError
	return errors.As(err, &re) && re.StatusCode == status
}

// e2eDateOnlyColumns writes and reads a date-only column (birthdate) with dataverse.Date, in a
// Record and in a struct: the body carries "1815-12-10", which the service stores as that day.
func e2eDateOnlyColumns(t *testing.T, env *e2eEnv) {
	ctx := t.Context()
	born := dataverse.Date{Year: 1815, Month: time.December, Day: 10}
	created, err := env.client.Create(ctx, "contacts", dataverse.Record{"lastname": "Lovelace", "birthdate": born}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Birth dataverse.Date `json:"birthdate"`
	}
	if err := env.client.Retrieve(ctx, "contacts", created.ID, &got, &dataverse.RetrieveOptions{Select: []string{"birthdate"}}); err != nil {
		t.Fatal(err)
	}
	if got.Birth != born {
		t.Errorf("birthdate read back = %v, want %v", got.Birth, born)
	}
	page, err := env.client.List(ctx, "contacts", &dataverse.ListOptions{Query: dataverse.Query{
		Select: []string{"contactid"},
		Filter: dataverse.Filterf("birthdate eq %v and lastname eq %v", born, "Lovelace"),
	}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(page.Items, func(r dataverse.Record) bool { return r["contactid"] == created.ID.String() }) {
		t.Errorf("filter on birthdate eq %v found %v, want the new contact %s", born, page.Items, created.ID)
	}
}
