package webapi_test

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/go-cmp/cmp"
)

// TestMetadataListsOperations checks that $metadata describes every
// operation the emulator serves, and that every type an operation or
// complex type names is defined.
func TestMetadataListsOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	r := e.call(http.MethodGet, api+"$metadata", tokenAdmin, nil)
	type param struct {
		Name string `xml:"Name,attr"`
		Type string `xml:"Type,attr"`
	}
	type op struct {
		Name    string  `xml:"Name,attr"`
		IsBound bool    `xml:"IsBound,attr"`
		Params  []param `xml:"Parameter"`
		Return  *param  `xml:"ReturnType"`
	}
	var doc struct {
		DataServices struct {
			Schema struct {
				EntityTypes  []param `xml:"EntityType"`
				ComplexTypes []struct {
					Name  string  `xml:"Name,attr"`
					Props []param `xml:"Property"`
				} `xml:"ComplexType"`
				EnumTypes []struct {
					Name    string `xml:"Name,attr"`
					Members []struct {
						Name  string `xml:"Name,attr"`
						Value string `xml:"Value,attr"`
					} `xml:"Member"`
				} `xml:"EnumType"`
				Functions []op `xml:"Function"`
				Actions   []op `xml:"Action"`
				Container struct {
					Imports []struct {
						Name     string `xml:"Name,attr"`
						Function string `xml:"Function,attr"`
					} `xml:"FunctionImport"`
				} `xml:"EntityContainer"`
			} `xml:"Schema"`
		} `xml:"DataServices"`
	}
	if err := xml.Unmarshal(r.body, &doc); err != nil {
		t.Fatalf("CSDL is not XML: %v", err)
	}
	sch := doc.DataServices.Schema
	describe := func(ops []op) []string {
		var out []string
		for _, o := range ops {
			s := o.Name
			if o.IsBound {
				s += " bound to " + o.Params[0].Type
			}
			out = append(out, s)
		}
		slices.Sort(out)
		return out
	}
	wantFunctions := []string{"RetrieveTotalRecordCount", "RetrieveUserPrivileges bound to mscrm.systemuser", "RetrieveVersion", "WhoAmI"}
	if diff := cmp.Diff(wantFunctions, describe(sch.Functions)); diff != "" {
		t.Errorf("functions (-want +got):\n%s", diff)
	}
	wantActions := []string{
		"AddMembersTeam bound to mscrm.team",
		"CommitFileBlocksUpload",
		"CreateMultiple bound to Collection(mscrm.crmbaseentity)", "DeleteFile", "DeleteMultiple bound to Collection(mscrm.crmbaseentity)",
		"DownloadBlock", "InitializeFileBlocksDownload", "InitializeFileBlocksUpload",
		"RemoveMembersTeam bound to mscrm.team",
		"UpdateMultiple bound to Collection(mscrm.crmbaseentity)", "UploadBlock", "UpsertMultiple bound to Collection(mscrm.crmbaseentity)",
	}
	if diff := cmp.Diff(wantActions, describe(sch.Actions)); diff != "" {
		t.Errorf("actions (-want +got):\n%s", diff)
	}
	var imports []string
	for _, fi := range sch.Container.Imports {
		if fi.Function != "Microsoft.Dynamics.CRM."+fi.Name {
			t.Errorf("function import %s names %s", fi.Name, fi.Function)
		}
		imports = append(imports, fi.Name)
	}
	slices.Sort(imports)
	if diff := cmp.Diff([]string{"RetrieveTotalRecordCount", "RetrieveVersion", "WhoAmI"}, imports); diff != "" {
		t.Errorf("function imports (-want +got):\n%s", diff)
	}

	// Every mscrm.X an operation or a complex type refers to is defined.
	defined := map[string]bool{}
	for _, et := range sch.EntityTypes {
		defined[et.Name] = true
	}
	for _, ct := range sch.ComplexTypes {
		defined[ct.Name] = true
	}
	for _, en := range sch.EnumTypes {
		defined[en.Name] = true
		if en.Name == "PrivilegeDepth" {
			var members []string
			for _, m := range en.Members {
				members = append(members, m.Name+"="+m.Value)
			}
			if diff := cmp.Diff([]string{"Basic=0", "Local=1", "Deep=2", "Global=3", "RecordFilter=4"}, members); diff != "" {
				t.Errorf("PrivilegeDepth (-want +got):\n%s", diff)
			}
		}
	}
	var refs []string
	for _, o := range append(sch.Functions, sch.Actions...) {
		for _, p := range o.Params {
			refs = append(refs, p.Type)
		}
		if o.Return != nil {
			refs = append(refs, o.Return.Type)
		}
	}
	for _, ct := range sch.ComplexTypes {
		for _, p := range ct.Props {
			refs = append(refs, p.Type)
		}
	}
	typeName := regexp.MustCompile(`mscrm\.(\w+)`)
	for _, ref := range refs {
		for _, m := range typeName.FindAllStringSubmatch(ref, -1) {
			if !defined[m[1]] {
				t.Errorf("type %s is referenced but not defined", ref)
			}
		}
	}
}

