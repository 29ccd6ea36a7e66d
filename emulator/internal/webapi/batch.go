package webapi

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// recorder captures the response of one batch part.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
	// entityURL is the URL of the row the part created or updated,
	// whether or not the response names it (a representation does not):
	// it is what a later part's $n stands for.
	entityURL string
}

func newRecorder() *recorder { return &recorder{header: http.Header{}} }

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.body.Write(b)
}

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

// errChangesetFailed rolls a changeset back after a part failed.
var errChangesetFailed = errors.New("changeset part failed")

// batch answers POST $batch: parts run in order through the same handlers
// as single requests; a changeset runs in one transaction and is rolled
// back when one of its parts fails. Without Prefer:
// odata.continue-on-error the batch stops at the first failure, whose
// status becomes the batch's, with only that failure in the body.
func (req *request) batch() error {
	if req.r.Method != http.MethodPost {
		return errMethodNotAllowed(req.r.Method)
	}
	if req.tx != nil {
		return errBatchFormat("A batch cannot contain another batch.")
	}
	boundary, err := batchBoundary(req.r.Header.Get("Content-Type"))
	if err != nil {
		return err
	}
	body, err := io.ReadAll(http.MaxBytesReader(req.w, req.r.Body, req.h.maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return newError(http.StatusRequestEntityTooLarge, dverr.CodePayload, "The request body is larger than the limit of %d bytes.", req.h.maxBody)
		}
		return errBatchFormat("Stream was not readable. %v", err)
	}
	parts, err := parseBatch(body, boundary)
	if err != nil {
		return err
	}
	ids := map[string]string{} // Content-ID -> entity URL
	var out bytes.Buffer
	outBoundary := "batchresponse_" + uuid.NewString()
	status := http.StatusOK
	for _, part := range parts {
		if part.request != nil {
			rec := req.runPart(part.request, nil, ids)
			if rec.code() >= 400 && !req.prefer.continueOnError {
				out.Reset()
				writeResponsePart(&out, outBoundary, rec, "")
				status = rec.code()
				break
			}
			writeResponsePart(&out, outBoundary, rec, "")
			continue
		}
		results, failed := req.runChangeset(part.changeset, ids)
		if failed != nil {
			if !req.prefer.continueOnError {
				out.Reset()
				writeResponsePart(&out, outBoundary, failed, "")
				status = failed.code()
				break
			}
			writeResponsePart(&out, outBoundary, failed, "")
			continue
		}
		csBoundary := "changesetresponse_" + uuid.NewString()
		out.WriteString("--" + outBoundary + "\r\nContent-Type: multipart/mixed; boundary=" + csBoundary + "\r\n\r\n")
		for i, rec := range results {
			writeResponsePart(&out, csBoundary, rec, part.changeset[i].contentID)
		}
		out.WriteString("--" + csBoundary + "--\r\n")
	}
	if err := req.ctx.Err(); err != nil {
		// The client went away: its parts failed for that, and the
		// handler aborts the response (see ServeHTTP).
		return err
	}
	out.WriteString("--" + outBoundary + "--\r\n")
	if req.prefer.continueOnError {
		// The preference is honoured whether or not a part failed, and
		// the service echoes honoured preferences.
		req.w.Header().Add("Preference-Applied", preferContinueOnError)
	}
	req.w.Header().Set("Content-Type", "multipart/mixed; boundary="+outBoundary)
	req.w.WriteHeader(status)
	_, _ = req.w.Write(out.Bytes())
	return nil
}

