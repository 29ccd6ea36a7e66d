package dataverse

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestResponseErrorHoldsNoToken: nothing reachable from a *ResponseError — its text, its
// Go-syntax print, and every value a deep print would follow (RawResponse, its Request and the
// Request's headers, unexported fields included) — holds the access token, whatever the failure.
// The transport's response keeps the signed request, so the error must keep a copy without the
// credential headers.
func TestResponseErrorHoldsNoToken(t *testing.T) {
	t.Parallel()
	const token = "tok-5b0e1c2d-never-in-errors"
	tests := []struct {
		name    string
		handler http.HandlerFunc
		call    func(*Client) error
		status  int
	}{
		{
			name: "404 from Retrieve",
			handler: func(w http.ResponseWriter, r *http.Request) {
				writeError(w, 404, CodeObjectDoesNotExist, "contact Does Not Exist")
			},
			call: func(c *Client) error {
				return c.Retrieve(context.Background(), "contacts", idA, &Record{}, nil)
			},
			status: 404,
		},
		{
			// net/http keeps Authorization on a same-host redirect; the response
			// that redirected hangs off the final request (Request.Response).
			name: "404 after a redirect",
			handler: func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasSuffix(r.URL.Path, "/moved") {
					http.Redirect(w, r, testBasePath+"moved", http.StatusTemporaryRedirect)
					return
				}
				writeError(w, 404, CodeResourceNotFound, "Resource not found for the segment 'moved'.")
			},
			call:   listContacts,
			status: 404,
		},
		{
			name: "401 after the fresh token",
			handler: func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("WWW-Authenticate", "Bearer authorization_uri=https://login.example/t/oauth2/authorize, resource_id=https://org.example/")
				w.WriteHeader(http.StatusUnauthorized)
			},
			call:   listContacts,
			status: 401,
		},
		{
			name:    "503 on a create (not retried)",
			handler: func(w http.ResponseWriter, r *http.Request) { writeError(w, 503, "", "busy") },
			call:    createContact,
			status:  503,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAPI(t, tt.handler, &ClientOptions{MaxRetryWait: -1})
			f.cred.tokens = []string{token}
			err := tt.call(f.client)
			var re *ResponseError
			if !errors.As(err, &re) || re.StatusCode != tt.status {
				t.Fatalf("error = %v, want a %d *ResponseError", err, tt.status)
			}
			if got := f.reqs()[0].Header.Get("Authorization"); got != "Bearer "+token {
				t.Fatalf("the server saw Authorization %q; the test token was not sent", got)
			}
			if re.RawResponse == nil || re.RawResponse.Request == nil {
				t.Fatal("RawResponse or its Request is nil; the error should keep both")
			}
			req := re.RawResponse.Request
			for _, h := range credentialHeaders {
				if v := req.Header.Values(h); len(v) != 0 {
					t.Errorf("RawResponse.Request.Header[%s] = %q, want it absent", h, v)
				}
			}
			last := f.reqs()[len(f.reqs())-1]
			if req.Method != last.Method || req.URL == nil || req.URL.EscapedPath() != last.Path {
				t.Errorf("RawResponse.Request is %s %v, want the request that failed", req.Method, req.URL)
			}
			for _, s := range []string{err.Error(), fmt.Sprintf("%#v", err), fmt.Sprintf("%+v", *re), fmt.Sprintf("%#v", *re.RawResponse), fmt.Sprintf("%#v", *req)} {
				if strings.Contains(s, token) {
					t.Errorf("a print of the error holds the token: %s", s)
				}
			}
			if path := findString(reflect.ValueOf(err), token); path != "" {
				t.Errorf("the token is reachable from the error at %s", path)
			}
		})
	}
}

