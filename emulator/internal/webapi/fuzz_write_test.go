package webapi

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// writeTarget is one property of a built-in table that a write body can
// name: a column's property, a navigation property given a value, or a
// navigation property bound with @odata.bind.
type writeTarget struct {
	table *schema.Table
	name  string // the body member's name
	nav   *schema.NavigationProperty
	bind  bool
}

// writeTargets lists every writable-looking member of every built-in
// table, in a stable order.
func writeTargets(s *schema.Schema) []writeTarget {
	var out []writeTarget
	for _, t := range s.Tables() {
		if t.Intersect != nil || t.EntitySetName == "" {
			continue
		}
		for _, c := range t.Columns {
			if !c.Internal {
				out = append(out, writeTarget{table: t, name: c.PropertyName()})
			}
		}
		for _, n := range t.Navigations {
			out = append(out, writeTarget{table: t, name: n.Name, nav: n})
			out = append(out, writeTarget{table: t, name: n.Name + "@odata.bind", nav: n, bind: true})
		}
	}
	return out
}

// writeValues are the JSON values every member is tried with in the seed
// corpus; the fuzzer adds arbitrary text (valid JSON or not).
var writeValues = []string{
	`null`, `""`, `0`, `-1`, `2147483648`, `1.5`, `1e400`, `"x"`, `"7eb682f1-ca75-e511-80d4-00155d2a68d1"`,
	`"2024-01-02T03:04:05Z"`, `true`, `[]`, `{}`, `["/contacts(7eb682f1-ca75-e511-80d4-00155d2a68d1)"]`,
	`"/systemusers(7eb682f1-ca75-e511-80d4-00155d2a68d1)"`, `[{}]`, `{"@odata.id":"x"}`, `"1,2"`,
}

var entityIDHeader = regexp.MustCompile(`\(([0-9a-f-]{36})\)$`)

// writeFixture is a handler with one row per built-in table for the
// updates to hit (rows of their own, so no write disables the caller).
type writeFixture struct {
	h   http.Handler
	ids map[*schema.Table]string
}

func newWriteFixture(tb testing.TB) *writeFixture {
	tb.Helper()
	h, st := newAdminHandler(tb)
	f := &writeFixture{h: h, ids: map[*schema.Table]string{}}
	org := st.Organization()
	root := "/businessunits(" + org.BusinessUnitID + ")"
	bodies := map[string]string{
		"businessunits":         `{"name":"Fuzz BU","parentbusinessunitid@odata.bind":"` + root + `"}`,
		"systemusers":           `{"domainname":"fuzz@example.com","lastname":"Fuzz","businessunitid@odata.bind":"` + root + `"}`,
		"teams":                 `{"name":"Fuzz team","businessunitid@odata.bind":"` + root + `"}`,
		"roles":                 `{"name":"Fuzz role","businessunitid@odata.bind":"` + root + `"}`,
		"accounts":              `{"name":"Fuzz account"}`,
		"contacts":              `{"lastname":"Fuzz"}`,
		"tasks":                 `{"subject":"Fuzz task"}`,
		"transactioncurrencies": `{"currencyname":"Fuzz","isocurrencycode":"FZZ","currencysymbol":"F","exchangerate":2,"currencyprecision":2}`,
		"asyncoperations":       `{"name":"Fuzz job"}`,
	}
	for _, t := range st.Schema().Tables() {
		if t.Intersect != nil || t.EntitySetName == "" {
			continue
		}
		if t.LogicalName == "organization" {
			f.ids[t] = org.OrganizationID
			continue
		}
		w := f.do(http.MethodPost, t.EntitySetName, bodies[t.EntitySetName])
		m := entityIDHeader.FindStringSubmatch(w.Header().Get("OData-EntityId"))
		if w.Code != http.StatusNoContent || m == nil {
			tb.Fatalf("create a %s to update: %d %s", t.LogicalName, w.Code, w.Body)
		}
		f.ids[t] = m[1]
	}
	return f
}

func (f *writeFixture) do(method, path, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, "https://org.example/api/data/v9.2/"+path, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w
}

// check fails on a 5xx (501 aside) and on an error without the envelope.
func checkAnswer(t *testing.T, method, path, body string, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code >= 500 && w.Code != http.StatusNotImplemented {
		t.Fatalf("%s %s %s: %d %s", method, path, body, w.Code, w.Body)
	}
	if w.Code >= 400 {
		var env struct {
			Error *struct{ Code, Message string } `json:"error"`
		}
		if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Error == nil || env.Error.Message == "" {
			t.Fatalf("%s %s %s: %d without an error envelope: %s", method, path, body, w.Code, w.Body)
		}
	}
}

// writeEachWay writes one member with a JSON value by create (POST),
// update or upsert (PATCH) and single-property update (PUT, or PUT …/$ref
// for a navigation property), and checks each answer.
func (fx *writeFixture) writeEachWay(t *testing.T, wt writeTarget, value string) {
	t.Helper()
	body := `{"` + wt.name + `":` + value + `}`
	set, id := wt.table.EntitySetName, fx.ids[wt.table]
	for _, req := range []struct{ method, path, body string }{
		{http.MethodPost, set, body},
		{http.MethodPatch, set + "(" + id + ")", body},
		{http.MethodPut, set + "(" + id + ")/" + singlePropertyPath(wt), singlePropertyBody(wt, value)},
	} {
		checkAnswer(t, req.method, req.path, req.body, fx.do(req.method, req.path, req.body))
	}
}

// FuzzWriteBody writes one member of a built-in table with an arbitrary
// JSON value each way (writeEachWay): the handler must answer every
// request with a Dataverse status and, for errors, the error envelope;
// never a 500. The seeds give each of writeValues once, to members spread
// over the tables; TestWriteEveryMember covers every member in CI.
func FuzzWriteBody(f *testing.F) {
	fx := newWriteFixture(f)
	targets := writeTargets(schema.Builtin())
	for i, v := range writeValues {
		f.Add(uint16(i*(len(targets)/len(writeValues)+1)), v)
	}
	f.Fuzz(func(t *testing.T, index uint16, value string) {
		fx.writeEachWay(t, targets[int(index)%len(targets)], value)
	})
}

// TestWriteEveryMember writes every member of every built-in table each
// way with null, and every column a caller may set also with one of
// writeValues in turn: the nulls of SystemRequired columns and lookups
// once answered 500.
func TestWriteEveryMember(t *testing.T) {
	t.Parallel()
	fx := newWriteFixture(t)
	for i, wt := range writeTargets(schema.Builtin()) {
		fx.writeEachWay(t, wt, "null")
		if c, ok := wt.table.Property(wt.name); ok && (c.ValidForCreate || c.ValidForUpdate) {
			fx.writeEachWay(t, wt, writeValues[i%len(writeValues)])
		}
	}
}

func singlePropertyPath(wt writeTarget) string {
	if wt.nav != nil {
		return wt.nav.Name + "/$ref"
	}
	return wt.name
}

func singlePropertyBody(wt writeTarget, value string) string {
	if wt.nav != nil {
		return `{"@odata.id":` + value + `}`
	}
	return `{"value":` + value + `}`
}