// runChangeset runs the parts of a changeset in one transaction. On a
// failure everything is rolled back and the failing part's response is
// returned.
//
// A failed changeset is answered with that one response as an
// application/http part of the batch, without the changeset's
// multipart/mixed wrapper and without a Content-ID, as OData 4.0 (part 1,
// 11.7.4) prescribes; Dataverse's batch documentation shows no failed
// changeset [unverified: the shape is the OData specification's].
func (req *request) runChangeset(parts []*batchPart, ids map[string]string) ([]*recorder, *recorder) {
	var results []*recorder
	var failed *recorder
	added := []string{}
	err := req.h.store.Write(req.ctx, func(tx *store.Tx) error {
		for _, p := range parts {
			var rec *recorder
			if p.request.method == http.MethodGet {
				rec = errorRecorder(newError(http.StatusBadRequest, dverr.CodePayload, "A GET request is not allowed inside a changeset; send it outside the changeset."))
			} else {
				rec = req.runPart(p.request, tx, ids)
			}
			if rec.code() >= 400 {
				failed = rec
				return errChangesetFailed
			}
			if p.contentID != "" && rec.entityURL != "" {
				ids[p.contentID] = rec.entityURL
				added = append(added, p.contentID)
			}
			results = append(results, rec)
		}
		return nil
	})
	if err != nil {
		for _, id := range added {
			delete(ids, id) // the rows they named were rolled back
		}
		if failed == nil {
			// The transaction itself failed (begin, commit): log the
			// cause of a 500, as for any request.
			ae, known := toAPIError(err)
			if !known || ae.status >= http.StatusInternalServerError {
				req.h.logFailure(req.ctx, "webapi: batch changeset failed", err, ae, known, "path", req.r.URL.Path)
			}
			failed = errorRecorder(ae)
		}
		return nil, failed
	}
	return results, nil
}

func errorRecorder(e *apiError) *recorder {
	rec := newRecorder()
	rec.header.Set("OData-Version", "4.0")
	writeError(rec, e)
	return rec
}

// batchOtherServiceMessage refuses a part whose absolute URL is not under
// this service's root (another host or organization, another scheme, a
// version the service does not serve): the part is never run against this
// organization by mistake. Its arguments are the URL and the service root.
// [unverified: the wording; the reference only shows absolute URLs of the
// organization itself.]
const batchOtherServiceMessage = "The request URL '%s' in the batch is not an address of this service. Use a URL under the service root %s/, or one relative to it."

// runPart runs one request of a batch as the batch's principal, inside tx
// when it belongs to a changeset. $n references to earlier Content-IDs in
// the URL and in the body are replaced by the rows' URLs.
func (req *request) runPart(br *batchRequest, tx *store.Tx, ids map[string]string) *recorder {
	target, err := req.resolveContentIDs(br.target, ids)
	if err != nil {
		return errorRecorder(err)
	}
	var full string
	switch {
	case strings.HasPrefix(target, "http://") || strings.HasPrefix(target, "https://"):
		if _, ok := req.serviceRelative(target); !ok {
			return errorRecorder(newError(http.StatusBadRequest, dverr.CodePayload, batchOtherServiceMessage, br.target, req.base))
		}
		full = target
	case strings.HasPrefix(target, "/"):
		full = req.h.orgURL + target
	default:
		full = req.base + "/" + target
	}
	u, perr := url.Parse(full)
	if perr != nil {
		return errorRecorder(newError(http.StatusBadRequest, dverr.CodePayload, "The request URL '%s' in the batch is not valid.", br.target))
	}
	if strings.HasSuffix(strings.TrimRight(u.Path, "/"), "$batch") {
		return errorRecorder(errBatchFormat("A batch cannot contain another batch."))
	}
	body := br.body
	for _, id := range sortedIDs(ids) {
		body = bytes.ReplaceAll(body, []byte(`"$`+id+`"`), []byte(strconv.Quote(ids[id])))
	}
	r, perr := http.NewRequestWithContext(req.ctx, br.method, u.String(), bytes.NewReader(body))
	if perr != nil {
		return errorRecorder(newError(http.StatusBadRequest, dverr.CodePayload, "The request '%s %s' in the batch is not valid.", br.method, br.target))
	}
	r.Header = br.header.Clone()
	r.RequestURI = u.RequestURI()
	rec := newRecorder()
	rec.header.Set("OData-Version", "4.0")
	if err := req.h.dispatch(rec, r, req.p, tx, maxBatchURLLength); err != nil {
		ae, known := toAPIError(err)
		if !known || ae.status >= http.StatusInternalServerError {
			req.h.logFailure(req.ctx, "webapi: batch part failed", err, ae, known, "method", br.method, "target", truncate(br.target, 256))
		}
		prefer, _ := parsePrefer(r.Header.Values("Prefer"))
		rec = newRecorder()
		rec.header.Set("OData-Version", "4.0")
		writeErrorDetails(rec, ae, prefer)
	}
	return rec
}

