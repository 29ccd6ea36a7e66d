package emulator_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator"
)

// TestAdminHTTPPortalSteps scripts the seed article's portal steps over the admin API: register an
// app with a secret, create a role, create the application user, and use the result.
func TestAdminHTTPPortalSteps(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)

	var created struct {
		emulator.App
		Secret *struct {
			emulator.Secret
			Value string `json:"value"`
		} `json:"secret"`
	}
	if st := adminCall(t, emu, http.MethodPost, "apps", map[string]any{"displayName": "portal app", "secret": map[string]string{"displayName": "first"}}, &created); st != http.StatusCreated {
		t.Fatalf("POST apps: %d", st)
	}
	if created.ClientID == "" || created.TenantID != emu.TenantID() || created.Secret == nil || len(created.Secret.Value) != 40 {
		t.Fatalf("created app = %+v", created)
	}
	var role emulator.Role
	if st := adminCall(t, emu, http.MethodPost, "roles", map[string]any{
		"name":       "Contacts rw",
		"privileges": []any{"prvReadContact:organization", map[string]string{"name": "prvWriteContact", "depth": "global"}, "prvCreateContact"},
	}, &role); st != http.StatusCreated {
		t.Fatalf("POST roles: %d", st)
	}
	if len(role.Privileges) != 3 {
		t.Errorf("role = %+v", role)
	}
	var user emulator.ApplicationUser
	if st := adminCall(t, emu, http.MethodPost, "appusers", map[string]any{"app": created.ClientID, "roles": []string{"Contacts rw"}}, &user); st != http.StatusCreated {
		t.Fatalf("POST appusers: %d", st)
	}
	token := mustToken(t, emu, secretCredential(t, emu, created.TenantID, created.ClientID, created.Secret.Value))
	if res := callAPI(t, emu, token, http.MethodPost, "contacts", `{"lastname":"Portal"}`); res.status != http.StatusNoContent {
		t.Errorf("create contact: %d %s", res.status, res.message)
	}
	if res := callAPI(t, emu, token, http.MethodGet, "accounts", ""); res.status != http.StatusForbidden || res.code != "0x80040220" {
		t.Errorf("GET accounts with a contacts-only role: %d %s, want 403 0x80040220", res.status, res.code)
	}

	// Listing secrets shows metadata only.
	resp, err := emu.HTTPClient().Get(emu.URL() + "/_emulator/apps/" + created.ClientID + "/secrets")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || strings.Contains(string(body), created.Secret.Value) || !strings.Contains(string(body), `"hint":"`+created.Secret.Value[:3]+`"`) {
		t.Errorf("GET secrets = %d %s, want the hint and never the value", resp.StatusCode, body)
	}

	// Disable the app and the user, then check the outcomes.
	var app emulator.App
	if st := adminCall(t, emu, http.MethodPatch, "apps/"+created.ClientID, map[string]bool{"disabled": true}, &app); st != http.StatusOK || !app.Disabled {
		t.Errorf("PATCH app = %d %+v", st, app)
	}
	if st := adminCall(t, emu, http.MethodPatch, "appusers/"+created.ClientID, map[string]any{"disabled": true, "roles": []string{}}, &user); st != http.StatusOK || !user.Disabled || len(user.Roles) != 0 {
		t.Errorf("PATCH appuser = %d %+v", st, user)
	}
	if st := adminCall(t, emu, http.MethodDelete, "appusers/"+created.ClientID, nil, nil); st != http.StatusNoContent {
		t.Errorf("DELETE appuser = %d", st)
	}
	if st := adminCall(t, emu, http.MethodDelete, "apps/"+created.ClientID, nil, nil); st != http.StatusNoContent {
		t.Errorf("DELETE app = %d", st)
	}
}

func TestAdminHTTPErrors(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	tests := []struct {
		method, path string
		body         any
		status       int
		code, says   string
	}{
		{"GET", "apps/00000000-0000-4000-8000-00000000dead", nil, 404, "NotFound", "no app registration"},
		{"POST", "tenants", map[string]string{"domain": emulator.DefaultTenantDomain}, 409, "Conflict", "already exists"},
		{"POST", "tenants", map[string]string{"domian": "x.com"}, 400, "Invalid", `unknown field "domian"`},
		{"POST", "roles", map[string]any{"name": "x", "privileges": []string{"prvReadContacts"}}, 400, "Invalid", "did you mean prvReadContact?"},
		{"POST", "roles", "not an object", 400, "Invalid", "does not fit"},
		{"PUT", "token-lifetime", map[string]string{"lifetime": "48h"}, 400, "Invalid", "between 1s and 24h"},
		{"PUT", "clock", map[string]string{"offset": "soon"}, 400, "Invalid", "not a Go duration"},
		{"POST", "apps/" + emulator.DefaultClientID + "/secrets", map[string]string{"expiresIn": "tomorrow"}, 400, "Invalid", "expiresIn"},
		{"POST", "apps/" + emulator.DefaultClientID + "/certificates", map[string]string{}, 400, "Invalid", "pem"},
		{"DELETE", "tenants", nil, 405, "MethodNotAllowed", "allowed: GET, HEAD, POST"},
		// The traffic routes (moved here with the traffic package's own test-only router).
		{"POST", "limits", map[string]any{}, 405, "MethodNotAllowed", "allowed: GET, HEAD, PUT"},
		{"PUT", "faults", map[string]any{}, 405, "MethodNotAllowed", "allowed: DELETE, GET, HEAD, POST"},
		{"GET", "nothing", nil, 404, "NotFound", "no admin route GET /_emulator/nothing"},
		{"GET", "no-such-thing", nil, 404, "NotFound", "no admin route"},
		{"POST", "snapshots/none/restore", nil, 404, "NotFound", "none"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var got adminErr
			st := adminCall(t, emu, tt.method, tt.path, tt.body, &got)
			if st != tt.status || got.Error.Code != tt.code || !strings.Contains(got.Error.Message, tt.says) {
				t.Errorf("%s %s = %d %+v, want %d %s mentioning %q", tt.method, tt.path, st, got.Error, tt.status, tt.code, tt.says)
			}
		})
	}
}

