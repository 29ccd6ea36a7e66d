package webapi_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

func TestUnauthenticatedGetsChallenge(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	for _, tc := range []struct{ name, token, path string }{
		{"no token", "", api + "WhoAmI"},
		{"bad token", "forged", api + "contacts"},
		{"service document", "", api},
	} {
		r := e.call(http.MethodGet, tc.path, tc.token, nil)
		if r.status != http.StatusUnauthorized {
			t.Fatalf("%s: status %d", tc.name, r.status)
		}
		want := "Bearer authorization_uri=" + e.org + "/" + tenantID + "/oauth2/authorize, resource_id=" + e.org + "/"
		if got := r.header.Get("WWW-Authenticate"); got != want {
			t.Errorf("%s: WWW-Authenticate = %q; want %q", tc.name, got, want)
		}
		if len(r.body) != 0 {
			t.Errorf("%s: 401 body = %q; want empty", tc.name, r.body)
		}
	}
}

func TestAuthorizationFailures(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	r := e.call(http.MethodGet, api+"WhoAmI", tokenStranger, nil)
	expectError(t, r, http.StatusForbidden, "0x80072560", "The user is not a member of the organization.")

	// A genuine token of another tenant, even for a client ID that has an
	// application user here: not a member, and no challenge.
	for _, tc := range []struct{ method, path string }{{http.MethodGet, api + "WhoAmI"}, {http.MethodPost, api + "contacts"}} {
		r = e.call(tc.method, tc.path, tokenForeign, map[string]any{"lastname": "x"})
		expectError(t, r, http.StatusForbidden, "0x80072560", "The user is not a member of the organization.")
		if _, msg := r.errorOf(t); msg != "The user is not a member of the organization." {
			t.Errorf("%s %s: message = %q", tc.method, tc.path, msg)
		}
		if c := r.header.Get("WWW-Authenticate"); c != "" {
			t.Errorf("%s %s: 403 carries a challenge %q", tc.method, tc.path, c)
		}
	}
	if r := e.call(http.MethodGet, api+"contacts/$count", tokenAdmin, nil); string(r.body) != "0" {
		t.Errorf("contacts after the foreign create = %q; want 0", r.body)
	}

	r = e.call(http.MethodGet, api+"WhoAmI", tokenNoRoles, nil)
	expectError(t, r, http.StatusForbidden, "0x80042f09", "The user (Id = ")
	if _, msg := r.errorOf(t); !strings.HasSuffix(msg, ") has not been assigned any roles.") {
		t.Errorf("no-roles message = %q", msg)
	}

	r = e.call(http.MethodGet, api+"WhoAmI", tokenDisabled, nil)
	expectError(t, r, http.StatusForbidden, "0x80040225", "The user with SystemUserId=")
	if _, msg := r.errorOf(t); !strings.Contains(msg, "is disabled. Disabled users cannot access the system.") {
		t.Errorf("disabled message = %q", msg)
	}

	// A role without account privileges.
	r = e.call(http.MethodPost, api+"accounts", tokenReader, map[string]any{"name": "x"})
	expectError(t, r, http.StatusForbidden, "0x80040220", "Principal user (Id=")
	_, msg := r.errorOf(t)
	for _, part := range []string{
		"type=8, roleCount=1, privilegeCount=3, accessMode='NonInteractive', AADObjectId='" + readerObjectID + "'",
		"is missing prvCreateAccount privilege (Id=",
		"on OTC=1 for entity 'account' (LocalizedName='Account').",
		"Consider adding missed privilege to one of the principal (user/team) roles.",
	} {
		if !strings.Contains(msg, part) {
			t.Errorf("privilege message lacks %q:\n%s", part, msg)
		}
	}
	// The same role may create contacts but not delete them.
	r = e.call(http.MethodPost, api+"contacts", tokenReader, map[string]any{"lastname": "x"})
	if r.status != http.StatusNoContent {
		t.Fatalf("reader create contact: %d %s", r.status, r.body)
	}
	r = e.call(http.MethodDelete, r.header.Get("OData-EntityId"), tokenReader, nil)
	expectError(t, r, http.StatusForbidden, "0x80040220", "Principal user (Id=")
	if _, msg := r.errorOf(t); !strings.Contains(msg, "is missing prvDeleteContact privilege") {
		t.Errorf("delete message = %q", msg)
	}
}

