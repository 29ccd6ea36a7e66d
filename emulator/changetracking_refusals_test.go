package emulator_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator"
)

func TestChangeTrackingRefusals(t *testing.T) {
	a := newCTAPI(t, nil)
	a.create("accounts", map[string]any{"name": "x"})
	link := a.deltaLinkOf("accounts", "?$select=name")
	const track = "odata.track-changes"
	for _, tc := range []struct {
		name, target, prefer string
		status               int
		code, message        string
	}{
		{"table without change tracking", "transactioncurrencies?$select=currencyname", track,
			400, "0x80072491", "Entity transactioncurrency isn't enabled for change tracking."},
		{"delta token on a table without change tracking", "tasks?$deltatoken=1000!01/01/2026 00:00:00", "",
			400, "0x80072491", "Entity task isn't enabled for change tracking."},
		{"$filter", "accounts?$select=name&$filter=name eq 'x'", track,
			400, "0x80060888", `The "$filter" query parameter isn't supported when Change Tracking is enabled.`},
		{"$orderby", "accounts?$select=name&$orderby=name", track,
			400, "0x80060888", `The "$orderby" query parameter isn't supported when Change Tracking is enabled.`},
		{"$expand", "accounts?$select=name&$expand=primarycontactid($select=fullname)", track,
			400, "0x80060888", `The "$expand" query parameter isn't supported when Change Tracking is enabled.`},
		{"$top", "accounts?$select=name&$top=5", track,
			400, "0x80060888", `The "$top" query parameter isn't supported when Change Tracking is enabled.`},
		{"$filter on a delta link", link + "&$filter=name eq 'x'", "",
			400, "0x80060888", `The "$filter" query parameter isn't supported when Change Tracking is enabled.`},
		{"a delta token the environment never issued", "accounts?$select=name&$deltatoken=banana", "",
			400, "0x80060888", "The $deltatoken is not valid: use the @odata.deltaLink of a previous response verbatim, or perform a full sync."},
		{"a delta token from the future", "accounts?$select=name&$deltatoken=" + "99999999%2101%2f01%2f2026%2000%3a00%3a00", "",
			400, "0x80044352", expiredMessage},
	} {
		t.Run(tc.name, func(t *testing.T) {
			target := strings.ReplaceAll(tc.target, " ", "%20")
			r := a.do(http.MethodGet, target, tc.prefer, "")
			code, msg := r.errorCode()
			if r.status != tc.status || code != tc.code || msg != tc.message {
				t.Errorf("GET %s: %d %s %q\nwant %d %s %q", tc.target, r.status, code, msg, tc.status, tc.code, tc.message)
			}
		})
	}
}

