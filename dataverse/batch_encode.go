package dataverse

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Writing the multipart/mixed body of a $batch request. Line endings are
// CRLF everywhere: the service rejects LF-only bodies ("Stream was not
// readable"). Each part is an HTTP request whose header block ends with an
// empty line, followed by the body, then the CRLF that starts the next
// boundary delimiter.

// batchMethods are the methods a batch operation may use.
var batchMethods = []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete}

// encodeBatch writes items as a $batch body with the given boundaries.
func (c *Client) encodeBatch(w *bytes.Buffer, items []batchItem, boundary string, changesetBoundary func() string) error {
	for _, it := range items {
		if it.req != nil {
			w.WriteString("--" + boundary + "\r\n")
			w.WriteString("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n")
			if err := c.writeBatchRequest(w, it.req, nil); err != nil {
				return err
			}
			continue
		}
		if len(it.cs.ops) == 0 {
			continue
		}
		cs := changesetBoundary()
		w.WriteString("--" + boundary + "\r\n")
		w.WriteString("Content-Type: multipart/mixed; boundary=" + cs + "\r\n\r\n")
		declared := map[string]bool{}
		for _, op := range it.cs.ops {
			w.WriteString("--" + cs + "\r\n")
			w.WriteString("Content-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: " + op.contentID + "\r\n\r\n")
			if err := c.writeBatchRequest(w, op, declared); err != nil {
				return err
			}
			declared[op.contentID] = true
		}
		w.WriteString("--" + cs + "--\r\n")
	}
	w.WriteString("--" + boundary + "--\r\n")
	return nil
}

// writeBatchRequest writes one embedded HTTP request. declared holds the
// Content-IDs a change-set operation may reference; nil outside change sets.
func (c *Client) writeBatchRequest(w *bytes.Buffer, op *batchOp, declared map[string]bool) error {
	fail := func(format string, args ...any) error {
		return invalidf("dataverse: batch operation %d: "+format, append([]any{op.index}, args...)...)
	}
	method := strings.ToUpper(op.Method)
	if !slices.Contains(batchMethods, method) {
		return fail("method %q is not GET, POST, PATCH, PUT or DELETE", op.Method)
	}
	target, err := c.batchTarget(op.Path, declared)
	if err != nil {
		return fail("%w", err)
	}
	var body []byte
	if op.Body != nil {
		if body, err = marshalBody(op.Body); err != nil {
			return fail("%w", err)
		}
	}
	w.WriteString(method + " " + target + " HTTP/1.1\r\n")
	names := make([]string, 0, len(op.Header)+1)
	for name := range op.Header {
		names = append(names, http.CanonicalHeaderKey(name))
	}
	hasType := slices.Contains(names, "Content-Type")
	if body != nil && !hasType {
		names = append(names, "Content-Type")
	}
	slices.Sort(names)
	names = slices.Compact(names)
	for _, name := range names {
		values := op.Header.Values(name)
		if name == "Content-Type" && !hasType {
			values = []string{"application/json"}
		}
		for _, v := range values {
			if strings.ContainsAny(name+v, "\r\n") || strings.ContainsAny(name, " :") {
				return fail("header %q is not a valid header line", name)
			}
			w.WriteString(name + ": " + v + "\r\n")
		}
	}
	w.WriteString("\r\n")
	w.Write(body)
	w.WriteString("\r\n")
	return nil
}

// batchTarget returns the request target of an embedded request: the
// absolute path below the Web API base, or a "$n" reference kept as is.
func (c *Client) batchTarget(path string, declared map[string]bool) (string, error) {
	if path == "" {
		return "", fmt.Errorf("the path is empty")
	}
	if strings.ContainsAny(path, " \t\r\n#") {
		return "", fmt.Errorf("path %q must be URL-encoded", truncate(path, 120))
	}
	if ref, ok := strings.CutPrefix(path, "$"); ok && ref != "" && ref[0] >= '0' && ref[0] <= '9' {
		id, _, _ := strings.Cut(ref, "/")
		id, _, _ = strings.Cut(id, "?")
		if _, err := strconv.Atoi(id); err != nil {
			return "", fmt.Errorf("%q is not a Content-ID reference", path)
		}
		if declared == nil {
			return "", fmt.Errorf("Content-ID reference %q is only valid inside a change set", path)
		}
		if !declared[id] {
			return "", fmt.Errorf("Content-ID reference %q names no earlier operation of the change set", path)
		}
		return path, nil
	}
	if !strings.HasPrefix(path, "https://") && !strings.HasPrefix(path, "http://") {
		path = strings.TrimLeft(path, "/") // relative to the Web API base
	}
	u, err := c.resolveLink(path)
	if err != nil {
		return "", err
	}
	return u.RequestURI(), nil
}