func TestWhoAmI(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	org := e.store.Organization()
	for _, path := range []string{api + "WhoAmI", api + "WhoAmI()", "/api/data/v9.0/WhoAmI"} {
		r := e.call(http.MethodGet, path, tokenAdmin, nil)
		if r.status != http.StatusOK {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		if ct := r.header.Get("Content-Type"); ct != "application/json; odata.metadata=minimal" {
			t.Errorf("Content-Type = %q", ct)
		}
		m := r.json(t)
		version := strings.Split(path, "/")[3]
		if m["@odata.context"] != e.org+"/api/data/"+version+"/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse" {
			t.Errorf("context = %v", m["@odata.context"])
		}
		if m["BusinessUnitId"] != org.BusinessUnitID || m["OrganizationId"] != org.OrganizationID {
			t.Errorf("WhoAmI = %v; org %+v", m, org)
		}
		if uid, _ := m["UserId"].(string); len(uid) != 36 || strings.ToLower(uid) != uid {
			t.Errorf("UserId = %v", m["UserId"])
		}
		if len(m) != 4 {
			t.Errorf("WhoAmI has %d members: %v", len(m), m)
		}
	}
	r := e.call(http.MethodPost, api+"WhoAmI", tokenAdmin, map[string]any{})
	expectError(t, r, http.StatusNotFound, "", fmt.Sprintf("No HTTP resource was found that matches the request URI '%s%sWhoAmI'.", e.org, api))
}

func TestVersionsAndSegments(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	for _, v := range []string{"v9.0", "v9.1", "v9.2"} {
		if r := e.call(http.MethodGet, "/api/data/"+v+"/contacts?$top=1", tokenAdmin, nil); r.status != http.StatusOK {
			t.Errorf("%s: %d", v, r.status)
		}
	}
	r := e.call(http.MethodGet, "/api/data/v8.2/contacts", tokenAdmin, nil)
	expectError(t, r, http.StatusNotFound, "0x8006088a", "Resource not found for the segment 'v8.2'.")
	r = e.call(http.MethodGet, api+"Contacts", tokenAdmin, nil)
	expectError(t, r, http.StatusNotFound, "0x8006088a", "Resource not found for the segment 'Contacts'.")
	r = e.call(http.MethodGet, api+"Account(00000000-0000-0000-0000-000000000001)", tokenAdmin, nil)
	expectError(t, r, http.StatusNotFound, "0x8006088a", "Resource not found for the segment 'Account'.")
	r = e.call(http.MethodGet, api, tokenAdmin, nil)
	if r.status != http.StatusOK || !strings.Contains(string(r.body), `{"name":"contacts","kind":"EntitySet","url":"contacts"}`) {
		t.Errorf("service document: %d %s", r.status, r.body)
	}
}

func TestPanicIsAnswered500(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	r := e.call(http.MethodGet, api+"WhoAmI", tokenPanic, nil)
	expectError(t, r, http.StatusInternalServerError, "0x80040216", "An unexpected error occurred.")
	// The server keeps serving.
	if r := e.call(http.MethodGet, api+"WhoAmI", tokenAdmin, nil); r.status != http.StatusOK {
		t.Errorf("after panic: %d", r.status)
	}
}

func TestSecurityChangesTakeEffectAtOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	ctx := context.Background()
	r := e.call(http.MethodPost, api+"accounts", tokenReader, map[string]any{"name": "x"})
	expectError(t, r, http.StatusForbidden, "0x80040220", "Principal user")
	if _, err := e.store.EnsureRole(ctx, "Contact Manager", []store.RolePrivilege{
		{Name: "prvCreateContact", Depth: store.DepthOrganization},
		{Name: "prvReadContact", Depth: store.DepthOrganization},
		{Name: "prvWriteContact", Depth: store.DepthOrganization},
		{Name: "prvCreateAccount", Depth: store.DepthUser},
	}); err != nil {
		t.Fatal(err)
	}
	if r := e.call(http.MethodPost, api+"accounts", tokenReader, map[string]any{"name": "x"}); r.status != http.StatusNoContent {
		t.Fatalf("after granting prvCreateAccount: %d %s", r.status, r.body)
	}
	// Disabling the application user through the Web API locks it out.
	who := e.call(http.MethodGet, api+"WhoAmI", tokenReader, nil).json(t)
	r = e.call(http.MethodPatch, api+"systemusers("+who["UserId"].(string)+")", tokenAdmin, map[string]any{"isdisabled": true})
	if r.status != http.StatusNoContent {
		t.Fatalf("disable: %d %s", r.status, r.body)
	}
	r = e.call(http.MethodGet, api+"WhoAmI", tokenReader, nil)
	expectError(t, r, http.StatusForbidden, "0x80040225", "The user with SystemUserId="+who["UserId"].(string))
}

