package dataverse

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// partRequest is an embedded request as a server reads it.
type partRequest struct {
	ContentID, Method, Target string
	Header                    http.Header
	Body                      []byte
	ChangeSet                 int // 0 outside change sets, else 1-based change-set number
}

// readBatchRequest parses a $batch request body with the standard library.
func readBatchRequest(t *testing.T, contentType string, body []byte) []partRequest {
	t.Helper()
	var out []partRequest
	cs := 0
	var walk func(ct string, r io.Reader, inCS int)
	walk = func(ct string, r io.Reader, inCS int) {
		_, params, err := mime.ParseMediaType(ct)
		if err != nil {
			t.Errorf("content type %q: %v", ct, err)
			return
		}
		mr := multipart.NewReader(r, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return
			}
			if err != nil {
				t.Errorf("part: %v", err)
				return
			}
			pct := p.Header.Get("Content-Type")
			if strings.HasPrefix(pct, "multipart/mixed") {
				cs++
				walk(pct, p, cs)
				continue
			}
			// net/http does not accept "$1/x" as a request target; read the
			// request line by hand and let it parse the rest.
			br := bufio.NewReader(p)
			line, _ := br.ReadString('\n')
			method, rest, _ := strings.Cut(strings.TrimRight(line, "\r\n"), " ")
			target, proto, _ := strings.Cut(rest, " ")
			req, err := http.ReadRequest(bufio.NewReader(io.MultiReader(strings.NewReader(method+" /placeholder "+proto+"\r\n"), br)))
			if err != nil {
				t.Errorf("embedded request: %v", err)
				return
			}
			b, _ := io.ReadAll(req.Body)
			out = append(out, partRequest{ContentID: p.Header.Get("Content-ID"), Method: req.Method, Target: target, Header: req.Header, Body: b, ChangeSet: inCS})
		}
	}
	walk(contentType, bytes.NewReader(body), 0)
	return out
}

// batchEcho answers each part of a $batch: GETs with a one-row page,
// creates with 204 and OData-EntityId, other writes with 204. respond may
// override the answer for a part.
func batchEcho(t *testing.T, base func() string, respond func(p partRequest) (status int, header, body string, ok bool)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || !strings.HasSuffix(r.URL.Path, "/$batch") {
			t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
			return
		}
		body, _ := io.ReadAll(r.Body)
		parts := readBatchRequest(t, r.Header.Get("Content-Type"), body)
		var out bytes.Buffer
		csOpen := 0
		for i, p := range parts {
			if p.ChangeSet != csOpen {
				if csOpen != 0 {
					fmt.Fprintf(&out, "--changesetresponse_%d--\r\n", csOpen)
				}
				if p.ChangeSet != 0 {
					fmt.Fprintf(&out, "--batchresponse_x\r\nContent-Type: multipart/mixed; boundary=changesetresponse_%d\r\n\r\n", p.ChangeSet)
				}
				csOpen = p.ChangeSet
			}
			status, header, respBody := 204, "", ""
			switch {
			case p.Method == "GET":
				status, header, respBody = 200, "Content-Type: application/json; odata.metadata=minimal; odata.streaming=true\r\n", `{"value":[{"n":`+fmt.Sprint(i)+`}]}`
			case p.Method == "POST":
				header = fmt.Sprintf("Location: %[1]sx(00000000-0000-0000-0000-%012d)\r\nOData-EntityId: %[1]sx(00000000-0000-0000-0000-%012d)\r\n", base(), i)
			}
			if respond != nil {
				if s, h, b, ok := respond(p); ok {
					status, header, respBody = s, h, b
				}
			}
			if p.ChangeSet != 0 {
				fmt.Fprintf(&out, "--changesetresponse_%d\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: %s\r\n\r\n", p.ChangeSet, p.ContentID)
			} else {
				out.WriteString("--batchresponse_x\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n")
			}
			fmt.Fprintf(&out, "HTTP/1.1 %d %s\r\n%s\r\n%s\r\n", status, http.StatusText(status), header, respBody)
		}
		if csOpen != 0 {
			fmt.Fprintf(&out, "--changesetresponse_%d--\r\n", csOpen)
		}
		out.WriteString("--batchresponse_x--\r\n")
		w.Header().Set("Content-Type", "multipart/mixed; boundary=batchresponse_x")
		w.WriteHeader(200)
		_, _ = w.Write(out.Bytes())
	}
}
