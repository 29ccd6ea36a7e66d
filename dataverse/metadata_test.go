package dataverse

import (
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// contactDefinition is a trimmed real-shaped EntityDefinitions answer for
// contact: a polymorphic customer lookup, a text column, a choice, a
// date-only column, an alternate key and two many-to-one relationships.
const contactDefinition = `{"@odata.context":"https://org/api/data/v9.2/$metadata#EntityDefinitions(LogicalName,SchemaName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,Attributes(),Keys(LogicalName,SchemaName,KeyAttributes,EntityKeyIndexStatus),ManyToOneRelationships(SchemaName,ReferencedEntity,ReferencingAttribute,ReferencingEntityNavigationPropertyName))",
"value":[{"LogicalName":"contact","SchemaName":"Contact","EntitySetName":"contacts","PrimaryIdAttribute":"contactid","PrimaryNameAttribute":"fullname","MetadataId":"608861bc-50a4-4c5f-a02c-21fe1943e2cf",
 "Attributes":[
  {"@odata.type":"#Microsoft.Dynamics.CRM.UniqueIdentifierAttributeMetadata","LogicalName":"contactid","SchemaName":"ContactId","AttributeType":"Uniqueidentifier","AttributeTypeName":{"Value":"UniqueidentifierType"},"IsPrimaryId":true,"IsPrimaryName":false,"IsValidForCreate":true,"IsValidForUpdate":false,"IsValidForRead":true,"IsLogical":false,"NewPropertyOfNextRelease":42},
  {"@odata.type":"#Microsoft.Dynamics.CRM.StringAttributeMetadata","LogicalName":"emailaddress1","SchemaName":"EMailAddress1","AttributeType":"String","AttributeTypeName":{"Value":"StringType"},"IsPrimaryId":false,"IsPrimaryName":false,"IsValidForCreate":true,"IsValidForUpdate":true,"IsValidForRead":true,"MaxLength":100,"FormatName":{"Value":"Email"}},
  {"@odata.type":"#Microsoft.Dynamics.CRM.LookupAttributeMetadata","LogicalName":"parentcustomerid","SchemaName":"ParentCustomerId","AttributeType":"Customer","AttributeTypeName":{"Value":"CustomerType"},"IsValidForCreate":true,"IsValidForUpdate":true,"IsValidForRead":true,"Targets":["account","contact"],"Format":"None"},
  {"@odata.type":"#Microsoft.Dynamics.CRM.PicklistAttributeMetadata","LogicalName":"preferredcontactmethodcode","SchemaName":"PreferredContactMethodCode","AttributeType":"Picklist","AttributeTypeName":{"Value":"PicklistType"},"IsValidForCreate":true,"IsValidForUpdate":true,"IsValidForRead":true},
  {"@odata.type":"#Microsoft.Dynamics.CRM.DateTimeAttributeMetadata","LogicalName":"birthdate","SchemaName":"BirthDate","AttributeType":"DateTime","AttributeTypeName":{"Value":"DateTimeType"},"IsValidForCreate":true,"IsValidForUpdate":true,"IsValidForRead":true,"Format":"DateOnly","DateTimeBehavior":{"Value":"DateOnly"}}
 ],
 "Keys":[{"MetadataId":"a1c9f2b4-0000-0000-0000-000000000001","LogicalName":"contact_email","SchemaName":"contact_email","KeyAttributes":["emailaddress1"],"EntityKeyIndexStatus":"Active"}],
 "ManyToOneRelationships":[
  {"MetadataId":"a1c9f2b4-0000-0000-0000-000000000002","SchemaName":"contact_customer_accounts","ReferencedEntity":"account","ReferencingAttribute":"parentcustomerid","ReferencingEntityNavigationPropertyName":"parentcustomerid_account"},
  {"MetadataId":"a1c9f2b4-0000-0000-0000-000000000003","SchemaName":"contact_customer_contacts","ReferencedEntity":"contact","ReferencingAttribute":"parentcustomerid","ReferencingEntityNavigationPropertyName":"parentcustomerid_contact"}
 ]}]}`

// TestTableMetadataReadsOneRequest: one GET of EntityDefinitions filtered by
// entity set or logical name, expanding Attributes, Keys and
// ManyToOneRelationships; the answer becomes TableMetadata; later calls by
// either name are served from the client's cache.
func TestTableMetadataReadsOneRequest(t *testing.T) {
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, contactDefinition)
	}, nil)
	ctx := t.Context()
	md, err := f.client.TableMetadata(ctx, "contacts")
	if err != nil {
		t.Fatalf("TableMetadata: %v", err)
	}
	req := f.only()
	if req.Method != http.MethodGet || req.Path != testBasePath+"EntityDefinitions" {
		t.Errorf("request = %s %s, want GET %sEntityDefinitions", req.Method, req.Path, testBasePath)
	}
	q, err := url.ParseQuery(req.RawQuery)
	if err != nil {
		t.Fatalf("query %q: %v", req.RawQuery, err)
	}
	wantQuery := map[string]string{
		"$select": "LogicalName,SchemaName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute",
		"$filter": "EntitySetName eq 'contacts' or LogicalName eq 'contacts'",
		"$expand": "Attributes,Keys($select=LogicalName,SchemaName,KeyAttributes,EntityKeyIndexStatus),ManyToOneRelationships($select=SchemaName,ReferencedEntity,ReferencingAttribute,ReferencingEntityNavigationPropertyName)",
	}
	for k, v := range wantQuery {
		if got := q.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if strings.Contains(req.RawQuery, "+") {
		t.Errorf("query %q encodes spaces as +, want %%20", req.RawQuery)
	}

	want := &TableMetadata{
		LogicalName: "contact", SchemaName: "Contact", EntitySetName: "contacts",
		PrimaryIDAttribute: "contactid", PrimaryNameAttribute: "fullname",
		Columns: []ColumnMetadata{
			{LogicalName: "contactid", SchemaName: "ContactId", AttributeType: "Uniqueidentifier", AttributeTypeName: "UniqueidentifierType", IsPrimaryID: true, IsValidForCreate: true, IsValidForRead: true},
			{LogicalName: "emailaddress1", SchemaName: "EMailAddress1", AttributeType: "String", AttributeTypeName: "StringType", IsValidForCreate: true, IsValidForUpdate: true, IsValidForRead: true, MaxLength: 100},
			{LogicalName: "parentcustomerid", SchemaName: "ParentCustomerId", AttributeType: "Customer", AttributeTypeName: "CustomerType", IsValidForCreate: true, IsValidForUpdate: true, IsValidForRead: true, Targets: []string{"account", "contact"}},
			{LogicalName: "preferredcontactmethodcode", SchemaName: "PreferredContactMethodCode", AttributeType: "Picklist", AttributeTypeName: "PicklistType", IsValidForCreate: true, IsValidForUpdate: true, IsValidForRead: true},
			{LogicalName: "birthdate", SchemaName: "BirthDate", AttributeType: "DateTime", AttributeTypeName: "DateTimeType", IsValidForCreate: true, IsValidForUpdate: true, IsValidForRead: true, DateTimeFormat: "DateOnly", DateTimeBehavior: "DateOnly"},
		},
		Keys:      []KeyMetadata{{Name: "contact_email", LogicalName: "contact_email", KeyAttributes: []string{"emailaddress1"}, IndexStatus: "Active"}},
		KeysKnown: true,
		Lookups: []LookupMetadata{
			{NavigationProperty: "parentcustomerid_account", Attribute: "parentcustomerid", Targets: []string{"account"}},
			{NavigationProperty: "parentcustomerid_contact", Attribute: "parentcustomerid", Targets: []string{"contact"}},
		},
	}
	if diff := cmp.Diff(want, md, cmpopts.IgnoreUnexported(TableMetadata{})); diff != "" {
		t.Errorf("TableMetadata (-want +got):\n%s", diff)
	}
	if c, ok := md.Column("EMailAddress1"); !ok || c.LogicalName != "emailaddress1" {
		t.Errorf("Column(EMailAddress1) = %v, %v", c, ok)
	}
	if k, ok := md.Key("EmailAddress1"); !ok || k.Name != "contact_email" {
		t.Errorf("Key(EmailAddress1) = %v, %v", k, ok)
	}
	if l, ok := md.Lookup("parentcustomerid_contact"); !ok || l.Targets[0] != "contact" {
		t.Errorf("Lookup(parentcustomerid_contact) = %v, %v", l, ok)
	}

	for _, name := range []string{"contacts", "contact", "Contact"} {
		again, err := f.client.TableMetadata(ctx, name)
		if err != nil || again != md {
			t.Errorf("TableMetadata(%q) again = %p, %v; want the cached %p", name, again, err, md)
		}
	}
	if n := len(f.reqs()); n != 1 {
		t.Errorf("server saw %d requests after cached reads, want 1", n)
	}
}