func TestImpersonation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	ctx := context.Background()
	// A human user with the Contact Manager role, in the root business unit.
	su, _ := e.store.Schema().Table("systemuser")
	admin, err := e.store.ApplicationUser(ctx, adminAppID)
	if err != nil {
		t.Fatal(err)
	}
	fields := []store.Field{}
	for name, v := range map[string]any{"firstname": "Jane", "lastname": "Doe", "domainname": "jane@contoso.example"} {
		c, _ := su.Column(name)
		fields = append(fields, store.Field{Column: c, Value: v})
	}
	oid, _ := su.Column("azureactivedirectoryobjectid")
	const janeOID = "40000000-0000-0000-0000-000000000001"
	fields = append(fields, store.Field{Column: oid, Value: uuid.MustParse(janeOID)})
	jane, err := e.store.Create(ctx, admin, su, fields)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.store.SetUserRoles(ctx, jane.ID.String(), []string{"Contact Manager"}); err != nil {
		t.Fatal(err)
	}
	for _, header := range [][2]string{{"MSCRMCallerID", jane.ID.String()}, {"CallerObjectId", janeOID}} {
		who := e.call(http.MethodGet, api+"WhoAmI", tokenAdmin, nil, header[0], header[1]).json(t)
		if who["UserId"] != jane.ID.String() {
			t.Errorf("%s: WhoAmI UserId = %v; want %s", header[0], who["UserId"], jane.ID)
		}
		// Jane's rights apply: no account privileges.
		r := e.call(http.MethodPost, api+"accounts", tokenAdmin, map[string]any{"name": "x"}, header[0], header[1])
		expectError(t, r, http.StatusForbidden, "0x80040220", "Principal user (Id="+jane.ID.String())
	}
	r := e.call(http.MethodPost, api+"contacts?$select=_createdby_value,_createdonbehalfby_value", tokenAdmin, map[string]any{"lastname": "Delegated"},
		"MSCRMCallerID", jane.ID.String(), "Prefer", "return=representation")
	m := r.json(t)
	if m["_createdby_value"] != jane.ID.String() || m["_createdonbehalfby_value"] != admin.UserID.String() {
		t.Errorf("created by %v on behalf of %v; want %s by %s", m["_createdby_value"], m["_createdonbehalfby_value"], jane.ID, admin.UserID)
	}
	// The caller needs prvActOnBehalfOfAnotherUser.
	r = e.call(http.MethodGet, api+"WhoAmI", tokenReader, nil, "MSCRMCallerID", jane.ID.String())
	expectError(t, r, http.StatusForbidden, "0x80040220", "Principal user (Id=")
	if _, msg := r.errorOf(t); !strings.Contains(msg, "is missing prvActOnBehalfOfAnotherUser privilege") {
		t.Errorf("message = %q", msg)
	}
	r = e.call(http.MethodGet, api+"WhoAmI", tokenAdmin, nil, "MSCRMCallerID", "00000000-0000-0000-0000-0000000000ff")
	expectError(t, r, http.StatusNotFound, "0x80040217", "systemuser With Id = 00000000-0000-0000-0000-0000000000ff Does Not Exist")
}

