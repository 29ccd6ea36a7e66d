package emulator_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	"github.com/d365s2s/d365/emulator"
	"github.com/d365s2s/d365/emulator/emulatortest"
)

// ctAPI drives the Web API over HTTPS as a change-tracking client does: absolute links are
// followed verbatim.
type ctAPI struct {
	t     testing.TB
	env   *emulatortest.Env
	token string
}

func newCTAPI(t testing.TB, opts *emulator.Options) *ctAPI {
	t.Helper()
	env := emulatortest.New(t, opts)
	return &ctAPI{t: t, env: env, token: ctToken(t, env)}
}

// ctToken gets an access token from a fresh credential: a cached one would outlive a clock move.
func ctToken(t testing.TB, env *emulatortest.Env) string {
	t.Helper()
	cred := env.SecretCredential(t, env.Credentials)
	tok, err := cred.GetToken(context.Background(), policy.TokenRequestOptions{Scopes: []string{env.OrgURL + "/.default"}})
	if err != nil {
		t.Fatal(err)
	}
	return tok.Token
}

// ctResponse is one answer.
type ctResponse struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r ctResponse) errorCode() (code, message string) {
	e, _ := r.body["error"].(map[string]any)
	code, _ = e["code"].(string)
	message, _ = e["message"].(string)
	return code, message
}

func (r ctResponse) value() []map[string]any {
	var out []map[string]any
	for _, v := range r.body["value"].([]any) {
		out = append(out, v.(map[string]any))
	}
	return out
}

func (r ctResponse) str(name string) string { s, _ := r.body[name].(string); return s }

// do sends a request to a path under /api/data/v9.2/ or to an absolute URL.
func (a *ctAPI) do(method, target, prefer, body string) ctResponse {
	a.t.Helper()
	if !strings.HasPrefix(target, "https://") {
		target = a.env.OrgURL + "/api/data/v9.2/" + target
	}
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, target, rd)
	if err != nil {
		a.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("OData-MaxVersion", "4.0")
	req.Header.Set("OData-Version", "4.0")
	req.Header.Set("Accept", "application/json")
	if prefer != "" {
		req.Header.Set("Prefer", prefer)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.env.Emulator.HTTPClient().Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		a.t.Fatal(err)
	}
	r := ctResponse{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			a.t.Fatalf("%s %s: %v in %s", method, target, err, raw)
		}
	}
	return r
}

// create creates a row and returns its id.
func (a *ctAPI) create(set string, row map[string]any) string {
	a.t.Helper()
	b, _ := json.Marshal(row)
	r := a.do(http.MethodPost, set, "return=representation", string(b))
	if r.status != http.StatusCreated {
		a.t.Fatalf("create %s: %d %s", set, r.status, r.raw)
	}
	for k, v := range r.body {
		if strings.HasSuffix(k, "id") && !strings.HasPrefix(k, "_") && k == strings.TrimSuffix(set, "s")+"id" {
			return v.(string)
		}
	}
	a.t.Fatalf("create %s: no id in %s", set, r.raw)
	return ""
}

func (a *ctAPI) update(set, id string, row map[string]any) {
	a.t.Helper()
	b, _ := json.Marshal(row)
	if r := a.do(http.MethodPatch, set+"("+id+")", "", string(b)); r.status != http.StatusNoContent {
		a.t.Fatalf("update %s(%s): %d %s", set, id, r.status, r.raw)
	}
}

func (a *ctAPI) remove(set, id string) {
	a.t.Helper()
	if r := a.do(http.MethodDelete, set+"("+id+")", "", ""); r.status != http.StatusNoContent {
		a.t.Fatalf("delete %s(%s): %d %s", set, id, r.status, r.raw)
	}
}

// ctEntry is one item of a change-tracking page: a row (with its name and ETag) or a tombstone.
type ctEntry struct {
	id      string
	deleted bool
	name    string
	etag    string
}

func entries(t testing.TB, r ctResponse, set string) []ctEntry {
	t.Helper()
	var out []ctEntry
	for _, v := range r.value() {
		if ctx, _ := v["@odata.context"].(string); strings.HasSuffix(ctx, "$metadata#"+set+"/$deletedEntity") {
			if v["reason"] != "deleted" || len(v) != 3 {
				t.Errorf("tombstone %v: want exactly @odata.context, id and reason \"deleted\"", v)
			}
			out = append(out, ctEntry{id: v["id"].(string), deleted: true})
			continue
		}
		e := ctEntry{id: v[strings.TrimSuffix(set, "s")+"id"].(string)}
		e.name, _ = v["name"].(string)
		if e.name == "" {
			e.name, _ = v["lastname"].(string)
		}
		e.etag, _ = v["@odata.etag"].(string)
		if e.etag == "" {
			t.Errorf("row %v has no @odata.etag", v)
		}
		out = append(out, e)
	}
	return out
}

