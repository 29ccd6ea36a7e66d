package cli

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAPICmdFlags parses "d365 api" command lines with a runF that captures the options, and
// checks each refusal's message and exit code (2) without a process or a server.
func TestAPICmdFlags(t *testing.T) {
	type parsed struct {
		Method, Path, Data string
		Header             http.Header
		Paginate, Include  bool
	}
	tests := []struct {
		args    []string
		want    parsed
		wantErr string
	}{
		{[]string{"WhoAmI"}, parsed{Method: "GET", Path: "WhoAmI", Header: http.Header{}}, ""},
		{[]string{"contacts", "--data", "{}"}, parsed{Method: "POST", Path: "contacts", Data: "{}", Header: http.Header{}}, ""},
		{[]string{"patch", "contacts(1)", "--data", "@f.json", "-H", "If-Match: *", "--header", "Prefer:return=representation"},
			parsed{Method: "PATCH", Path: "contacts(1)", Data: "@f.json", Header: http.Header{"If-Match": {"*"}, "Prefer": {"return=representation"}}}, ""},
		{[]string{"contacts?$filter=lastname eq 'x'", "--paginate", "-i"},
			parsed{Method: "GET", Path: "contacts?$filter=lastname%20eq%20'x'", Header: http.Header{}, Paginate: true, Include: true}, ""},
		{[]string{"DELETE", "contacts(1)"}, parsed{Method: "DELETE", Path: "contacts(1)", Header: http.Header{}}, ""},
		{[]string{}, parsed{}, "d365 api takes an optional method and a path (got 0 argument(s))"},
		{[]string{"GET", "a", "b"}, parsed{}, "(got 3 argument(s))"},
		{[]string{"HEAD", "contacts"}, parsed{}, `"HEAD" is not a method d365 api sends`},
		{[]string{"GET", " "}, parsed{}, "the path is empty"},
		{[]string{"WhoAmI", "-H", "authorization: Bearer x"}, parsed{}, "d365 sends the connection's own token"},
		{[]string{"WhoAmI", "-H", "Bad Name: x"}, parsed{}, `--header "Bad Name: x" is not "Name: value"`},
		{[]string{"WhoAmI", "-H", "NoColon"}, parsed{}, `is not "Name: value"`},
		{[]string{"POST", "contacts", "--paginate"}, parsed{}, "--paginate follows the pages of a GET, not of a POST"},
		{[]string{"GET", "contacts", "--data", "{}"}, parsed{}, "a GET has no body"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			f, _ := testFactory(outputYAML)
			var got *apiOptions
			err := executeCmd(newCmdAPI(f, func(o *apiOptions) error { got = o; return nil }), "", tt.args...)
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, got != nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Output != outputYAML || got.IO != f.IOStreams || got.Context == nil {
				t.Errorf("Output %q, IO %p, Context %v: not the factory's", got.Output, got.IO, got.Context)
			}
			p := parsed{got.Method, got.Path, got.Data, got.Header, got.Paginate, got.Include}
			if diff := cmp.Diff(tt.want, p); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestAPIRunRefusesBadData runs apiRun with a body that is not JSON: refused before any
// connection is made (the factory's Session fails if called), unless a Content-Type says the
// body is something else.
func TestAPIRunRefusesBadData(t *testing.T) {
	for _, tt := range []struct {
		data, contentType, want string
	}{
		{`{"a":`, "", "--data is not valid JSON"},
		{"plain", "application/json; charset=utf-8", "--data is not valid JSON"},
		{"@/nonexistent/body.json", "", "read --data @/nonexistent/body.json"},
	} {
		t.Run(tt.data, func(t *testing.T) {
			f, _ := testFactory(outputJSON)
			h := http.Header{}
			if tt.contentType != "" {
				h.Set("Content-Type", tt.contentType)
			}
			err := apiRun(&apiOptions{IO: f.IOStreams, Session: f.Session, Method: "POST", Path: "x", Data: tt.data, Header: h})
			checkRefusal(t, err, tt.want, false)
		})
	}
	// A multipart body is not checked as JSON: the run gets as far as connecting.
	f, _ := testFactory(outputJSON)
	err := apiRun(&apiOptions{IO: f.IOStreams, Session: f.Session, Method: "POST", Path: "$batch", Data: "--b\n",
		Header: http.Header{"Content-Type": {"multipart/mixed; boundary=b"}}})
	if err == nil || !strings.Contains(err.Error(), "no client in a flag test") {
		t.Fatalf("err = %v, want the factory's refusal to connect", err)
	}
}

func TestToCRLF(t *testing.T) {
	for in, want := range map[string]string{
		"a\nb\n":     "a\r\nb\r\n",
		"a\r\nb\n":   "a\r\nb\r\n",
		"a\r\n\r\nb": "a\r\n\r\nb",
		"":           "",
	} {
		if got := string(toCRLF([]byte(in))); got != want {
			t.Errorf("toCRLF(%q) = %q, want %q", in, got, want)
		}
	}
}
