package dataverse

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestDo(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == "GET" && strings.HasSuffix(r.URL.Path, "/contacts"):
			writeJSON(w, 200, `{"value":[]}`)
		case r.Method == "POST" && strings.HasSuffix(r.URL.Path, "/WinOpportunity"):
			w.WriteHeader(http.StatusNoContent)
		default:
			writeError(w, 404, CodeResourceNotFound, "Resource not found for the segment 'x'.")
		}
	}, nil)
	ctx := context.Background()
	resp, err := f.client.Do(ctx, "get", "/contacts?$select=fullname&$top=3", nil, &DoOptions{RequestOptions: RequestOptions{Tag: "a&b", StrongConsistency: true}})
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "{\"value\":[]}" {
		t.Errorf("body = %q", body)
	}
	resp, err = f.client.Do(ctx, "POST", "WinOpportunity", strings.NewReader(`{"Status":3}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Errorf("status = %d", resp.StatusCode)
	}
	_, err = f.client.Do(ctx, "GET", f.base()+"Nope", nil, nil)
	if !IsNotFound(err) || !HasCode(err, CodeResourceNotFound) || !strings.Contains(err.Error(), "GET Nope: 404 0x8006088a") {
		t.Errorf("Do error = %v", err)
	}
	rs := f.reqs()
	if len(rs) != 3 {
		t.Fatalf("server saw %d requests", len(rs))
	}
	if rs[0].Method != "GET" || rs[0].Path != testBasePath+"contacts" || rs[0].RawQuery != "$select=fullname&$top=3&tag=a%26b" || rs[0].Header.Get("Consistency") != "Strong" {
		t.Errorf("GET = %s %s?%s Consistency %q", rs[0].Method, rs[0].Path, rs[0].RawQuery, rs[0].Header.Get("Consistency"))
	}
	if rs[1].Method != "POST" || string(rs[1].Body) != `{"Status":3}` || rs[1].Header.Get("Content-Type") != "application/json" {
		t.Errorf("POST = %s %s %q", rs[1].Method, rs[1].Body, rs[1].Header.Get("Content-Type"))
	}
}

func TestDoRejectsPathsOutsideTheBase(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { t.Error("nothing should be sent") }, nil)
	for _, p := range []string{"https://evil.example/api/data/v9.2/x", "../../other", "a/../../b", "contacts?$filter=a eq 'b'", "x#frag"} {
		if _, err := f.client.Do(context.Background(), "GET", p, nil, nil); err == nil {
			t.Errorf("Do(%q) succeeded", p)
		}
	}
	if _, err := f.client.Do(context.Background(), " ", "x", nil, nil); err == nil {
		t.Error("Do with an empty method succeeded")
	}
}

func TestRequestOptionsHeaders(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }, nil)
	opts := &UpdateOptions{RequestOptions: RequestOptions{
		CallerObjectID:                          idA,
		CallerID:                                idB,
		BypassCustomPluginExecution:             true,
		BypassBusinessLogicExecution:            []string{"CustomSync", "CustomAsync"},
		BypassBusinessLogicExecutionStepIDs:     []uuid.UUID{idA, idB},
		DuplicateDetection:                      true,
		SuppressCallbackRegistrationExpanderJob: true,
		SolutionUniqueName:                      "MySolution",
		StrongConsistency:                       true,
		Header:                                  http.Header{"X-Custom": {"1"}, "If-Match": {`W/"5"`}},
	}}
	if _, err := f.client.Update(context.Background(), "contacts", idA, Record{"a": 1}, opts); err != nil {
		t.Fatal(err)
	}
	h := f.only().Header
	want := map[string]string{
		"CallerObjectId":                                idA.String(),
		"MSCRMCallerID":                                 idB.String(),
		"MSCRM.BypassCustomPluginExecution":             "true",
		"MSCRM.BypassBusinessLogicExecution":            "CustomSync,CustomAsync",
		"MSCRM.BypassBusinessLogicExecutionStepIds":     idA.String() + "," + idB.String(),
		"MSCRM.SuppressDuplicateDetection":              "false",
		"MSCRM.SuppressCallbackRegistrationExpanderJob": "true",
		"MSCRM.SolutionUniqueName":                      "MySolution",
		"Consistency":                                   "Strong",
		"X-Custom":                                      "1",
		"If-Match":                                      `W/"5"`, // extra headers win
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	bad := &DeleteOptions{RequestOptions: RequestOptions{BypassBusinessLogicExecution: []string{"All"}}}
	if err := f.client.Delete(context.Background(), "contacts", idA, bad); err == nil {
		t.Error("an invalid BypassBusinessLogicExecution value was sent")
	}
}

func TestWhoAmI(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, `{"@odata.context":"x","BusinessUnitId":"`+idB.String()+`","UserId":"`+idA.String()+`","OrganizationId":"00000000-0000-0000-0000-000000000009"}`)
	}, nil)
	who, err := f.client.WhoAmI(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if who.UserID != idA || who.BusinessUnitID != idB || who.OrganizationID.String() != "00000000-0000-0000-0000-000000000009" {
		t.Errorf("WhoAmI = %+v", who)
	}
	if r := f.only(); r.Method != "GET" || r.Path != testBasePath+"WhoAmI" {
		t.Errorf("request = %s %s", r.Method, r.Path)
	}
}