func TestChangeTrackingNeedsOrganizationLevelRead(t *testing.T) {
	sc, err := emulator.ParseScenario([]byte(`
tenants:
  - {domain: ctpriv.onmicrosoft.com}
apps:
  - name: bu-reader
    secrets: [{value: "bu-reader-secret-value-0123456789"}]
  - name: org-reader
    secrets: [{value: "org-reader-secret-value-0123456789"}]
roles:
  - {name: BU reader, privileges: ["prvReadAccount:businessunit"]}
  - {name: Org reader, privileges: ["prvReadAccount:organization"]}
applicationUsers:
  - {app: bu-reader, roles: [BU reader]}
  - {app: org-reader, roles: [Org reader]}
`), "ctpriv.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := newCTAPI(t, &emulator.Options{Scenario: sc})
	apps, err := a.env.Emulator.Apps(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{"bu-reader": "bu-reader-secret-value-0123456789", "org-reader": "org-reader-secret-value-0123456789"}
	for _, app := range apps {
		creds := emulator.Credentials{TenantID: a.env.Emulator.TenantID(), ClientID: app.ClientID, ClientSecret: secrets[app.DisplayName]}
		cred := a.env.SecretCredential(t, creds)
		reader := &ctAPI{t: t, env: a.env}
		tok, err := cred.GetToken(context.Background(), tokenScope(a.env.OrgURL))
		if err != nil {
			t.Fatal(err)
		}
		reader.token = tok.Token
		r := reader.do(http.MethodGet, "accounts?$select=name", "odata.track-changes", "")
		code, msg := r.errorCode()
		switch app.DisplayName {
		case "bu-reader":
			if r.status != http.StatusForbidden || code != "0x80040220" || !strings.Contains(msg, "prvReadAccount") || !strings.Contains(msg, "organization") {
				t.Errorf("business-unit reader: %d %s %q, want 403 0x80040220 naming prvReadAccount at organization depth", r.status, code, msg)
			}
			if plain := reader.do(http.MethodGet, "accounts?$select=name", "", ""); plain.status != http.StatusOK {
				t.Errorf("business-unit reader without change tracking: %d, want 200", plain.status)
			}
		case "org-reader":
			if r.status != http.StatusOK || r.str("@odata.deltaLink") == "" {
				t.Errorf("organization reader: %d %s, want 200 with a deltaLink", r.status, r.raw)
			}
		default:
			t.Fatalf("unexpected app %q", app.DisplayName)
		}
	}
}

func TestChangeTrackingCascadeDeletesAndCount(t *testing.T) {
	a := newCTAPI(t, nil)
	parent := a.create("accounts", map[string]any{"name": "parent"})
	var children []string
	for i := range 3 {
		children = append(children, a.create("contacts", map[string]any{"lastname": fmt.Sprintf("c%d", i),
			"parentcustomerid_account@odata.bind": "/accounts(" + parent + ")"}))
	}
	other := a.create("contacts", map[string]any{"lastname": "stays"})
	contactsLink := a.deltaLinkOf("contacts", "?$select=lastname")
	accountsLink := a.deltaLinkOf("accounts", "?$select=name")

	a.remove("accounts", parent) // cascades to its three contacts
	a.update("contacts", other, map[string]any{"lastname": "stays, renamed"})

	got, _, _ := a.readAll(a.do(http.MethodGet, contactsLink, "", ""), "contacts", "", nil)
	if len(got) != 4 || got[0].id != other || got[0].deleted {
		t.Fatalf("contacts delta = %+v, want the update, then 3 deletes", got)
	}
	deleted := map[string]bool{}
	for _, e := range got[1:] {
		if !e.deleted {
			t.Errorf("contacts delta entry %+v after the changed rows is not a delete", e)
		}
		deleted[e.id] = true
	}
	for _, id := range children {
		if !deleted[id] {
			t.Errorf("contact %s deleted by the cascade is missing from the delta", id)
		}
	}
	acc, _, _ := a.readAll(a.do(http.MethodGet, accountsLink, "", ""), "accounts", "", nil)
	if len(acc) != 1 || acc[0].id != parent || !acc[0].deleted {
		t.Errorf("accounts delta = %+v, want the parent's delete", acc)
	}

	for _, tc := range []struct {
		link string
		want int
	}{{contactsLink, 4}, {accountsLink, 1}} {
		r := a.do(http.MethodGet, countLink(tc.link), "", "")
		if n, err := strconv.Atoi(strings.TrimPrefix(string(r.raw), "\ufeff")); r.status != http.StatusOK || err != nil || n != tc.want {
			t.Errorf("GET %s: %d %q, want %d", countLink(tc.link), r.status, r.raw, tc.want)
		}
	}
}

// TestChangeTrackingBatchDeletes checks that deletes in a $batch changeset are logged when it
// commits, and not at all when it rolls back.
func TestChangeTrackingBatchDeletes(t *testing.T) {
	a := newCTAPI(t, nil)
	x := a.create("accounts", map[string]any{"name": "x"})
	y := a.create("accounts", map[string]any{"name": "y"})
	z := a.create("accounts", map[string]any{"name": "z"})
	link := a.deltaLinkOf("accounts", "?$select=name")

	batch := func(body string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, a.env.OrgURL+"/api/data/v9.2/$batch", strings.NewReader(strings.ReplaceAll(body, "\n", "\r\n")))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+a.token)
		req.Header.Set("Content-Type", "multipart/mixed; boundary=batch_1")
		resp, err := a.env.Emulator.HTTPClient().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	part := func(n int, target string) string {
		return fmt.Sprintf(`--changeset_1
Content-Type: application/http
Content-Transfer-Encoding: binary
Content-ID: %d

DELETE %s HTTP/1.1

`, n, a.env.OrgURL+"/api/data/v9.2/"+target)
	}
	changeset := func(targets ...string) string {
		var b strings.Builder
		b.WriteString("--batch_1\nContent-Type: multipart/mixed; boundary=changeset_1\n\n")
		for i, tg := range targets {
			b.WriteString(part(i+1, tg))
		}
		b.WriteString("--changeset_1--\n--batch_1--\n")
		return b.String()
	}
	// The second delete fails (no such row): the changeset rolls back, x is not deleted.
	batch(changeset("accounts("+x+")", "accounts(00000000-0000-0000-0000-000000000001)"))
	if status := batch(changeset("accounts("+y+")", "accounts("+z+")")); status != http.StatusOK {
		t.Fatalf("changeset: status %d", status)
	}
	got, _, _ := a.readAll(a.do(http.MethodGet, link, "", ""), "accounts", "", nil)
	if len(got) != 2 || !got[0].deleted || got[0].id != y || !got[1].deleted || got[1].id != z {
		t.Errorf("delta after the batches = %+v, want the deletes of y and z only (%s, %s)", got, y, z)
	}
}

func TestChangeTrackingEnabledInEntityDefinitions(t *testing.T) {
	a := newCTAPI(t, nil)
	for table, want := range map[string]bool{"account": true, "contact": true, "transactioncurrency": false, "task": false} {
		r := a.do(http.MethodGet, "EntityDefinitions(LogicalName='"+table+"')?$select=ChangeTrackingEnabled", "", "")
		if got, ok := r.body["ChangeTrackingEnabled"].(bool); r.status != http.StatusOK || !ok || got != want {
			t.Errorf("%s ChangeTrackingEnabled: %d %s, want %v", table, r.status, r.raw, want)
		}
	}
}

func TestChangeTrackingSwitchInScenarioSchema(t *testing.T) {
	sc, err := emulator.ParseScenario([]byte(`
tenants:
  - {domain: ctschema.onmicrosoft.com}
apps:
  - name: ctschema-app
    secrets: [{value: "ctschema-secret-value-0123456789"}]
applicationUsers:
  - {app: ctschema-app, roles: [System Administrator]}
schema:
  tables:
    - logicalName: new_tracked
      primaryNameColumn: new_name
      changeTracking: true
      columns:
        - {logicalName: new_name, type: String, maxLength: 100}
    - logicalName: new_untracked
      primaryNameColumn: new_name
      columns:
        - {logicalName: new_name, type: String, maxLength: 100}
`), "ctschema.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := newCTAPI(t, &emulator.Options{Scenario: sc})
	id := a.create("new_trackeds", map[string]any{"new_name": "one"})
	first := a.do(http.MethodGet, "new_trackeds?$select=new_name", "odata.track-changes", "")
	if first.status != http.StatusOK || first.str("@odata.deltaLink") == "" {
		t.Fatalf("tracked scenario table: %d %s", first.status, first.raw)
	}
	a.remove("new_trackeds", id)
	delta := a.do(http.MethodGet, first.str("@odata.deltaLink"), "", "")
	if v := delta.value(); len(v) != 1 || v[0]["id"] != id || v[0]["reason"] != "deleted" {
		t.Errorf("delta of the scenario table = %s, want the delete of %s", delta.raw, id)
	}
	r := a.do(http.MethodGet, "new_untrackeds?$select=new_name", "odata.track-changes", "")
	if code, msg := r.errorCode(); r.status != http.StatusBadRequest || code != "0x80072491" || msg != "Entity new_untracked isn't enabled for change tracking." {
		t.Errorf("untracked scenario table: %d %s %q", r.status, code, msg)
	}
}