// TestTableMetadataConcurrentCallsShareOneRequest: callers racing for a
// table not yet cached wait for one request.
func TestTableMetadataConcurrentCallsShareOneRequest(t *testing.T) {
	release := make(chan struct{})
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		writeJSON(w, http.StatusOK, contactDefinition)
	}, nil)
	var wg sync.WaitGroup
	results := make([]*TableMetadata, 8)
	for i := range results {
		wg.Go(func() {
			md, err := f.client.TableMetadata(t.Context(), "contacts")
			if err != nil {
				t.Errorf("TableMetadata: %v", err)
			}
			results[i] = md
		})
	}
	close(release)
	wg.Wait()
	for i, md := range results {
		if md == nil || md != results[0] {
			t.Errorf("caller %d got %p, want the shared %p", i, md, results[0])
		}
	}
	// Late callers may have found the cache; none sent a second request.
	if n := len(f.reqs()); n != 1 {
		t.Errorf("server saw %d requests, want 1", n)
	}
}

// TestTableMetadataFallsBackWithoutKeysExpansion: a service that refuses
// to expand Keys is asked again for Attributes alone; lookups are then
// derived from the lookup columns and KeysKnown is false.
func TestTableMetadataFallsBackWithoutKeysExpansion(t *testing.T) {
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Query().Get("$expand"), "Keys") {
			writeError(w, http.StatusBadRequest, "0x0", "Could not find a property named 'Keys' on type 'Microsoft.Dynamics.CRM.EntityMetadata'.")
			return
		}
		writeJSON(w, http.StatusOK, contactDefinition)
	}, nil)
	md, err := f.client.TableMetadata(t.Context(), "contact")
	if err != nil {
		t.Fatalf("TableMetadata: %v", err)
	}
	reqs := f.reqs()
	if len(reqs) != 2 {
		t.Fatalf("server saw %d requests, want 2 (full, then Attributes only)", len(reqs))
	}
	if q, _ := url.ParseQuery(reqs[1].RawQuery); q.Get("$expand") != "Attributes" {
		t.Errorf("second $expand = %q, want Attributes", q.Get("$expand"))
	}
	if md.KeysKnown || !md.LookupsDerived || len(md.Keys) != 0 {
		t.Errorf("KeysKnown=%v LookupsDerived=%v Keys=%v, want false, true, none", md.KeysKnown, md.LookupsDerived, md.Keys)
	}
	wantLookups := []LookupMetadata{
		{NavigationProperty: "parentcustomerid_account", Attribute: "parentcustomerid", Targets: []string{"account"}},
		{NavigationProperty: "parentcustomerid_contact", Attribute: "parentcustomerid", Targets: []string{"contact"}},
	}
	if diff := cmp.Diff(wantLookups, md.Lookups); diff != "" {
		t.Errorf("derived lookups (-want +got):\n%s", diff)
	}
}

