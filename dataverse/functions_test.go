package dataverse

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestCallFunction(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"@odata.context":"x","RolePrivileges":[{"PrivilegeName":"prvReadContact"}]}`)
	}, nil)
	var out struct {
		RolePrivileges []struct{ PrivilegeName string }
	}
	err := f.client.CallFunction(context.Background(), "RetrieveUserPrivileges", nil, &out, &OperationOptions{EntitySet: "systemusers", ID: idA})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.RolePrivileges) != 1 || out.RolePrivileges[0].PrivilegeName != "prvReadContact" {
		t.Errorf("out = %+v", out)
	}
	r := f.only()
	if want := testBasePath + "systemusers(" + idA.String() + ")/Microsoft.Dynamics.CRM.RetrieveUserPrivileges()"; r.Method != "GET" || r.Path != want {
		t.Errorf("request = %s %s, want GET %s", r.Method, r.Path, want)
	}
}

func TestCallFunctionParameters(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{}`) }, nil)
	at := time.Date(2024, 3, 1, 8, 0, 0, 312697919, time.UTC) // nanoseconds: 7 digits are written
	err := f.client.CallFunction(context.Background(), "GetTimeZoneCodeByLocalizedName", Params{
		"LocalizedStandardName": "Pacific Standard Time & co",
		"LocaleId":              1033,
		"Target":                EntityRef{EntitySet: "contacts", ID: idA},
		"When":                  at,
	}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := f.only()
	if want := testBasePath + "GetTimeZoneCodeByLocalizedName(LocaleId=@p1,LocalizedStandardName=@p2,Target=@p3,When=@p4)"; r.Path != want {
		t.Errorf("path = %s\nwant %s", r.Path, want)
	}
	q, err := url.ParseQuery(r.RawQuery)
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"@p1": {"1033"},
		"@p2": {"'Pacific Standard Time & co'"},
		"@p3": {"{'@odata.id':'contacts(" + idA.String() + ")'}"},
		"@p4": {"2024-03-01T08:00:00.3126979Z"},
	}
	if diff := cmp.Diff(want, q); diff != "" {
		t.Errorf("aliases (-want +got):\n%s", diff)
	}
	for _, bad := range []Params{{"a b": 1}, {"x": struct{}{}}} {
		if err := f.client.CallFunction(context.Background(), "F", bad, nil, nil); err == nil {
			t.Errorf("CallFunction(%v) succeeded", bad)
		}
	}
}

func TestCallAction(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == testBasePath+"WinOpportunity" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeJSON(w, 200, `{"@odata.context":"x","QueueItemId":"`+idB.String()+`"}`)
	}, nil)
	ctx := context.Background()
	if err := f.client.CallAction(ctx, "WinOpportunity", map[string]any{"Status": 3, "OpportunityClose": Record{"subject": "Won"}}, nil, nil); err != nil {
		t.Fatal(err)
	}
	var res struct {
		QueueItemID string `json:"QueueItemId"`
	}
	err := f.client.CallAction(ctx, "AddToQueue", map[string]any{"Target": Record{"activityid": idA, "@odata.type": "Microsoft.Dynamics.CRM.letter"}}, &res, &OperationOptions{EntitySet: "queues", ID: idB})
	if err != nil || res.QueueItemID != idB.String() {
		t.Fatalf("AddToQueue = %+v, %v", res, err)
	}
	if err := f.client.CallAction(ctx, "ExportTranslation", nil, nil, &OperationOptions{EntitySet: "solutions"}); err != nil {
		t.Fatal(err)
	}
	rs := f.reqs()
	want := []struct{ path, body string }{
		{testBasePath + "WinOpportunity", `{"OpportunityClose":{"subject":"Won"},"Status":3}`},
		{testBasePath + "queues(" + idB.String() + ")/Microsoft.Dynamics.CRM.AddToQueue", `{"Target":{"@odata.type":"Microsoft.Dynamics.CRM.letter","activityid":"` + idA.String() + `"}}`},
		{testBasePath + "solutions/Microsoft.Dynamics.CRM.ExportTranslation", `{}`},
	}
	for i, w := range want {
		if rs[i].Method != "POST" || rs[i].Path != w.path || string(rs[i].Body) != w.body {
			t.Errorf("request %d = %s %s %s\nwant POST %s %s", i, rs[i].Method, rs[i].Path, rs[i].Body, w.path, w.body)
		}
	}
}

func TestActionIsNotRetriedAfter503(t *testing.T) {
	t.Parallel()
	h, calls := failThen(1, 503)
	f := newFakeAPI(t, h, nil)
	err := f.client.CallAction(context.Background(), "WinOpportunity", nil, nil, nil)
	if err == nil || calls.Load() != 1 {
		t.Errorf("err %v after %d calls; an action must not be repeated", err, calls.Load())
	}
}

func TestRetrieveVersionAndTotalRecordCount(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case testBasePath + "RetrieveVersion()":
			writeJSON(w, 200, `{"@odata.context":"x","Version":"9.2.24044.196"}`)
		case testBasePath + "RetrieveTotalRecordCount(EntityNames=@p1)":
			if got := r.URL.Query().Get("@p1"); got != `["account","contact"]` {
				t.Errorf("@p1 = %q", got)
			}
			writeJSON(w, 200, `{"EntityRecordCountCollection":{"Count":2,"IsReadOnly":false,"Keys":["account","contact"],"Values":[12000,7]}}`)
		default:
			writeError(w, 404, CodeResourceNotFound, "no "+r.URL.Path)
		}
	}, nil)
	ctx := context.Background()
	v, err := f.client.RetrieveVersion(ctx)
	if err != nil || v != "9.2.24044.196" {
		t.Errorf("RetrieveVersion = %q, %v", v, err)
	}
	counts, err := f.client.RetrieveTotalRecordCount(ctx, "account", "contact")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]int64{"account": 12000, "contact": 7}, counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
}

func TestOperationPathErrors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		opts *OperationOptions
	}{
		{"bad name!", nil},
		{"F", &OperationOptions{ID: idA}},
		{"F", &OperationOptions{EntitySet: "a b"}},
	} {
		if _, err := operationPath(tt.name, tt.opts); err == nil {
			t.Errorf("operationPath(%q, %+v) succeeded", tt.name, tt.opts)
		}
	}
	if p, _ := operationPath("sample_MyApi", &OperationOptions{EntitySet: "accounts"}); p != "accounts/Microsoft.Dynamics.CRM.sample_MyApi" {
		t.Errorf("bound custom API path = %q", p)
	}
	if p, _ := operationPath("Other.Namespace.F", &OperationOptions{EntitySet: "accounts"}); p != "accounts/Other.Namespace.F" {
		t.Errorf("qualified name path = %q", p)
	}
}
