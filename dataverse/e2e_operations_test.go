package dataverse_test

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"testing"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// TestE2EFunctionsAndActions: the typed WhoAmI and RetrieveVersion, the same functions through
// CallFunction, a bound action through CallAction, and an unknown operation.
func TestE2EFunctionsAndActions(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()

	me, err := env.client.WhoAmI(ctx)
	if err != nil {
		t.Fatalf("WhoAmI: %v", err)
	}
	user, err := env.emu.ApplicationUser(ctx, emulator.DefaultClientID)
	if err != nil {
		t.Fatal(err)
	}
	if me.UserID.String() != user.UserID || me.BusinessUnitID.String() != user.BusinessUnitID || me.OrganizationID == uuid.Nil {
		t.Errorf("WhoAmI = %+v, want the application user %s in business unit %s", me, user.UserID, user.BusinessUnitID)
	}
	var generic dataverse.WhoAmIResponse
	if err := env.client.CallFunction(ctx, "WhoAmI", nil, &generic, nil); err != nil || generic != *me {
		t.Errorf("CallFunction(WhoAmI) = %+v, %v; want %+v", generic, err, *me)
	}

	version, err := env.client.RetrieveVersion(ctx)
	if err != nil {
		t.Fatalf("RetrieveVersion: %v", err)
	}
	if !regexp.MustCompile(`^9\.2\.\d+\.\d+$`).MatchString(version) {
		t.Errorf("RetrieveVersion = %q, want 9.2.x.y", version)
	}
	var v struct{ Version string }
	if err := env.client.CallFunction(ctx, "RetrieveVersion", nil, &v, nil); err != nil || v.Version != version {
		t.Errorf("CallFunction(RetrieveVersion) = %q, %v", v.Version, err)
	}

	// A bound action on a collection, through the generic call: the namespace is added.
	var created struct {
		IDs []uuid.UUID `json:"Ids"`
	}
	params := map[string]any{"Targets": []map[string]any{
		{"@odata.type": "Microsoft.Dynamics.CRM.contact", "lastname": "Action 1"},
		{"@odata.type": "Microsoft.Dynamics.CRM.contact", "lastname": "Action 2"},
	}}
	if err := env.client.CallAction(ctx, "CreateMultiple", params, &created, &dataverse.OperationOptions{EntitySet: "contacts"}); err != nil {
		t.Fatalf("CallAction(contacts/CreateMultiple): %v", err)
	}
	if len(created.IDs) != 2 || created.IDs[0] == created.IDs[1] {
		t.Errorf("CreateMultiple ids %v", created.IDs)
	}
	if n := env.wire.count(http.MethodPost, "contacts/Microsoft.Dynamics.CRM.CreateMultiple"); n != 1 {
		t.Errorf("%d requests to contacts/Microsoft.Dynamics.CRM.CreateMultiple, want 1", n)
	}

	// Operation names are case-sensitive; an unknown one is a 404 whose error says so.
	err = env.client.CallFunction(ctx, "whoami", nil, nil, nil)
	if !dataverse.IsNotFound(err) {
		t.Errorf("CallFunction(whoami): %v, want 404", err)
	}
	// A function called as an action is not found either.
	err = env.client.CallAction(ctx, "WhoAmI", nil, nil, nil)
	if !dataverse.IsNotFound(err) {
		t.Errorf("CallAction(WhoAmI): %v, want 404", err)
	}
}

