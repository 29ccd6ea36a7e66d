package webapi

import (
	"bufio"
	"bytes"
	"fmt"
	"mime"
	"net/http"
	"net/textproto"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
)

// maxBatchRequests is the most requests one $batch may hold.
const maxBatchRequests = 1000

// batchPart is one item of a $batch body: a request, or a changeset of
// requests.
type batchPart struct {
	contentID string
	request   *batchRequest
	changeset []*batchPart // requests of a changeset
}

// batchRequest is an HTTP request written inside a batch part.
type batchRequest struct {
	method string
	target string // as written: absolute URL, path, or $n-relative
	header http.Header
	body   []byte
}

// errBatchFormat is Dataverse's answer to a batch body it cannot read.
func errBatchFormat(format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, dverr.CodePayload, "Error identified in Payload provided by the user for Entity :'$batch', For more information on this error please follow this help link %s  ---->  InnerException : Microsoft.OData.ODataException: %s",
		payloadHelpLink, fmt.Sprintf(format, args...))
}

// batchBoundary reads the boundary of a multipart/mixed Content-Type.
func batchBoundary(contentType string) (string, error) {
	media, params, err := mime.ParseMediaType(contentType)
	if err != nil || media != "multipart/mixed" || params["boundary"] == "" {
		if contentType == "" {
			contentType = "(none)"
		}
		return "", newError(http.StatusBadRequest, dverr.CodePayload,
			"The content type '%s' of a $batch request must be multipart/mixed with a boundary.", contentType)
	}
	return params["boundary"], nil
}

// requireFinalCRLF makes a $batch body whose closing delimiter
// ("--batch_X--") is not followed by CRLF unreadable, as the reference
// says of Dataverse ("a missing final CRLF yields 400 … Stream was not
// readable.") [unverified: whether trailing whitespace other than CRLF is
// tolerated]. A changeset's closing delimiter is followed by the CRLF
// that begins the batch's next delimiter, so only the batch's is checked.
const requireFinalCRLF = true

// splitMultipart splits a multipart body into its parts (headers and
// body). Framing lines must end in CRLF, as Dataverse requires; outer
// marks the batch body itself, whose closing delimiter must end with CRLF
// too (requireFinalCRLF).
func splitMultipart(body []byte, boundary string, outer bool) ([][]byte, error) {
	delim := []byte("--" + boundary)
	var parts [][]byte
	// The body starts with a delimiter (a preamble is allowed before it).
	start := bytes.Index(body, delim)
	if start < 0 || (start > 0 && !bytes.HasSuffix(body[:start], []byte("\r\n"))) {
		return nil, errBatchFormat("Stream was not readable. The batch boundary '%s' was not found at the start of a line.", boundary)
	}
	pos := start + len(delim)
	for {
		if bytes.HasPrefix(body[pos:], []byte("--")) {
			rest := body[pos+2:]
			if outer && requireFinalCRLF && !bytes.HasPrefix(rest, []byte("\r\n")) {
				return nil, errBatchFormat("Stream was not readable. The closing batch boundary '--%s--' must end with CRLF.", boundary)
			}
			if len(bytes.TrimSpace(rest)) != 0 && !bytes.HasPrefix(rest, []byte("\r\n")) {
				return nil, errBatchFormat("Stream was not readable. Unexpected content after the closing batch boundary.")
			}
			return parts, nil
		}
		if !bytes.HasPrefix(body[pos:], []byte("\r\n")) {
			return nil, errBatchFormat("Stream was not readable. A batch boundary line must end with CRLF.")
		}
		pos += 2
		next := bytes.Index(body[pos:], append([]byte("\r\n"), delim...))
		if next < 0 {
			return nil, errBatchFormat("Stream was not readable. The closing batch boundary '--%s--' is missing.", boundary)
		}
		parts = append(parts, body[pos:pos+next])
		pos += next + 2 + len(delim)
	}
}

// splitHeaders separates a CRLF header block from what follows the empty
// line.
func splitHeaders(part []byte) (http.Header, []byte, error) {
	end := bytes.Index(part, []byte("\r\n\r\n"))
	var head, rest []byte
	switch {
	case end >= 0:
		head, rest = part[:end+2], part[end+4:]
	case bytes.HasSuffix(part, []byte("\r\n")):
		head = part
	default:
		if bytes.Contains(part, []byte("\n\n")) {
			return nil, nil, errBatchFormat("Stream was not readable. Header lines in a batch must end with CRLF.")
		}
		head = append(append([]byte{}, part...), '\r', '\n')
	}
	if bytes.Contains(bytes.ReplaceAll(head, []byte("\r\n"), nil), []byte("\n")) {
		return nil, nil, errBatchFormat("Stream was not readable. Header lines in a batch must end with CRLF.")
	}
	tp := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(head, '\r', '\n'))))
	h, err := tp.ReadMIMEHeader()
	if err != nil {
		return nil, nil, errBatchFormat("Stream was not readable. %v", err)
	}
	return http.Header(h), rest, nil
}