// readAll follows nextLinks (sending prefer, without odata.track-changes: the skip token keeps
// the mode) from the first response to the page with the deltaLink and returns
// every entry and the deltaLink. It fails the test when a page carries both links or neither.
func (a *ctAPI) readAll(first ctResponse, set, prefer string, between func(page int)) ([]ctEntry, string, int) {
	a.t.Helper()
	r := first
	var all []ctEntry
	for page := 1; ; page++ {
		if r.status != http.StatusOK {
			a.t.Fatalf("page %d: %d %s", page, r.status, r.raw)
		}
		all = append(all, entries(a.t, r, set)...)
		next, delta := r.str("@odata.nextLink"), r.str("@odata.deltaLink")
		switch {
		case next != "" && delta != "":
			a.t.Fatalf("page %d carries both @odata.nextLink and @odata.deltaLink", page)
		case delta != "":
			return all, delta, page
		case next == "":
			a.t.Fatalf("page %d carries neither @odata.nextLink nor @odata.deltaLink: %s", page, r.raw)
		}
		if between != nil {
			between(page)
		}
		r = a.do(http.MethodGet, next, prefer, "")
	}
}

func TestChangeTrackingInitialLoadThenDelta(t *testing.T) {
	a := newCTAPI(t, nil)
	var ids []string
	for i := range 5 {
		ids = append(ids, a.create("accounts", map[string]any{"name": fmt.Sprintf("a%d", i)}))
	}

	first := a.do(http.MethodGet, "accounts?$select=name", "odata.track-changes,odata.maxpagesize=2", "")
	if got := first.header.Values("Preference-Applied"); !slices.Contains(got, "odata.track-changes") || !slices.Contains(got, "odata.maxpagesize=2") {
		t.Errorf("Preference-Applied = %q, want odata.track-changes and odata.maxpagesize=2", got)
	}
	if got := first.header.Get("Preference-Applied"); got != "odata.track-changes" {
		t.Errorf("first Preference-Applied = %q, want odata.track-changes", got)
	}
	if got, want := first.str("@odata.context"), a.env.OrgURL+"/api/data/v9.2/$metadata#accounts(name)"; got != want {
		t.Errorf("initial context = %q, want %q", got, want)
	}
	initial, deltaLink, pages := a.readAll(first, "accounts", "odata.maxpagesize=2", nil)
	if pages != 3 || len(initial) != 5 {
		t.Fatalf("initial load: %d rows in %d pages, want 5 in 3", len(initial), pages)
	}
	prefix := a.env.OrgURL + "/api/data/v9.2/accounts?$select=name&$deltatoken="
	if !strings.HasPrefix(deltaLink, prefix) {
		t.Fatalf("deltaLink = %q, want prefix %q", deltaLink, prefix)
	}
	token, _ := url.QueryUnescape(strings.TrimPrefix(deltaLink, prefix))
	if n, when, ok := strings.Cut(token, "!"); !ok || n == "" || len(when) != len("08/22/2017 08:10:44") {
		t.Errorf("delta token %q is not <version>!<MM/dd/yyyy HH:mm:ss>", token)
	}

	a.update("accounts", ids[3], map[string]any{"name": "a3 renamed"})
	a.remove("accounts", ids[1])
	created := a.create("accounts", map[string]any{"name": "a5"})
	a.update("accounts", ids[0], map[string]any{"name": "a0 renamed"})

	delta := a.do(http.MethodGet, deltaLink, "", "")
	if got, want := delta.str("@odata.context"), a.env.OrgURL+"/api/data/v9.2/$metadata#accounts(name)/$delta"; got != want {
		t.Errorf("delta context = %q, want %q", got, want)
	}
	got, next, _ := a.readAll(delta, "accounts", "", nil)
	want := []ctEntry{{id: ids[3], name: "a3 renamed"}, {id: created, name: "a5"}, {id: ids[0], name: "a0 renamed"}, {id: ids[1], deleted: true}}
	if len(got) != len(want) {
		t.Fatalf("delta = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].id != want[i].id || got[i].deleted != want[i].deleted || got[i].name != want[i].name {
			t.Errorf("delta[%d] = %+v, want %+v (changed rows by version, then deletes)", i, got[i], want[i])
		}
	}
	if next == deltaLink {
		t.Error("the delta's deltaLink is the one it was read with; want a newer position")
	}
	// Nothing changed since: an empty value and a delta link.
	empty := a.do(http.MethodGet, next, "", "")
	if empty.status != http.StatusOK || len(empty.value()) != 0 || empty.str("@odata.deltaLink") == "" {
		t.Errorf("delta with no changes: %d %s, want 200, value [] and a deltaLink", empty.status, empty.raw)
	}
	// A delta link is a position, not a consumed cursor: reading it again gives the same changes.
	again, _, _ := a.readAll(a.do(http.MethodGet, deltaLink, "", ""), "accounts", "", nil)
	if len(again) != len(want) {
		t.Errorf("re-reading the first delta link gave %d entries, want %d", len(again), len(want))
	}
}

func tokenScope(orgURL string) policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: []string{orgURL + "/.default"}}
}