// TestE2EBulkOperations: CreateMultiple, UpdateMultiple and UpsertMultiple in chunks, and a failing
// chunk that stops the operation after the chunks before it were committed.
func TestE2EBulkOperations(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	ctx := t.Context()

	type contact struct {
		ID       uuid.UUID `json:"contactid,omitempty"`
		LastName string    `json:"lastname,omitempty"`
		JobTitle string    `json:"jobtitle,omitempty"`
	}
	var in []contact
	for i := range 10 {
		in = append(in, contact{LastName: fmt.Sprintf("Bulk %02d", i)})
	}
	small := &dataverse.BulkOptions{ChunkSize: 4}
	ids, err := dataverse.CreateMultiple(ctx, env.client, "contacts", "contact", in, small)
	if err != nil {
		t.Fatalf("CreateMultiple: %v", err)
	}
	if n := env.wire.count(http.MethodPost, "contacts/Microsoft.Dynamics.CRM.CreateMultiple"); n != 3 {
		t.Errorf("CreateMultiple of 10 in chunks of 4 sent %d requests, want 3", n)
	}
	if len(ids) != 10 {
		t.Fatalf("%d ids", len(ids))
	}
	// Ids come back in input order.
	for i, id := range ids {
		var c contact
		if err := env.client.Retrieve(ctx, "contacts", id, &c, &dataverse.RetrieveOptions{Select: []string{"lastname"}}); err != nil {
			t.Fatal(err)
		}
		if c.LastName != in[i].LastName {
			t.Errorf("id %d is %q, want %q", i, c.LastName, in[i].LastName)
		}
	}

	var upd []contact
	for i, id := range ids {
		upd = append(upd, contact{ID: id, JobTitle: fmt.Sprintf("Title %02d", i)})
	}
	if err := dataverse.UpdateMultiple(ctx, env.client, "contacts", "contact", upd, small); err != nil {
		t.Fatalf("UpdateMultiple: %v", err)
	}
	// UpsertMultiple: the first five exist (updated), five new ids (created).
	var ups []contact
	for i := range 10 {
		c := contact{LastName: fmt.Sprintf("Upserted %02d", i)}
		if i < 5 {
			c.ID = ids[i]
		} else {
			c.ID = uuid.New()
		}
		ups = append(ups, c)
	}
	if err := dataverse.UpsertMultiple(ctx, env.client, "contacts", "contact", ups, nil); err != nil {
		t.Fatalf("UpsertMultiple: %v", err)
	}
	for i, u := range ups {
		var c contact
		if err := env.client.Retrieve(ctx, "contacts", u.ID, &c, &dataverse.RetrieveOptions{Select: []string{"lastname", "jobtitle"}}); err != nil {
			t.Fatalf("upserted record %d: %v", i, err)
		}
		wantTitle := ""
		if i < 5 {
			wantTitle = fmt.Sprintf("Title %02d", i)
		}
		if c.LastName != u.LastName || c.JobTitle != wantTitle {
			t.Errorf("upserted record %d = %+v, want lastname %q jobtitle %q", i, c, u.LastName, wantTitle)
		}
	}

	// The third chunk holds a record the service refuses: the first two chunks stay, the third
	// is rolled back, the fourth is never sent.
	var bad []map[string]any
	for i := range 14 {
		r := map[string]any{"lastname": fmt.Sprintf("Partial %02d", i)}
		if i == 9 {
			r["nosuchcolumn"] = 1
		}
		bad = append(bad, r)
	}
	env.wire.take()
	got, err := dataverse.CreateMultiple(ctx, env.client, "contacts", "contact", bad, small)
	var be *dataverse.BulkError
	if !errors.As(err, &be) || be.Operation != "CreateMultiple" || be.First != 8 || be.Count != 4 {
		t.Fatalf("CreateMultiple with a bad record: %v, want a *BulkError for records 8 to 11", err)
	}
	if !hasStatus(err, http.StatusBadRequest) {
		t.Errorf("the BulkError wraps %v, want the service's 400", be.Err)
	}
	if len(got) != 8 {
		t.Errorf("%d ids returned, want the 8 of the committed chunks", len(got))
	}
	if n := countContacts(t, env, "Partial "); n != 8 {
		t.Errorf("%d contacts exist, want 8", n)
	}
	if n := env.wire.count(http.MethodPost, "contacts/Microsoft.Dynamics.CRM.CreateMultiple"); n != 3 {
		t.Errorf("%d requests sent, want 3 (none after the failure)", n)
	}
}
