package dataverse_test

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/dataverse"
)

// e2eAccount is an account with its primary contact expanded.
type e2eAccount struct {
	ID             uuid.UUID    `json:"accountid"`
	Name           string       `json:"name"`
	PrimaryContact *e2eContact  `json:"primarycontactid"`
	Contacts       []e2eContact `json:"contact_customer_accounts"`
}

// lookupOf reads a lookup column (by its _x_value property) of a record.
func lookupOf(t *testing.T, env *e2eEnv, set string, id uuid.UUID, column string) uuid.UUID {
	t.Helper()
	var rec dataverse.Record
	prop := "_" + column + "_value"
	if err := env.client.Retrieve(t.Context(), set, id, &rec, &dataverse.RetrieveOptions{Select: []string{prop}}); err != nil {
		t.Fatalf("Retrieve %s: %v", prop, err)
	}
	if rec[prop] == nil {
		return uuid.Nil
	}
	got, ok := rec.GUID(prop)
	if !ok {
		t.Fatalf("%s = %v, want a GUID or null", prop, rec[prop])
	}
	return got
}

// TestE2ERelationships runs the relationship and impersonation tests side by side on one
// emulator; each works on rows of its own.
func TestE2ERelationships(t *testing.T) {
	t.Parallel()
	env := newE2E(t, nil)
	for _, sub := range []struct {
		name string
		test func(*testing.T, *e2eEnv)
	}{
		{"BindAssociateAndExpand", e2eBindAssociateAndExpand},
		{"ManyToManyAssociate", e2eManyToManyAssociate},
		{"Impersonation", e2eImpersonation},
	} {
		t.Run(sub.name, func(t *testing.T) {
			t.Parallel()
			sub.test(t, env)
		})
	}
}