func TestRetrieveUserPrivileges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	org := e.store.Organization()
	reader := e.call(http.MethodGet, api+"WhoAmI", tokenReader, nil).json(t)["UserId"].(string)
	fn := api + "systemusers(" + reader + ")/Microsoft.Dynamics.CRM.RetrieveUserPrivileges"

	type rolePrivilege struct{ Depth, PrivilegeName, BusinessUnitId string }
	privileges := func(t *testing.T, r *response) []rolePrivilege {
		t.Helper()
		if r.status != http.StatusOK {
			t.Fatalf("RetrieveUserPrivileges: %d %s", r.status, r.body)
		}
		m := r.json(t)
		if m["@odata.context"] != e.org+api+"$metadata#Microsoft.Dynamics.CRM.RetrieveUserPrivilegesResponse" || len(m) != 2 {
			t.Errorf("response = %s", r.body)
		}
		var out []rolePrivilege
		for _, item := range m["RolePrivileges"].([]any) {
			p := item.(map[string]any)
			if id, _ := p["PrivilegeId"].(string); len(id) != 36 || len(p) != 4 {
				t.Errorf("RolePrivilege = %v, want Depth, PrivilegeId, BusinessUnitId and PrivilegeName", p)
			}
			out = append(out, rolePrivilege{p["Depth"].(string), p["PrivilegeName"].(string), p["BusinessUnitId"].(string)})
		}
		return out
	}
	root := org.BusinessUnitID
	want := []rolePrivilege{{"Global", "prvCreateContact", root}, {"Global", "prvReadContact", root}, {"Global", "prvWriteContact", root}}
	for _, path := range []string{fn, fn + "()"} {
		if diff := cmp.Diff(want, privileges(t, e.call(http.MethodGet, path, tokenAdmin, nil))); diff != "" {
			t.Errorf("%s (-want +got):\n%s", path, diff)
		}
	}

	// Privileges through a team come back at Basic depth, whatever the team role's depth.
	if _, err := e.store.EnsureRole(context.Background(), "Account Creator", []store.RolePrivilege{
		{Name: "prvCreateAccount", Depth: store.DepthOrganization},
		{Name: "prvReadContact", Depth: store.DepthUser},
	}); err != nil {
		t.Fatal(err)
	}
	team := createTeam(t, e, "Account Creator")
	addMember := e.call(http.MethodPost, api+"teams("+team+")/Microsoft.Dynamics.CRM.AddMembersTeam", tokenAdmin,
		map[string]any{"Members": []any{map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.systemuser", "systemuserid": reader}}})
	if addMember.status != http.StatusNoContent {
		t.Fatalf("AddMembersTeam: %d %s", addMember.status, addMember.body)
	}
	want = []rolePrivilege{{"Basic", "prvCreateAccount", root}, {"Global", "prvCreateContact", root}, {"Global", "prvReadContact", root}, {"Global", "prvWriteContact", root}}
	if diff := cmp.Diff(want, privileges(t, e.call(http.MethodGet, fn, tokenAdmin, nil))); diff != "" {
		t.Errorf("with a team role (-want +got):\n%s", diff)
	}

	missing := "00000000-0000-0000-0000-0000000000ab"
	for _, tc := range []struct {
		name, method, path, token string
		status                    int
		code, message             string
	}{
		{"no namespace", http.MethodGet, api + "systemusers(" + reader + ")/RetrieveUserPrivileges", tokenAdmin, 400, "0x0", "Request message has unresolved parameters."},
		{"POST of a function", http.MethodPost, fn, tokenAdmin, 404, "", fmt.Sprintf("No HTTP resource was found that matches the request URI '%s%s'.", e.org, fn)},
		{"bound to another table", http.MethodGet, api + "teams(" + team + ")/Microsoft.Dynamics.CRM.RetrieveUserPrivileges", tokenAdmin, 404, "0x8006088a", "Resource not found for the segment 'Microsoft.Dynamics.CRM.RetrieveUserPrivileges'."},
		{"unknown user", http.MethodGet, api + "systemusers(" + missing + ")/Microsoft.Dynamics.CRM.RetrieveUserPrivileges", tokenAdmin, 404, "0x80040217", "systemuser With Id = " + missing + " Does Not Exist"},
		{"caller without prvReadUser", http.MethodGet, fn, tokenReader, 403, "0x80040220", "Principal user (Id=" + reader},
	} {
		r := e.call(tc.method, tc.path, tc.token, nil)
		expectError(t, r, tc.status, tc.code, tc.message)
		if tc.status == 403 {
			if _, msg := r.errorOf(t); !strings.Contains(msg, "is missing prvReadUser privilege") {
				t.Errorf("%s: %s", tc.name, msg)
			}
		}
	}
}

// createTeam creates an owner team in the root business unit holding a role.
func createTeam(t *testing.T, e *env, role string) string {
	t.Helper()
	r := e.call(http.MethodPost, api+"teams", tokenAdmin, map[string]any{
		"name": "Team " + role, "businessunitid@odata.bind": "businessunits(" + e.store.Organization().BusinessUnitID + ")",
	})
	if r.status != http.StatusNoContent {
		t.Fatalf("create team: %d %s", r.status, r.body)
	}
	loc := r.header.Get("OData-EntityId")
	team := loc[strings.LastIndex(loc, "(")+1 : len(loc)-1]
	roles, err := e.store.Roles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, ro := range roles {
		if ro.Name == role {
			r := e.call(http.MethodPost, api+"teams("+team+")/teamroles_association/$ref", tokenAdmin, map[string]any{"@odata.id": e.org + api + "roles(" + ro.ID + ")"})
			if r.status != http.StatusNoContent {
				t.Fatalf("give the team role %s: %d %s", role, r.status, r.body)
			}
		}
	}
	return team
}

func TestAddAndRemoveTeamMembers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	if _, err := e.store.EnsureRole(context.Background(), "Account Creator", []store.RolePrivilege{{Name: "prvCreateAccount", Depth: store.DepthOrganization}}); err != nil {
		t.Fatal(err)
	}
	team := createTeam(t, e, "Account Creator")
	reader := e.call(http.MethodGet, api+"WhoAmI", tokenReader, nil).json(t)["UserId"].(string)
	add := api + "teams(" + team + ")/Microsoft.Dynamics.CRM.AddMembersTeam"
	remove := api + "teams(" + team + ")/Microsoft.Dynamics.CRM.RemoveMembersTeam"
	members := func(ids ...string) map[string]any {
		var list []any
		for _, id := range ids {
			list = append(list, map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.systemuser", "systemuserid": id})
		}
		return map[string]any{"Members": list}
	}
	createAccount := func() int {
		return e.call(http.MethodPost, api+"accounts", tokenReader, map[string]any{"name": "via team"}).status
	}
	if got := createAccount(); got != http.StatusForbidden {
		t.Fatalf("create account before joining the team: %d, want 403", got)
	}
	// Adding twice is harmless; the member gains the team's role at once.
	for i := 0; i < 2; i++ {
		if r := e.call(http.MethodPost, add, tokenAdmin, members(reader)); r.status != http.StatusNoContent || len(r.body) != 0 {
			t.Fatalf("AddMembersTeam #%d: %d %s", i+1, r.status, r.body)
		}
	}
	if got := createAccount(); got != http.StatusNoContent {
		t.Errorf("create account as a team member: %d, want 204", got)
	}
	r := e.call(http.MethodGet, api+"teams("+team+")/teammembership_association?$select=fullname", tokenAdmin, nil)
	if v := r.json(t)["value"].([]any); len(v) != 1 || v[0].(map[string]any)["fullname"] != "Reader App" {
		t.Errorf("team members = %s", r.body)
	}

	missing := "00000000-0000-0000-0000-0000000000ac"
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		status                    int
		code, message             string
	}{
		{"GET of an action", http.MethodGet, add, tokenAdmin, nil, 404, "", fmt.Sprintf("No HTTP resource was found that matches the request URI '%s%s'.", e.org, add)},
		{"no namespace", http.MethodPost, api + "teams(" + team + ")/AddMembersTeam", tokenAdmin, members(reader), 400, "0x0", "Request message has unresolved parameters."},
		{"action with parentheses", http.MethodPost, add + "()", tokenAdmin, members(reader), 404, "0x8006088a", "Resource not found for the segment 'Microsoft.Dynamics.CRM.AddMembersTeam"},
		{"bound to another table", http.MethodPost, api + "systemusers(" + reader + ")/Microsoft.Dynamics.CRM.AddMembersTeam", tokenAdmin, members(reader), 404, "0x8006088a", "Resource not found for the segment"},
		{"without prvWriteTeam", http.MethodPost, remove, tokenReader, members(reader), 403, "0x80040220", "Principal user (Id=" + reader},
		{"unknown user", http.MethodPost, remove, tokenAdmin, members(reader, missing), 404, "0x80040217", "systemuser With Id = " + missing + " Does Not Exist"},
		{"unknown team", http.MethodPost, api + "teams(" + missing + ")/Microsoft.Dynamics.CRM.AddMembersTeam", tokenAdmin, members(reader), 404, "0x80040217", "team With Id = " + missing + " Does Not Exist"},
		{"member without its key", http.MethodPost, add, tokenAdmin, map[string]any{"Members": []any{map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.systemuser"}}}, 400, "0x0", "EdmEntityObject passed should have the key property value set."},
		{"member of another type", http.MethodPost, add, tokenAdmin, map[string]any{"Members": []any{map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.team", "systemuserid": reader}}}, 400, "0x80048d19", "Error identified in Payload"},
		{"no Members", http.MethodPost, add, tokenAdmin, map[string]any{"Users": []any{}}, 400, "0x80048d19", "Error identified in Payload"},
	} {
		r := e.call(tc.method, tc.path, tc.token, tc.body)
		expectError(t, r, tc.status, tc.code, tc.message)
	}
	// The refused removal (an unknown user among the members) removed nobody.
	if got := createAccount(); got != http.StatusNoContent {
		t.Errorf("create account after a refused removal: %d, want 204", got)
	}
	if r := e.call(http.MethodPost, remove, tokenAdmin, members(reader)); r.status != http.StatusNoContent {
		t.Fatalf("RemoveMembersTeam: %d %s", r.status, r.body)
	}
	if got := createAccount(); got != http.StatusForbidden {
		t.Errorf("create account after leaving the team: %d, want 403", got)
	}
}