func TestServiceMetadata(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	r := e.call(http.MethodGet, api+"$metadata", tokenAdmin, nil)
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/xml" {
		t.Fatalf("$metadata: %d %s", r.status, r.header.Get("Content-Type"))
	}
	var doc struct {
		DataServices struct {
			Schema struct {
				Namespace   string `xml:"Namespace,attr"`
				EntityTypes []struct {
					Name  string `xml:"Name,attr"`
					Props []struct {
						Name string `xml:"Name,attr"`
						Type string `xml:"Type,attr"`
					} `xml:"Property"`
					Navs []struct {
						Name    string `xml:"Name,attr"`
						Type    string `xml:"Type,attr"`
						Partner string `xml:"Partner,attr"`
					} `xml:"NavigationProperty"`
				} `xml:"EntityType"`
				Container struct {
					Sets []struct {
						Name string `xml:"Name,attr"`
					} `xml:"EntitySet"`
				} `xml:"EntityContainer"`
			} `xml:"Schema"`
		} `xml:"DataServices"`
	}
	if err := xml.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("CSDL is not XML: %v", err)
	}
	sch := doc.DataServices.Schema
	if sch.Namespace != "Microsoft.Dynamics.CRM" || len(sch.Container.Sets) < 9 {
		t.Errorf("schema %q with %d sets", sch.Namespace, len(sch.Container.Sets))
	}
	found := map[string]string{}
	for _, et := range sch.EntityTypes {
		if et.Name != "contact" {
			continue
		}
		for _, p := range et.Props {
			found[p.Name] = p.Type
		}
		for _, n := range et.Navs {
			found[n.Name] = n.Type + " " + n.Partner
		}
	}
	for name, want := range map[string]string{
		"contactid": "Edm.Guid", "birthdate": "Edm.Date", "annualincome": "Edm.Decimal", "_parentcustomerid_value": "Edm.Guid",
		"parentcustomerid_account": "mscrm.account contact_customer_accounts", "Contact_Tasks": "Collection(mscrm.task) regardingobjectid_contact_task",
	} {
		if found[name] != want {
			t.Errorf("contact %s = %q; want %q", name, found[name], want)
		}
	}
	r = e.call(http.MethodGet, api+"RetrieveVersion()", tokenAdmin, nil)
	if m := r.json(t); m["Version"] != "9.2.0.0" || m["@odata.context"] != e.org+api+"$metadata#Microsoft.Dynamics.CRM.RetrieveVersionResponse" {
		t.Errorf("RetrieveVersion: %s", r.body)
	}
}

func TestErrorDetailAnnotations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	r := e.call(http.MethodPost, api+"accounts", tokenReader, map[string]any{"name": "x"}, "Prefer", `odata.include-annotations="*"`)
	m := r.json(t)["error"].(map[string]any)
	for k, want := range map[string]string{
		"@Microsoft.PowerApps.CDS.ErrorDetails.ApiExceptionCategory":       "ClientError",
		"@Microsoft.PowerApps.CDS.ErrorDetails.ApiExceptionHttpStatusCode": "403",
		"@Microsoft.PowerApps.CDS.ErrorDetails.ApiExceptionMessageName":    "PrivilegeDenied",
	} {
		if m[k] != want {
			t.Errorf("%s = %v; want %s", k, m[k], want)
		}
	}
	if m["code"] != "0x80040220" || !strings.HasPrefix(m["@Microsoft.PowerApps.CDS.HelpLink"].(string), "http://go.microsoft.com/fwlink/?LinkID=398563&error=Microsoft.Crm.CrmException%3a80040220") {
		t.Errorf("error = %v", m)
	}
	// Without the preference the envelope has code and message only.
	r = e.call(http.MethodPost, api+"accounts", tokenReader, map[string]any{"name": "x"})
	if got := r.json(t)["error"].(map[string]any); len(got) != 2 {
		t.Errorf("plain error = %v", got)
	}
}