// parseBatch reads a $batch body into its parts.
func parseBatch(body []byte, boundary string) ([]*batchPart, error) {
	raw, err := splitMultipart(body, boundary, true)
	if err != nil {
		return nil, err
	}
	var parts []*batchPart
	count := 0
	for _, r := range raw {
		h, content, err := splitHeaders(r)
		if err != nil {
			return nil, err
		}
		ct := h.Get("Content-Type")
		media, params, _ := mime.ParseMediaType(ct)
		switch media {
		case "application/http":
			req, err := parseEmbeddedRequest(content)
			if err != nil {
				return nil, err
			}
			parts = append(parts, &batchPart{contentID: h.Get("Content-ID"), request: req})
			count++
		case "multipart/mixed":
			inner, err := splitMultipart(content, params["boundary"], false)
			if err != nil {
				return nil, err
			}
			cs := &batchPart{}
			for _, ir := range inner {
				ih, icontent, err := splitHeaders(ir)
				if err != nil {
					return nil, err
				}
				if m, _, _ := mime.ParseMediaType(ih.Get("Content-Type")); m != "application/http" {
					if m == "multipart/mixed" {
						return nil, errBatchFormat("A changeset cannot contain another changeset or batch.")
					}
					return nil, errBatchFormat("A changeset part must have Content-Type application/http, not '%s'.", ih.Get("Content-Type"))
				}
				req, err := parseEmbeddedRequest(icontent)
				if err != nil {
					return nil, err
				}
				id := ih.Get("Content-ID")
				if id == "" {
					id = req.header.Get("Content-ID")
				}
				cs.changeset = append(cs.changeset, &batchPart{contentID: id, request: req})
				count++
			}
			parts = append(parts, cs)
		default:
			return nil, errBatchFormat("A batch part must have Content-Type application/http or multipart/mixed, not '%s'.", ct)
		}
		if count > maxBatchRequests {
			return nil, newError(http.StatusBadRequest, dverr.CodePayload, "The number of requests in the batch exceeds the maximum of %d.", maxBatchRequests)
		}
	}
	return parts, nil
}

// parseEmbeddedRequest reads "METHOD target HTTP/1.1", headers and body.
func parseEmbeddedRequest(content []byte) (*batchRequest, error) {
	line, rest, ok := bytes.Cut(content, []byte("\r\n"))
	if !ok {
		return nil, errBatchFormat("Stream was not readable. A batch request line must end with CRLF.")
	}
	fields, ok := splitRequestLine(string(line))
	if !ok {
		return nil, errBatchFormat("The request line '%s' is not of the form 'METHOD URL HTTP/1.1'.", line)
	}
	var h http.Header
	var body []byte
	if bytes.HasPrefix(rest, []byte("\r\n")) {
		h, body = http.Header{}, rest[2:]
	} else {
		var err error
		if h, body, err = splitHeaders(rest); err != nil {
			return nil, err
		}
	}
	switch fields[0] {
	case http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete:
	default:
		return nil, errBatchFormat("The method '%s' is not valid in a batch request.", fields[0])
	}
	return &batchRequest{method: fields[0], target: fields[1], header: h, body: bytes.TrimRight(body, "\r\n")}, nil
}

// splitRequestLine reads "METHOD URL HTTP/1.1". The URL is everything
// between the first and the last space, so a URL written with raw spaces
// (a $filter such as "name eq 'a b'" that a client did not encode) stays
// one URL, as Dataverse reads it.
func splitRequestLine(line string) (fields [3]string, ok bool) {
	first := strings.IndexByte(line, ' ')
	last := strings.LastIndexByte(line, ' ')
	if first <= 0 || last <= first+1 {
		return fields, false
	}
	fields = [3]string{line[:first], strings.TrimSpace(line[first+1 : last]), line[last+1:]}
	if fields[1] == "" || !strings.HasPrefix(fields[2], "HTTP/") || strings.ContainsAny(fields[0]+fields[2], " \t") {
		return fields, false
	}
	return fields, true
}
