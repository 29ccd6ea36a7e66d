package emulator_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// batchPartAnswers posts a raw $batch body and returns the status line and body of each part of
// the answer.
func batchPartAnswers(t *testing.T, emu interface {
	OrgURL() string
	HTTPClient() *http.Client
}, token, boundary, body string) (outer int, parts []*http.Response, bodies []string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, emu.OrgURL()+"/api/data/v9.2/$batch", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", `multipart/mixed; boundary="`+boundary+`"`)
	req.Header.Set("OData-Version", "4.0")
	resp, err := emu.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	media, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || media != "multipart/mixed" {
		raw, _ := io.ReadAll(resp.Body)
		t.Fatalf("batch answer %d %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), raw)
	}
	mr := multipart.NewReader(resp.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(p)
		pr, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(raw)), nil)
		if err != nil {
			t.Fatalf("part %q: %v", raw, err)
		}
		b, _ := io.ReadAll(pr.Body)
		parts, bodies = append(parts, pr), append(bodies, string(b))
	}
	return resp.StatusCode, parts, bodies
}

// A $batch request line's URL is everything between the first and the last space: a GET whose
// $filter a client did not percent-encode ("name eq 'Blue Yonder'") is one URL, not a
// malformed line.
func TestBatchRequestLineWithRawSpaces(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	token := v1Token(t, emu)
	for _, name := range []string{"Blue Yonder Airlines", "Contoso", "Blue Yonder"} {
		if r := callAPI(t, emu, token, http.MethodPost, "accounts", `{"name":"`+name+`"}`); r.status != http.StatusNoContent {
			t.Fatalf("create %s: %d %s", name, r.status, r.message)
		}
	}
	body := strings.ReplaceAll(`--batch_raw
Content-Type: application/http
Content-Transfer-Encoding: binary

GET /api/data/v9.2/accounts?$select=name&$filter=name eq 'Blue Yonder' and contains(name, 'Yonder') HTTP/1.1
Accept: application/json

--batch_raw
Content-Type: application/http
Content-Transfer-Encoding: binary

GET accounts?$select=name&$filter=startswith(name, 'Blue Yonder')&$orderby=name desc HTTP/1.1

--batch_raw--
`, "\n", "\r\n")
	outer, parts, bodies := batchPartAnswers(t, emu, token, "batch_raw", body)
	if outer != http.StatusOK || len(parts) != 2 {
		t.Fatalf("outer %d with %d parts, want 200 with 2: %q", outer, len(parts), bodies)
	}
	if parts[0].StatusCode != http.StatusOK || strings.Count(bodies[0], `"name"`) != 1 || !strings.Contains(bodies[0], `"name":"Blue Yonder"`) {
		t.Errorf("equality with raw spaces: %d %s", parts[0].StatusCode, bodies[0])
	}
	if parts[1].StatusCode != http.StatusOK || !strings.Contains(bodies[1], `"Blue Yonder Airlines"`) ||
		strings.Index(bodies[1], `"Blue Yonder Airlines"`) > strings.Index(bodies[1], `"Blue Yonder"`) || strings.Contains(bodies[1], "Contoso") {
		t.Errorf("startswith and orderby with raw spaces: %d %s", parts[1].StatusCode, bodies[1])
	}
	// The last space ends the URL: "HTTP/1.1 extra" is not a protocol, and the batch is refused
	// naming the line.
	bad := strings.ReplaceAll("--b\nContent-Type: application/http\n\nGET accounts?$filter=name eq 'x' HTTP/1.1 extra\n\n--b--\n", "\n", "\r\n")
	r := rawBatch(t, emu, token, "b", bad)
	if r.status != http.StatusBadRequest || !strings.Contains(r.message, "The request line 'GET accounts?$filter=name eq 'x' HTTP/1.1 extra' is not of the form 'METHOD URL HTTP/1.1'") {
		t.Errorf("malformed request line: %d %s", r.status, r.message)
	}
}

// rawBatch posts a $batch body whose answer is one JSON error.
func rawBatch(t *testing.T, emu interface {
	OrgURL() string
	HTTPClient() *http.Client
}, token, boundary, body string) apiResult {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, emu.OrgURL()+"/api/data/v9.2/$batch", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "multipart/mixed; boundary="+boundary)
	resp, err := emu.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	res := apiResult{status: resp.StatusCode}
	var m map[string]any
	if json.Unmarshal(raw, &m) == nil {
		if e, ok := m["error"].(map[string]any); ok {
			res.code, _ = e["code"].(string)
			res.message, _ = e["message"].(string)
		}
	}
	return res
}