// resolveContentIDs replaces a leading $n in a part's URL.
func (req *request) resolveContentIDs(target string, ids map[string]string) (string, *apiError) {
	if !strings.HasPrefix(target, "$") {
		return target, nil
	}
	ref, rest, _ := strings.Cut(target[1:], "/")
	if ref == "batch" || ref == "metadata" {
		return target, nil
	}
	loc, ok := ids[ref]
	if !ok {
		return "", newError(http.StatusBadRequest, dverr.CodePayload, "Content-ID Reference: '$%s' does not exist in the batch context.", ref)
	}
	if rest != "" {
		return loc + "/" + rest, nil
	}
	return loc, nil
}

// sortedIDs orders Content-IDs longest first, so "$10" is replaced
// before "$1".
func sortedIDs(ids map[string]string) []string {
	out := make([]string, 0, len(ids))
	for id := range ids {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool {
		return len(out[i]) > len(out[j]) || (len(out[i]) == len(out[j]) && out[i] < out[j])
	})
	return out
}

// leadingPartHeaders are written first, in this order, as Dataverse's
// batch responses show them (an error part: REQ_ID, Content-Type,
// OData-Version; a create: OData-Version, Location, OData-EntityId); the
// others follow sorted.
var leadingPartHeaders = []string{"Req_id", "Content-Type", "Odata-Version", "Location", "Odata-Entityid"}

// writeResponsePart writes one application/http part of a batch
// response. An error part carries its own REQ_ID, as each failed request
// of a batch has its own request id.
func writeResponsePart(out *bytes.Buffer, boundary string, rec *recorder, contentID string) {
	out.WriteString("--" + boundary + "\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n")
	if contentID != "" {
		out.WriteString("Content-ID: " + contentID + "\r\n")
	}
	out.WriteString("\r\n")
	status := rec.code()
	out.WriteString("HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) + "\r\n")
	h := rec.header.Clone()
	if loc := h.Get("OData-EntityId"); loc != "" && h.Get("Location") == "" {
		h.Set("Location", loc)
	}
	if ct := h.Get("Content-Type"); strings.HasPrefix(ct, contentTypeJSON) && status == http.StatusOK {
		h.Set("Content-Type", contentTypeJSON+"; odata.streaming=true")
	}
	if status >= 400 && h.Get("REQ_ID") == "" {
		h.Set("REQ_ID", uuid.NewString())
	}
	names := make([]string, 0, len(h))
	for _, name := range leadingPartHeaders {
		if _, ok := h[name]; ok {
			names = append(names, name)
		}
	}
	rest := make([]string, 0, len(h))
	for name := range h {
		if !slices.Contains(leadingPartHeaders, name) {
			rest = append(rest, name)
		}
	}
	sort.Strings(rest)
	names = append(names, rest...)
	for _, name := range names {
		for _, v := range h[name] {
			out.WriteString(headerSpelling(name) + ": " + v + "\r\n")
		}
	}
	out.WriteString("\r\n")
	out.Write(rec.body.Bytes())
	out.WriteString("\r\n") // the CRLF that belongs to the next delimiter
}

// headerSpellings restores Dataverse's spelling of header names that Go
// canonicalises (OData-EntityId, not Odata-Entityid).
var headerSpellings = map[string]string{
	"Odata-Entityid": "OData-EntityId", "Odata-Version": "OData-Version", "Etag": "ETag", "Req_id": "REQ_ID",
	"X-Ms-Service-Request-Id": "x-ms-service-request-id",
}

func headerSpelling(name string) string {
	if s, ok := headerSpellings[name]; ok {
		return s
	}
	return name
}

// truncate shortens s for a log line.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