// e2eBindAssociateAndExpand: @odata.bind on create and update, $ref associate and disassociate on a
// collection, set and clear of a single-valued reference, and $expand of both kinds.
func e2eBindAssociateAndExpand(t *testing.T, env *e2eEnv) {
	ctx := t.Context()

	ada, err := env.client.Create(ctx, "contacts", map[string]any{"firstname": "Ada", "lastname": "Lovelace"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	charles, err := env.client.Create(ctx, "contacts", map[string]any{"firstname": "Charles", "lastname": "Babbage"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Bind on create.
	acct, err := env.client.Create(ctx, "accounts", dataverse.Record{"name": "Analytical Engines"}.Bind("primarycontactid", "contacts", ada.ID), nil)
	if err != nil {
		t.Fatalf("Create with bind: %v", err)
	}
	if got := lookupOf(t, env, "accounts", acct.ID, "primarycontactid"); got != ada.ID {
		t.Errorf("primarycontactid after bind on create = %v, want %v", got, ada.ID)
	}
	// SetReference replaces it, ClearReference empties it, Bind on update sets it again.
	if err := env.client.SetReference(ctx, "accounts", acct.ID, "primarycontactid", "contacts", charles.ID, nil); err != nil {
		t.Fatalf("SetReference: %v", err)
	}
	if got := lookupOf(t, env, "accounts", acct.ID, "primarycontactid"); got != charles.ID {
		t.Errorf("primarycontactid after SetReference = %v, want %v", got, charles.ID)
	}
	if err := env.client.ClearReference(ctx, "accounts", acct.ID, "primarycontactid", nil); err != nil {
		t.Fatalf("ClearReference: %v", err)
	}
	if got := lookupOf(t, env, "accounts", acct.ID, "primarycontactid"); got != uuid.Nil {
		t.Errorf("primarycontactid after ClearReference = %v, want null", got)
	}
	bind, err := dataverse.Bind("contacts", ada.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := env.client.Update(ctx, "accounts", acct.ID, map[string]any{"primarycontactid@odata.bind": bind}, nil); err != nil {
		t.Fatalf("Update with bind: %v", err)
	}
	if got := lookupOf(t, env, "accounts", acct.ID, "primarycontactid"); got != ada.ID {
		t.Errorf("primarycontactid after bind on update = %v, want %v", got, ada.ID)
	}

	// Collection-valued: both contacts become the account's (parentcustomerid) through $ref.
	for _, c := range []uuid.UUID{ada.ID, charles.ID} {
		if err := env.client.Associate(ctx, "accounts", acct.ID, "contact_customer_accounts", "contacts", c, nil); err != nil {
			t.Fatalf("Associate: %v", err)
		}
		if got := lookupOf(t, env, "contacts", c, "parentcustomerid"); got != acct.ID {
			t.Errorf("contact %v parentcustomerid after Associate = %v, want %v", c, got, acct.ID)
		}
	}

	// $expand: the single-valued primary contact and the collection of contacts.
	var got e2eAccount
	err = env.client.Retrieve(ctx, "accounts", acct.ID, &got, &dataverse.RetrieveOptions{
		Select: []string{"name"},
		Expand: []dataverse.Expand{
			{Property: "primarycontactid", Select: []string{"fullname"}},
			{Property: "contact_customer_accounts", Select: []string{"lastname"}, OrderBy: []string{"lastname"}},
		},
	})
	if err != nil {
		t.Fatalf("Retrieve with $expand: %v", err)
	}
	if got.PrimaryContact == nil || got.PrimaryContact.ID != ada.ID || got.PrimaryContact.FullName != "Ada Lovelace" {
		t.Errorf("expanded primarycontactid = %+v", got.PrimaryContact)
	}
	var lastNames []string
	for _, c := range got.Contacts {
		lastNames = append(lastNames, c.LastName)
	}
	if diff := cmp.Diff([]string{"Babbage", "Lovelace"}, lastNames); diff != "" {
		t.Errorf("expanded contact_customer_accounts (-want +got):\n%s", diff)
	}

	// The same expansion on a collection query, filtered inside the expansion.
	page, err := dataverse.NewPager[e2eAccount](env.client, "accounts", &dataverse.ListOptions{Query: dataverse.Query{
		Select: []string{"name"},
		Filter: dataverse.Eq("accountid", acct.ID).String(),
		Expand: []dataverse.Expand{{Property: "contact_customer_accounts", Select: []string{"lastname"}, Filter: dataverse.Eq("firstname", "Charles").String()}},
	}}).NextPage(ctx)
	if err != nil {
		t.Fatalf("List with $expand: %v", err)
	}
	if len(page.Items) != 1 || len(page.Items[0].Contacts) != 1 || page.Items[0].Contacts[0].ID != charles.ID {
		t.Errorf("List with a filtered $expand = %+v", page.Items)
	}

	// Disassociate one of them.
	if err := env.client.Disassociate(ctx, "accounts", acct.ID, "contact_customer_accounts", charles.ID, nil); err != nil {
		t.Fatalf("Disassociate: %v", err)
	}
	if got := lookupOf(t, env, "contacts", charles.ID, "parentcustomerid"); got != uuid.Nil {
		t.Errorf("parentcustomerid after Disassociate = %v, want null", got)
	}
	if got := lookupOf(t, env, "contacts", ada.ID, "parentcustomerid"); got != acct.ID {
		t.Errorf("the other contact lost its account: %v", got)
	}
	// Associating a record that does not exist is a 404.
	err = env.client.Associate(ctx, "accounts", acct.ID, "contact_customer_accounts", "contacts", uuid.New(), nil)
	wantResponseError(t, "Associate with a missing target", err, http.StatusNotFound, dataverse.CodeObjectDoesNotExist)
}

// e2eManyToManyAssociate: a security role added to a user through the N:N relationship, seen by
// expanding it, then removed.
func e2eManyToManyAssociate(t *testing.T, env *e2eEnv) {
	ctx := t.Context()
	user := createSystemUser(t, env, "Nancy", "Lynch")
	role := roleID(t, env, "System Administrator")
	if err := env.client.Associate(ctx, "systemusers", user, "systemuserroles_association", "roles", role, nil); err != nil {
		t.Fatalf("Associate N:N: %v", err)
	}
	if got := userRoles(t, env, user); !cmp.Equal(got, []uuid.UUID{role}) {
		t.Errorf("roles after Associate = %v, want [%v]", got, role)
	}
	if err := env.client.Disassociate(ctx, "systemusers", user, "systemuserroles_association", role, nil); err != nil {
		t.Fatalf("Disassociate N:N: %v", err)
	}
	if got := userRoles(t, env, user); len(got) != 0 {
		t.Errorf("roles after Disassociate = %v, want none", got)
	}
}

// createSystemUser creates a user in the root business unit and returns its id.
func createSystemUser(t *testing.T, env *e2eEnv, first, last string) uuid.UUID {
	t.Helper()
	ctx := t.Context()
	me, err := env.client.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u := dataverse.Record{
		"firstname": first, "lastname": last,
		"domainname":                   first + "@d365emulator.onmicrosoft.com",
		"azureactivedirectoryobjectid": uuid.NewString(),
	}.Bind("businessunitid", "businessunits", me.BusinessUnitID)
	res, err := env.client.Create(ctx, "systemusers", u, nil)
	if err != nil {
		t.Fatalf("create systemuser: %v", err)
	}
	return res.ID
}

// roleID finds a security role by name.
func roleID(t *testing.T, env *e2eEnv, name string) uuid.UUID {
	t.Helper()
	page, err := env.client.List(t.Context(), "roles", &dataverse.ListOptions{Query: dataverse.Query{
		Select: []string{"name"}, Filter: dataverse.Eq("name", name).String(),
	}})
	if err != nil || len(page.Items) != 1 {
		t.Fatalf("role %q: %v rows, %v", name, len(page.Items), err)
	}
	id, _ := page.Items[0].GUID("roleid")
	return id
}

// userRoles lists a user's roles through $expand of the N:N navigation property.
func userRoles(t *testing.T, env *e2eEnv, user uuid.UUID) []uuid.UUID {
	t.Helper()
	var u struct {
		Roles []struct {
			ID uuid.UUID `json:"roleid"`
		} `json:"systemuserroles_association"`
	}
	if err := env.client.Retrieve(t.Context(), "systemusers", user, &u, &dataverse.RetrieveOptions{
		Select: []string{"fullname"},
		Expand: []dataverse.Expand{{Property: "systemuserroles_association", Select: []string{"name"}}},
	}); err != nil {
		t.Fatalf("Retrieve user roles: %v", err)
	}
	var ids []uuid.UUID
	for _, r := range u.Roles {
		ids = append(ids, r.ID)
	}
	return ids
}