// A query parameter the emulator does not serve is refused with 400 naming it, on every route
// and inside $batch; what it serves today still works.
func TestUnknownQueryParametersAreRefused(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	token := v1Token(t, emu)
	for _, name := range []string{"Alpha", "Beta", "Gamma", "Delta"} {
		if r := callAPI(t, emu, token, http.MethodPost, "accounts", `{"name":"`+name+`"}`); r.status != http.StatusNoContent {
			t.Fatalf("create: %d %s", r.status, r.message)
		}
	}
	for _, tt := range []struct {
		path     string
		wantCode string // "" = served (200)
		wantName string
	}{
		{"accounts?sql=SELECT%20name%20FROM%20account%20WHERE%20name%3D%27Alpha%27", "0x0", "sql"},
		{"accounts?$select=name&utm_source=FetchXMLBuilder", "0x0", "utm_source"},
		{"accounts?$skip=2", "0x80060888", "$skip"},
		{"accounts?$Filter=name%20eq%20'Alpha'", "0x80060888", "$Filter"},
		{"WhoAmI?debug=1", "0x0", "debug"},
		{"WhoAmI?LabelLanguages=1033", "0x0", "LabelLanguages"},
		{"$metadata?LabelLanguages=1033", "0x0", "LabelLanguages"},
		{"accounts?x-ms-file-name=a.txt", "0x0", "x-ms-file-name"},
		// Served: system options, aliases, FetchXML, tag, paging tokens, LabelLanguages on metadata.
		{"accounts?$select=name&$filter=name%20eq%20@p1&@p1='Alpha'", "", ""},
		{"accounts?$select=name&$top=2&$count=true&tag=mytag", "", ""},
		{"accounts?fetchXml=" + strings.ReplaceAll(`<fetch><entity name="account"><attribute name="name"/></entity></fetch>`, " ", "%20"), "", ""},
		{"EntityDefinitions?$select=LogicalName&LabelLanguages=1033", "", ""},
		{"EntityDefinitions(LogicalName='account')?$select=LogicalName&LabelLanguages=1033", "", ""},
		{"RetrieveTotalRecordCount(EntityNames=@p1)?@p1=%5B%22account%22%5D", "", ""},
	} {
		r := callAPI(t, emu, token, http.MethodGet, tt.path, "")
		if tt.wantCode == "" {
			if r.status != http.StatusOK {
				t.Errorf("GET %s: %d %s %s, want 200", tt.path, r.status, r.code, r.message)
			}
			continue
		}
		if r.status != http.StatusBadRequest || r.code != tt.wantCode || r.message != "The query parameter "+tt.wantName+" is not supported" {
			t.Errorf("GET %s: %d %q %q, want 400 %s naming %s", tt.path, r.status, r.code, r.message, tt.wantCode, tt.wantName)
		}
	}
	// ?sql= must not have returned the rows: the refusal carries no value array.
	if r := callAPI(t, emu, token, http.MethodGet, "accounts?sql=x", ""); r.body["value"] != nil {
		t.Errorf("?sql= answered rows: %v", r.body)
	}
	body := strings.ReplaceAll(`--b
Content-Type: application/http
Content-Transfer-Encoding: binary

GET accounts?$select=name&sql=select HTTP/1.1

--b--
`, "\n", "\r\n")
	_, parts, bodies := batchPartAnswers(t, emu, token, "b", body)
	if len(parts) != 1 || parts[0].StatusCode != http.StatusBadRequest || !strings.Contains(bodies[0], "The query parameter sql is not supported") {
		t.Errorf("inside $batch: %d parts %q", len(parts), bodies)
	}
}

// Two Authorization headers are refused on the Web API's data routes (a collection read and a
// $batch) as on WhoAmI, whichever token comes first, before any row is read or written.
func TestTwoAuthorizationHeadersOnDataRoutes(t *testing.T) {
	t.Parallel()
	emu := start(t, nil)
	token := v1Token(t, emu)
	batch := strings.ReplaceAll("--b\nContent-Type: application/http\nContent-Transfer-Encoding: binary\n\nPOST accounts HTTP/1.1\nContent-Type: application/json\n\n{\"name\":\"sneaked in\"}\n--b--\n", "\n", "\r\n")
	for _, tt := range []struct {
		name, method, path, contentType, body string
	}{
		{"collection read", http.MethodGet, "accounts?$select=name", "", ""},
		{"create", http.MethodPost, "accounts", "application/json", `{"name":"sneaked in"}`},
		{"batch", http.MethodPost, "$batch", `multipart/mixed; boundary="b"`, batch},
	} {
		for _, order := range [][]string{{"Bearer " + token, "Bearer forged"}, {"Bearer forged", "Bearer " + token}} {
			req, _ := http.NewRequest(tt.method, emu.OrgURL()+"/api/data/v9.2/"+tt.path, strings.NewReader(tt.body))
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			for _, h := range order {
				req.Header.Add("Authorization", h)
			}
			resp, err := emu.HTTPClient().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(raw), `"code":"0x0"`) {
				t.Errorf("%s: %d %s, want 400 0x0", tt.name, resp.StatusCode, raw)
			}
			if strings.Contains(string(raw), token) {
				t.Errorf("%s: the answer echoes the token", tt.name)
			}
		}
	}
	if r := callAPI(t, emu, token, http.MethodGet, "accounts?$select=name", ""); r.status != http.StatusOK || len(r.body["value"].([]any)) != 0 {
		t.Errorf("a refused request wrote rows: %v", r.body)
	}
}