// findString walks everything reachable from v (pointers, interfaces,
// structs with unexported fields, maps, slices) and returns the path to
// the first string or byte slice that contains s, or "".
func findString(v reflect.Value, s string) string {
	seen := map[uintptr]bool{}
	var walk func(v reflect.Value, path string, depth int) string
	walk = func(v reflect.Value, path string, depth int) string {
		if !v.IsValid() || depth > 40 {
			return ""
		}
		switch v.Kind() {
		case reflect.String:
			if strings.Contains(v.String(), s) {
				return path
			}
		case reflect.Pointer:
			if v.IsNil() || seen[v.Pointer()] {
				return ""
			}
			seen[v.Pointer()] = true
			return walk(v.Elem(), path, depth+1)
		case reflect.Interface:
			return walk(v.Elem(), path, depth+1)
		case reflect.Struct:
			for i := range v.NumField() {
				if p := walk(v.Field(i), path+"."+v.Type().Field(i).Name, depth+1); p != "" {
					return p
				}
			}
		case reflect.Map:
			if v.IsNil() || seen[v.Pointer()] {
				return ""
			}
			seen[v.Pointer()] = true
			it := v.MapRange()
			for it.Next() {
				k := fmt.Sprint(it.Key())
				if p := walk(it.Key(), path+"[key "+k+"]", depth+1); p != "" {
					return p
				}
				if p := walk(it.Value(), path+"["+k+"]", depth+1); p != "" {
					return p
				}
			}
		case reflect.Slice:
			if v.Type().Elem().Kind() == reflect.Uint8 {
				if strings.Contains(string(v.Bytes()), s) {
					return path
				}
				return ""
			}
			fallthrough
		case reflect.Array:
			for i := range v.Len() {
				if p := walk(v.Index(i), fmt.Sprintf("%s[%d]", path, i), depth+1); p != "" {
					return p
				}
			}
		}
		return ""
	}
	return walk(v, "err", 0)
}

// TestFindString: the walker finds a string behind pointers, interfaces, unexported fields,
// maps and slices, so TestResponseErrorHoldsNoToken can fail.
func TestFindString(t *testing.T) {
	t.Parallel()
	type inner struct{ h http.Header }
	type outer struct {
		any  any
		list []*inner
	}
	v := &outer{any: &outer{list: []*inner{nil, {h: http.Header{"Authorization": {"Bearer x-secret"}}}}}}
	if got, want := findString(reflect.ValueOf(v), "x-secret"), "err.any.list[1].h[Authorization][0]"; got != want {
		t.Errorf("findString = %q, want %q", got, want)
	}
	if got := findString(reflect.ValueOf(v), "absent"); got != "" {
		t.Errorf("findString(absent) = %q, want \"\"", got)
	}
}

// TestWithoutCredentialsLeavesThePipelinesResponseAlone: the copy drops every spelling of the
// credential headers, user info and the redirect chain, keeps the rest, and the response and
// request the pipeline owns are unchanged.
func TestWithoutCredentialsLeavesThePipelinesResponseAlone(t *testing.T) {
	t.Parallel()
	u, _ := url.Parse("https://user:pw@org.example/api/data/v9.2/contacts")
	req := &http.Request{Method: "GET", URL: u, Header: http.Header{
		"Authorization":       {"Bearer a"},
		"proxy-authorization": {"Basic b"}, // set without canonicalising
		"Prefer":              {"return=representation"},
	}, Response: &http.Response{StatusCode: 307}}
	resp := &http.Response{StatusCode: 404, Header: http.Header{"Content-Type": {"application/json"}}, Request: req}
	wantReq := *req
	wantReq.Header = req.Header.Clone()
	wantURL := *u

	got := withoutCredentials(resp)

	if got == resp || got.Request == req {
		t.Fatal("withoutCredentials returned the pipeline's response or request, not copies")
	}
	if diff := cmp.Diff(http.Header{"Prefer": {"return=representation"}}, got.Request.Header); diff != "" {
		t.Errorf("copied request headers (-want +got):\n%s", diff)
	}
	if got.Request.URL.User != nil || got.Request.URL.Path != u.Path || got.Request.Response != nil || got.StatusCode != 404 {
		t.Errorf("copy = %d %v (Response %v), want 404 for %s without user info or redirect chain", got.StatusCode, got.Request.URL, got.Request.Response, u.Path)
	}
	if diff := cmp.Diff(wantReq.Header, req.Header); diff != "" {
		t.Errorf("the pipeline's request headers changed (-before +after):\n%s", diff)
	}
	if *u != wantURL || req.Response != wantReq.Response || resp.Request != req {
		t.Error("the pipeline's request URL, redirect chain or response changed")
	}
	if withoutCredentials(nil) != nil {
		t.Error("withoutCredentials(nil) != nil")
	}
	if bare := (&http.Response{StatusCode: 500}); withoutCredentials(bare) != bare {
		t.Error("a response without a request should be kept as it is")
	}
}