// TestTableMetadataErrors: an unknown table is a not-found error naming it,
// an empty name is refused before sending, a service failure is not cached.
func TestTableMetadataErrors(t *testing.T) {
	var fail bool
	var mu sync.Mutex
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			writeError(w, http.StatusForbidden, CodePrivilegeDenied, "missing prvReadEntity")
			return
		}
		if strings.Contains(r.URL.Query().Get("$filter"), "'nosuch'") {
			writeJSON(w, http.StatusOK, `{"value":[]}`)
			return
		}
		writeJSON(w, http.StatusOK, contactDefinition)
	}, nil)
	ctx := t.Context()
	_, err := f.client.TableMetadata(ctx, "nosuch")
	if !IsNotFound(err) || !strings.Contains(err.Error(), "'nosuch'") {
		t.Errorf("unknown table: err = %v, want a not-found error naming it", err)
	}
	if _, err := f.client.TableMetadata(ctx, "  "); err == nil || len(f.reqs()) != 1 {
		t.Errorf("empty name: err = %v after %d requests, want a refusal without a request", err, len(f.reqs()))
	}
	mu.Lock()
	fail = true
	mu.Unlock()
	if _, err := f.client.TableMetadata(ctx, "contacts"); !IsForbidden(err) {
		t.Errorf("forbidden: err = %v, want 403", err)
	}
	mu.Lock()
	fail = false
	mu.Unlock()
	if md, err := f.client.TableMetadata(ctx, "contacts"); err != nil || md.LogicalName != "contact" {
		t.Errorf("after a failure: %v, %v; want the table (failures are not cached)", md, err)
	}
	if _, err := f.client.TableMetadata(ctx, "o'brien"); err != nil && !IsNotFound(err) {
		t.Errorf("quoted name: %v", err)
	}
	if q, _ := url.ParseQuery(f.reqs()[len(f.reqs())-1].RawQuery); !strings.Contains(q.Get("$filter"), "'o''brien'") {
		t.Errorf("quote in name: $filter = %q, want the quote doubled", q.Get("$filter"))
	}
}

func TestColumnPropertyIsTheNameARecordCarries(t *testing.T) {
	for _, tc := range []struct {
		name string
		col  ColumnMetadata
		want string
	}{
		{"text column", ColumnMetadata{LogicalName: "firstname", AttributeType: "String", IsValidForRead: true}, "firstname"},
		{"lookup", ColumnMetadata{LogicalName: "parentcustomerid", AttributeType: "Customer", IsValidForRead: true}, "_parentcustomerid_value"},
		{"owner", ColumnMetadata{LogicalName: "ownerid", AttributeType: "Owner", IsValidForRead: true}, "_ownerid_value"},
		{"name of a lookup", ColumnMetadata{LogicalName: "parentcustomeridname", AttributeType: "String", AttributeOf: "parentcustomerid", IsValidForRead: true}, ""},
		{"virtual", ColumnMetadata{LogicalName: "entityimage", AttributeType: "Virtual", AttributeTypeName: "ImageType", IsValidForRead: true}, ""},
		{"multi-select choice", ColumnMetadata{LogicalName: "hobbies", AttributeType: "Virtual", AttributeTypeName: "MultiSelectPicklistType", IsValidForRead: true}, "hobbies"},
		{"not readable", ColumnMetadata{LogicalName: "password", AttributeType: "String"}, ""},
	} {
		if got := tc.col.Property(); got != tc.want {
			t.Errorf("%s: Property() = %q, want %q", tc.name, got, tc.want)
		}
	}
}
