package webapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/store"
)

func TestBypassHeadersNeedTheirPrivileges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	contact := map[string]any{"lastname": "Bypass"}
	for _, tc := range []struct {
		name, token, header, value string
		status                     int
		code, message              string
	}{
		{"admin bypasses plug-ins", tokenAdmin, "MSCRM.BypassCustomPluginExecution", "true", 204, "", ""},
		{"plug-in bypass off", tokenReader, "MSCRM.BypassCustomPluginExecution", "false", 204, "", ""},
		{"plug-in bypass without the privilege", tokenReader, "MSCRM.BypassCustomPluginExecution", "true", 403, "0x80040220", "is missing prvBypassCustomPlugins privilege (Id="},
		{"plug-in bypass, any case", tokenReader, "MSCRM.BypassCustomPluginExecution", "TRUE", 403, "0x80040220", "is missing prvBypassCustomPlugins privilege"},
		{"plug-in bypass not a boolean", tokenAdmin, "MSCRM.BypassCustomPluginExecution", "yes", 400, "0x80040203", "The value 'yes' of the MSCRM.BypassCustomPluginExecution header is not valid."},
		{"admin bypasses sync logic", tokenAdmin, "MSCRM.BypassBusinessLogicExecution", "CustomSync", 204, "", ""},
		{"admin bypasses async logic", tokenAdmin, "MSCRM.BypassBusinessLogicExecution", "CustomAsync", 204, "", ""},
		{"admin bypasses both", tokenAdmin, "MSCRM.BypassBusinessLogicExecution", "CustomSync,CustomAsync", 204, "", ""},
		{"both with a space", tokenAdmin, "MSCRM.BypassBusinessLogicExecution", "CustomAsync, CustomSync", 204, "", ""},
		{"logic bypass without the privilege", tokenReader, "MSCRM.BypassBusinessLogicExecution", "CustomSync", 403, "0x80040220", "is missing prvBypassCustomBusinessLogic privilege (Id="},
		{"unknown logic", tokenAdmin, "MSCRM.BypassBusinessLogicExecution", "CustomPlugins", 400, "0x80040203", "The value 'CustomPlugins' of the MSCRM.BypassBusinessLogicExecution header is not valid. The allowed values are CustomSync, CustomAsync, or both separated by a comma (CustomSync,CustomAsync)."},
		{"blank logic", tokenAdmin, "MSCRM.BypassBusinessLogicExecution", " ", 400, "0x80040203", "The value '' of the MSCRM.BypassBusinessLogicExecution header is not valid."},
		{"repeated logic", tokenAdmin, "MSCRM.BypassBusinessLogicExecution", "CustomSync,CustomSync", 400, "0x80040203", "The value 'CustomSync,CustomSync'"},
		{"invalid value before the privilege", tokenReader, "MSCRM.BypassBusinessLogicExecution", "All", 400, "0x80040203", "The value 'All'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.call(http.MethodPost, api+"contacts", tc.token, contact, tc.header, tc.value)
			if tc.status == http.StatusNoContent {
				if r.status != tc.status {
					t.Fatalf("status %d %s, want 204", r.status, r.body)
				}
				return
			}
			expectError(t, r, tc.status, tc.code, "")
			if _, msg := r.errorOf(t); !strings.Contains(msg, tc.message) {
				t.Errorf("message %q lacks %q", msg, tc.message)
			}
		})
	}
	// Refused requests wrote nothing: only the six admitted creates exist.
	if r := e.call(http.MethodGet, api+"contacts/$count", tokenAdmin, nil); string(r.body) != "6" {
		t.Errorf("contacts = %s, want the 6 admitted creates", r.body)
	}

	// A role that gains the privilege may bypass.
	if _, err := e.store.EnsureRole(context.Background(), "Contact Manager", []store.RolePrivilege{
		{Name: "prvCreateContact", Depth: store.DepthOrganization},
		{Name: "prvReadContact", Depth: store.DepthOrganization},
		{Name: "prvWriteContact", Depth: store.DepthOrganization},
		{Name: store.PrivilegeBypassCustomPlugins, Depth: store.DepthOrganization},
	}); err != nil {
		t.Fatal(err)
	}
	if r := e.call(http.MethodPost, api+"contacts", tokenReader, contact, "MSCRM.BypassCustomPluginExecution", "true"); r.status != http.StatusNoContent {
		t.Errorf("bypass after the role gained prvBypassCustomPlugins: %d %s", r.status, r.body)
	}
}

func TestBypassHeadersInBatchParts(t *testing.T) {
	t.Parallel()
	e := newEnv(t, "")
	body := crlf(`--batch_B
Content-Type: application/http
Content-Transfer-Encoding: binary

POST /api/data/v9.2/contacts HTTP/1.1
Content-Type: application/json

{"lastname":"plain"}
--batch_B
Content-Type: multipart/mixed; boundary=changeset_C

--changeset_C
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 1

POST /api/data/v9.2/contacts HTTP/1.1
Content-Type: application/json

{"lastname":"in changeset"}
--changeset_C
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: 2

POST /api/data/v9.2/contacts HTTP/1.1
Content-Type: application/json
MSCRM.BypassBusinessLogicExecution: CustomSync

{"lastname":"bypassing"}
--changeset_C--
--batch_B
Content-Type: application/http
Content-Transfer-Encoding: binary

POST /api/data/v9.2/contacts HTTP/1.1
Content-Type: application/json
MSCRM.BypassCustomPluginExecution: maybe

{"lastname":"bad value"}
--batch_B--
`)
	ct := []string{"Content-Type", "multipart/mixed; boundary=batch_B", "Prefer", "odata.continue-on-error"}
	r := e.call(http.MethodPost, api+"$batch", tokenReader, body, ct...)
	if r.status != http.StatusOK {
		t.Fatalf("batch: %d %s", r.status, r.body)
	}
	results := readBatch(t, r)
	if len(results) != 3 || results[0].status != 204 || results[1].status != 403 || results[2].status != 400 {
		t.Fatalf("part statuses: %v, want 204, a failed changeset (403), 400", statuses(results))
	}
	if !strings.Contains(results[1].body, `"code":"0x80040220"`) || !strings.Contains(results[1].body, "is missing prvBypassCustomBusinessLogic privilege") {
		t.Errorf("changeset failure: %s", results[1].body)
	}
	if !strings.Contains(results[2].body, "MSCRM.BypassCustomPluginExecution") {
		t.Errorf("bad value part: %s", results[2].body)
	}
	// The changeset rolled back: only the plain create stayed.
	if r := e.call(http.MethodGet, api+"contacts/$count", tokenAdmin, nil); string(r.body) != "1" {
		t.Errorf("contacts = %s, want 1", r.body)
	}
	// Headers on the $batch request itself apply to the whole batch.
	r = e.call(http.MethodPost, api+"$batch", tokenReader, body, append(ct, "MSCRM.BypassCustomPluginExecution", "true")...)
	expectError(t, r, http.StatusForbidden, "0x80040220", "Principal user (Id=")
}
