package dataverse_test

import (
	"slices"
	"testing"

	"github.com/d365s2s/d365/dataverse"
)

// TestE2ETableMetadata reads contact and a custom table from the emulator by entity set and by
// logical name, checks the columns an importer types cells with, and binds a lookup through the
// navigation property the metadata names: the service must accept it. A second read is served
// from the client's cache without a request.
func TestE2ETableMetadata(t *testing.T) {
	t.Parallel()
	env := newKeysEnv(t)
	ctx := t.Context()

	md, err := env.client.TableMetadata(ctx, "contacts")
	if err != nil {
		t.Fatalf("TableMetadata(contacts): %v", err)
	}
	if md.LogicalName != "contact" || md.EntitySetName != "contacts" || md.PrimaryIDAttribute != "contactid" || md.PrimaryNameAttribute != "fullname" {
		t.Errorf("names = %q %q %q %q, want contact contacts contactid fullname", md.LogicalName, md.EntitySetName, md.PrimaryIDAttribute, md.PrimaryNameAttribute)
	}
	wantTypes := map[string]string{
		"contactid": "Uniqueidentifier", "emailaddress1": "String", "parentcustomerid": "Customer",
		"preferredcontactmethodcode": "Picklist", "birthdate": "DateTime", "statecode": "State",
		"ownerid": "Owner", "createdon": "DateTime",
	}
	for name, typ := range wantTypes {
		c, ok := md.Column(name)
		if !ok {
			t.Errorf("column %s missing", name)
			continue
		}
		if c.AttributeType != typ {
			t.Errorf("%s: AttributeType = %q, want %q", name, c.AttributeType, typ)
		}
	}
	if c, _ := md.Column("contactid"); c == nil || !c.IsPrimaryID {
		t.Errorf("contactid is not marked primary: %+v", c)
	}
	if c, _ := md.Column("emailaddress1"); c == nil || c.MaxLength <= 0 || !c.IsValidForCreate {
		t.Errorf("emailaddress1 = %+v, want a max length and valid for create", c)
	}
	if c, _ := md.Column("createdon"); c == nil || c.IsValidForCreate {
		t.Errorf("createdon = %+v, want not valid for create", c)
	}
	if c, _ := md.Column("birthdate"); c == nil || c.DateTimeFormat != "DateOnly" {
		t.Errorf("birthdate = %+v, want DateOnly", c)
	}
	if c, _ := md.Column("parentcustomerid"); c == nil || !slices.Equal(c.Targets, []string{"account", "contact"}) {
		t.Errorf("parentcustomerid targets = %+v, want account, contact", c)
	}
	if md.KeysKnown {
		if k, ok := md.Key("emailaddress1"); !ok || k.Name != "contact_email" {
			t.Errorf("Key(emailaddress1) = %+v, %v; want contact_email", k, ok)
		}
	}

	// Bind through the navigation property the metadata names.
	nav, ok := md.Lookup("parentcustomerid_account")
	if !ok || nav.Attribute != "parentcustomerid" {
		t.Fatalf("Lookup(parentcustomerid_account) = %+v, %v", nav, ok)
	}
	acct, err := env.client.Create(ctx, "accounts", map[string]any{"name": "Metadata Ltd"}, nil)
	if err != nil {
		t.Fatalf("create account: %v", err)
	}
	ct, err := env.client.Create(ctx, "contacts", map[string]any{
		"lastname": "Bound", nav.NavigationProperty + "@odata.bind": "accounts(" + acct.ID.String() + ")",
	}, nil)
	if err != nil {
		t.Fatalf("create contact bound through %s: %v", nav.NavigationProperty, err)
	}
	var got struct {
		Parent string `json:"_parentcustomerid_value"`
	}
	if err := env.client.Retrieve(ctx, "contacts", ct.ID, &got, &dataverse.RetrieveOptions{Select: []string{"_parentcustomerid_value"}}); err != nil {
		t.Fatalf("retrieve contact: %v", err)
	}
	if got.Parent != acct.ID.String() {
		t.Errorf("_parentcustomerid_value = %q, want %s", got.Parent, acct.ID)
	}

	env.wire.take()
	for _, name := range []string{"contact", "contacts"} {
		again, err := env.client.TableMetadata(ctx, name)
		if err != nil || again != md {
			t.Errorf("TableMetadata(%s) again = %p, %v; want the cached %p", name, again, err, md)
		}
	}
	if n := len(env.wire.take()); n != 0 {
		t.Errorf("cached reads sent %d requests, want 0", n)
	}

	custom, err := env.client.TableMetadata(ctx, "new_reading")
	if err != nil {
		t.Fatalf("TableMetadata(new_reading): %v", err)
	}
	for name, typ := range map[string]string{"new_meter": "String", "new_seq": "Integer", "new_value": "Decimal"} {
		if c, ok := custom.Column(name); !ok || c.AttributeType != typ {
			t.Errorf("new_reading.%s = %+v, want %s", name, c, typ)
		}
	}
	if c, _ := custom.Column("new_meter"); c == nil || c.MaxLength != 40 {
		t.Errorf("new_meter MaxLength = %+v, want 40", c)
	}

	if _, err := env.client.TableMetadata(ctx, "nosuchtables"); !dataverse.IsNotFound(err) {
		t.Errorf("unknown table: %v, want not found", err)
	}
}