// TestAdminHTTPBusinessUnits creates, reads, disables and enables business units over the admin
// API; a disabled unit's application user is refused until it is enabled again.
func TestAdminHTTPBusinessUnits(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	var sales emulator.BusinessUnit
	if st := adminCall(t, emu, http.MethodPost, "businessunits", map[string]string{"name": "Sales"}, &sales); st != http.StatusCreated || sales.Disabled || sales.ParentID == "" {
		t.Fatalf("POST businessunits = %d %+v", st, sales)
	}
	app, secret := newApp(t, emu, "sales sync")
	var user emulator.ApplicationUser
	if st := adminCall(t, emu, http.MethodPost, "appusers", map[string]any{"app": app.ClientID, "roles": []string{emulator.DefaultRoleName}, "businessUnit": "Sales"}, &user); st != http.StatusCreated {
		t.Fatalf("POST appusers: %d", st)
	}
	token := mustToken(t, emu, secretCredential(t, emu, emu.TenantID(), app.ClientID, secret))

	var got emulator.BusinessUnit
	if st := adminCall(t, emu, http.MethodPatch, "businessunits/Sales", map[string]bool{"disabled": true}, &got); st != http.StatusOK ||
		got.ID != sales.ID || !got.Disabled {
		t.Errorf("PATCH businessunits/Sales disabled = %d %+v, want 200 and the unit disabled", st, got)
	}
	if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusForbidden || res.code != "0x80040225" ||
		!strings.Contains(res.message, "the business unit 'Sales' (Id="+sales.ID+") is disabled") {
		t.Errorf("WhoAmI in the disabled unit = %d %s %q, want 403 0x80040225 naming Sales", res.status, res.code, res.message)
	}
	// GET by ID and the listing show it disabled, as JSON "disabled": true.
	resp, err := emu.HTTPClient().Get(emu.URL() + "/_emulator/businessunits/" + sales.ID)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"name":"Sales"`) || !strings.Contains(string(body), `"disabled":true`) {
		t.Errorf("GET businessunits/{id} = %d %s, want Sales with \"disabled\":true", resp.StatusCode, body)
	}
	var units []map[string]any
	if st := adminCall(t, emu, http.MethodGet, "businessunits", nil, &units); st != http.StatusOK || len(units) != 2 ||
		units[0]["disabled"] != false || units[1]["name"] != "Sales" || units[1]["disabled"] != true {
		t.Errorf("GET businessunits = %d %v, want the enabled root and disabled Sales", st, units)
	}

	if st := adminCall(t, emu, http.MethodPatch, "businessunits/"+sales.ID, map[string]bool{"disabled": false}, &got); st != http.StatusOK || got.Disabled {
		t.Errorf("PATCH businessunits/{id} enabled = %d %+v", st, got)
	}
	if res := callAPI(t, emu, token, http.MethodGet, "WhoAmI", ""); res.status != http.StatusOK || res.body["UserId"] != user.UserID {
		t.Errorf("WhoAmI after enabling = %d %s %q, want 200", res.status, res.code, res.message)
	}

	root, _ := units[0]["id"].(string)
	tests := []struct {
		method, path string
		body         any
		status       int
		code, says   string
	}{
		{"PATCH", "businessunits/Sales", map[string]any{"disabled": true, "name": "x"}, 400, "Invalid", `unknown field "name"`},
		{"PATCH", "businessunits/Sales", map[string]any{"disabled": "yes"}, 400, "Invalid", "does not fit"},
		{"PATCH", "businessunits/Sales", map[string]any{}, 400, "Invalid", `{"disabled": true}`},
		{"PATCH", "businessunits/Sales", nil, 400, "Invalid", "needs a JSON body"},
		{"PATCH", "businessunits/" + root, map[string]bool{"disabled": true}, 400, "Invalid", "Root Business unit cannot be disabled."},
		{"PATCH", "businessunits/Narnia", map[string]bool{"disabled": true}, 404, "NotFound", "Narnia"},
		{"GET", "businessunits/Narnia", nil, 404, "NotFound", "Narnia"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			var e adminErr
			st := adminCall(t, emu, tt.method, tt.path, tt.body, &e)
			if st != tt.status || e.Error.Code != tt.code || !strings.Contains(e.Error.Message, tt.says) {
				t.Errorf("%s %s %v = %d %+v, want %d %s mentioning %q", tt.method, tt.path, tt.body, st, e.Error, tt.status, tt.code, tt.says)
			}
		})
	}
	// The refused requests changed nothing.
	if st := adminCall(t, emu, http.MethodGet, "businessunits/Sales", nil, &got); st != http.StatusOK || got.Disabled {
		t.Errorf("Sales after the refused PATCHes = %+v, want enabled", got)
	}
}
