package webapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// payloadHelpLink is the help link Dataverse puts in payload errors.
const payloadHelpLink = "https://go.microsoft.com/fwlink/?linkid=2195293"

// errPayload is Dataverse's error for a body it cannot read, with the
// ODataLib reason inside.
func errPayload(t *schema.Table, format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, dverr.CodePayload,
		"Error identified in Payload provided by the user for Entity :'%s', For more information on this error please follow this help link %s  ---->  InnerException : Microsoft.OData.ODataException: %s",
		t.EntitySetName, payloadHelpLink, fmt.Sprintf(format, args...))
}

func errInvalidProperty(name string, t *schema.Table) *apiError {
	return newError(http.StatusBadRequest, dverr.CodeODataError,
		"An error occurred while validating input parameters: Microsoft.Crm.CrmException: Invalid property '%s' was found in entity '%s'.", name, t.EntityTypeName())
}

// checkJSONContentType accepts application/json with any parameters
// (charset, odata.metadata, type=entry); anything else is 415.
func checkJSONContentType(r *http.Request) error {
	ct := r.Header.Get("Content-Type")
	media, _, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || media != "application/json" {
		if ct == "" {
			ct = "(none)"
		}
		return newError(http.StatusUnsupportedMediaType, dverr.CodeODataError,
			"The request entity's media type '%s' is not supported for this resource. Send JSON with Content-Type: application/json.", ct)
	}
	return nil
}

// bufferedBody is a request body already read in full (traffic.BufferedBody); its bytes must
// not be modified.
type bufferedBody interface {
	io.ReadCloser
	Bytes() []byte
}

// readBody reads the whole request body for table t within the size limit, and refuses one
// whose cost exceeds the bounds of bodycost.go before anything decodes it.
func (req *request) readBody(t *schema.Table) ([]byte, error) {
	if err := checkJSONContentType(req.r); err != nil {
		return nil, err
	}
	var body []byte
	if b, ok := req.r.Body.(bufferedBody); ok && int64(len(b.Bytes())) <= req.h.maxBody {
		// Read ahead by the traffic middleware (before metering): no second copy.
		body = b.Bytes()
	} else {
		var err error
		body, err = io.ReadAll(http.MaxBytesReader(req.w, req.r.Body, req.h.maxBody))
		if err != nil {
			var tooLarge *http.MaxBytesError
			if errors.As(err, &tooLarge) {
				return nil, newError(http.StatusRequestEntityTooLarge, dverr.CodePayload,
					"The request body is larger than the limit of %d bytes.", req.h.maxBody)
			}
			return nil, newError(http.StatusBadRequest, dverr.CodePayload, "The request body could not be read: %v", err)
		}
	}
	if err := req.h.checkBodyCost(t, body); err != nil {
		return nil, err
	}
	return body, nil
}

// member is one name/value pair of a JSON object, in document order.
type member struct {
	name  string
	value json.RawMessage
}

// readObject splits a JSON object into its members, refusing malformed
// JSON, non-objects and duplicate names.
func readObject(t *schema.Table, data []byte) ([]member, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	out, err := readMembers(t, dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errPayload(t, "Invalid JSON. More than one value was found in the request body.")
	}
	return out, nil
}

// readMembers reads the next value of dec, which must be an object, as its members in order.
// The bulk actions read their targets with it from one decoder over the whole body, instead of
// splitting the array into raw items and decoding each again.
func readMembers(t *schema.Table, dec *json.Decoder) ([]member, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, errPayload(t, "Invalid JSON. %s", jsonProblem(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errPayload(t, "Invalid JSON. The request body must be a JSON object.")
	}
	out := make([]member, 0, 8)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errPayload(t, "Invalid JSON. %s", jsonProblem(err))
		}
		name, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, errPayload(t, "Invalid JSON. %s", jsonProblem(err))
		}
		// A linear look for a duplicate: records have tens of members, and a map per object
		// cost more than the search in a bulk request of thousands.
		for i := range out {
			if out[i].name == name {
				return nil, errPayload(t, "Duplicate property named '%s' is not allowed.", name)
			}
		}
		out = append(out, member{name: name, value: raw})
	}
	if _, err := dec.Token(); err != nil {
		return nil, errPayload(t, "Invalid JSON. %s", jsonProblem(err))
	}
	return out, nil
}

func jsonProblem(err error) string {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "Unexpected end of content."
	}
	var syn *json.SyntaxError
	if errors.As(err, &syn) {
		return fmt.Sprintf("%s (at byte %d).", syn.Error(), syn.Offset)
	}
	return err.Error()
}

// payload is a request body bound to a table: the column values, and the
// related rows it creates or associates.
type payload struct {
	t      *schema.Table
	fields []store.Field
	// deep are single-valued navigation properties given as objects
	// (deep insert): the related row is created first.
	deep []deepInsert
	// children are collection-valued navigation properties given as
	// arrays of objects (deep insert) or of references (@odata.bind).
	children []childLink
}

type deepInsert struct {
	nav *schema.NavigationProperty
	row *payload
}

type childLink struct {
	nav  *schema.NavigationProperty
	rows []*payload  // new rows to create
	refs []store.Ref // existing rows to associate
}

// parsePayload binds a request body to table t.
func (req *request) parsePayload(t *schema.Table, data []byte) (*payload, error) {
	members, err := readObject(t, data)
	if err != nil {
		return nil, err
	}
	return req.bindMembers(t, members, 0)
}

// maxDeepInsertDepth bounds nested deep inserts.
const maxDeepInsertDepth = 10

func (req *request) bindMembers(t *schema.Table, members []member, depth int) (*payload, error) {
	if depth > maxDeepInsertDepth {
		return nil, errPayload(t, "Deep insert is nested more than %d levels.", maxDeepInsertDepth)
	}
	p := &payload{t: t, fields: make([]store.Field, 0, len(members))}
	for _, m := range members {
		name, annotation, hasAnnotation := strings.Cut(m.name, "@")
		if name == "" {
			if annotation == "odata.type" {
				var typ string
				if err := decodeString(m.value, &typ); err != nil || strings.TrimPrefix(typ, "#") != t.EntityTypeName() {
					return nil, errPayload(t, "A type named '%s' could not be resolved by the model, or is not the type of entity set '%s'.", strings.Trim(string(m.value), `"`), t.EntitySetName)
				}
			}
			continue // instance annotations (@odata.etag, @odata.context…) are ignored
		}
		if hasAnnotation {
			if annotation != "odata.bind" {
				continue // property annotations are ignored
			}
			nav, ok := t.NavigationProperty(name)
			if !ok {
				return nil, errPayload(t, "An undeclared property '%s' which only has property annotations in the payload but no property value was found in the payload. In OData, only declared navigation properties and declared named streams can be represented as properties without values.", name)
			}
			if err := req.bindReference(p, nav, m.value); err != nil {
				return nil, err
			}
			continue
		}
		if nav, ok := t.NavigationProperty(name); ok {
			if err := req.bindNavigationValue(p, nav, m.value, depth); err != nil {
				return nil, err
			}
			continue
		}
		col, ok := t.Property(name)
		if !ok || col.IsLookup() {
			return nil, errInvalidProperty(name, t)
		}
		v, err := jsonValue(col, m.value)
		if err != nil {
			return nil, errPayload(t, "%s", err.Error())
		}
		p.fields = append(p.fields, store.Field{Column: col, Value: v})
	}
	return p, nil
}

// bindReference handles nav@odata.bind: a reference (or null) for a
// single-valued property, an array of references for a collection.
func (req *request) bindReference(p *payload, nav *schema.NavigationProperty, raw json.RawMessage) error {
	t := p.t
	if !nav.Collection {
		if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
			p.fields = append(p.fields, store.Field{Column: nav.Column, Value: nil})
			return nil
		}
		var ref string
		if err := json.Unmarshal(raw, &ref); err != nil {
			return errPayload(t, "The value of '%s@odata.bind' must be a URI string.", nav.Name)
		}
		r, err := req.entityReference(t, nav, ref)
		if err != nil {
			return err
		}
		p.fields = append(p.fields, store.Field{Column: nav.Column, Value: r})
		return nil
	}
	var refs []string
	if err := json.Unmarshal(raw, &refs); err != nil {
		return errPayload(t, "The value of '%s@odata.bind' must be an array of URI strings.", nav.Name)
	}
	link := childLink{nav: nav}
	for _, ref := range refs {
		r, err := req.entityReference(t, nav, ref)
		if err != nil {
			return err
		}
		link.refs = append(link.refs, r)
	}
	p.children = append(p.children, link)
	return nil
}

// bindNavigationValue handles a navigation property given a value: null
// clears a lookup, an object is a deep insert of the related row, an
// array of objects a deep insert of related rows.
func (req *request) bindNavigationValue(p *payload, nav *schema.NavigationProperty, raw json.RawMessage, depth int) error {
	t := p.t
	trimmed := bytes.TrimSpace(raw)
	switch {
	case bytes.Equal(trimmed, []byte("null")):
		if nav.Collection {
			return errPayload(t, "A null value was found for the collection-valued navigation property '%s'.", nav.Name)
		}
		p.fields = append(p.fields, store.Field{Column: nav.Column, Value: nil})
		return nil
	case len(trimmed) > 0 && trimmed[0] == '{' && !nav.Collection:
		target := nav.Target()
		if len(nav.Targets) > 1 {
			return errPayload(t, "A deep insert through '%s' needs an @odata.type naming the table to create.", nav.Name)
		}
		members, err := readObject(target, trimmed)
		if err != nil {
			return err
		}
		row, err := req.bindMembers(target, members, depth+1)
		if err != nil {
			return err
		}
		p.deep = append(p.deep, deepInsert{nav: nav, row: row})
		return nil
	case len(trimmed) > 0 && trimmed[0] == '[' && nav.Collection:
		var items []json.RawMessage
		if err := json.Unmarshal(trimmed, &items); err != nil {
			return errPayload(t, "Invalid JSON. %s", jsonProblem(err))
		}
		link := childLink{nav: nav}
		for _, item := range items {
			members, err := readObject(nav.Target(), item)
			if err != nil {
				return err
			}
			row, err := req.bindMembers(nav.Target(), members, depth+1)
			if err != nil {
				return err
			}
			link.rows = append(link.rows, row)
		}
		p.children = append(p.children, link)
		return nil
	}
	return errPayload(t, "The value of navigation property '%s' must be %s.", nav.Name, map[bool]string{true: "an array of objects", false: "an object or null"}[nav.Collection])
}

// bindOtherServiceMessage is the reason (inside the payload error) given
// for an absolute @odata.bind URL that is not under this service's root:
// another host, another path, or a Web API version the service does not
// serve. Its arguments are the URL, the navigation property, the expected
// service root and the target entity set. [unverified: the reference says
// absolute URLs are accepted, not what the service answers for one of
// another organization; the code is its bad-bind payload error.]
const bindOtherServiceMessage = "The URI '%s' in '%s@odata.bind' is not an address of this service. Use a URL under the service root %s/, or a relative one such as /%s(<id>)."

// entityReference reads an @odata.bind URI: "/contacts(<id>)",
// "contacts(<id>)", an absolute URL of this Web API (any served version),
// or an alternate key.
func (req *request) entityReference(t *schema.Table, nav *schema.NavigationProperty, ref string) (store.Ref, error) {
	s := ref
	if scheme, _, ok := strings.Cut(s, "://"); ok && !strings.ContainsAny(scheme, "/(") {
		// An absolute URL (a key value may hold "://" after its "(").
		rel, ok := req.serviceRelative(s)
		if !ok {
			return store.Ref{}, errPayload(t, bindOtherServiceMessage, ref, nav.Name, req.base, nav.Target().EntitySetName)
		}
		s = rel
	}
	s = strings.TrimPrefix(s, "/")
	if u, err := url.PathUnescape(s); err == nil {
		s = u // the URI's key may be percent-encoded
	}
	set, keyText, hasKey, err := splitKeySegment(s)
	if err != nil || !hasKey || strings.Contains(set, "/") {
		return store.Ref{}, errPayload(t, "The URI '%s' in '%s@odata.bind' does not identify a single entity, such as /%s(<id>).", ref, nav.Name, nav.Target().EntitySetName)
	}
	target, ok := req.h.schema.TableBySet(set)
	if !ok {
		return store.Ref{}, errResourceNotFound(set)
	}
	if !nav.AcceptsTarget(target) {
		return store.Ref{}, errPayload(t, "The entity set '%s' in '%s@odata.bind' is not valid for navigation property '%s', which references %s.", set, nav.Name, nav.Name, targetSets(nav))
	}
	key, err := parseKey(target, keyText)
	if err != nil {
		return store.Ref{}, err
	}
	id, err := req.existing(target, key)
	if err != nil {
		return store.Ref{}, err
	}
	return store.Ref{Table: target.LogicalName, ID: id}, nil
}

// serviceRelative returns the part of an absolute URL after the service
// root ("contacts(<id>)"), and false when the URL is not under the root of
// a Web API version this service serves: the scheme and host must be the
// organization URL's, or the host the request was sent to (a client may
// reach the emulator by another name for the same address).
func (req *request) serviceRelative(abs string) (string, bool) {
	u, err := url.Parse(abs)
	if err != nil || u.User != nil || u.Opaque != "" {
		return "", false
	}
	org, err := url.Parse(req.h.orgURL)
	if err != nil || !strings.EqualFold(u.Scheme, org.Scheme) ||
		!strings.EqualFold(u.Host, org.Host) && !strings.EqualFold(u.Host, req.r.Host) {
		return "", false
	}
	// The raw text after "<scheme>://<host>", so that the key keeps the
	// client's own escaping.
	authority := len(u.Scheme) + len("://") + len(u.Host)
	if len(abs) < authority || !strings.EqualFold(abs[:authority], u.Scheme+"://"+u.Host) {
		return "", false // a host written with escapes
	}
	rest, ok := strings.CutPrefix(abs[authority:], apiPrefix)
	if !ok {
		return "", false
	}
	version, rel, ok := strings.Cut(rest, "/")
	if !ok || !supportedVersions[version] {
		return "", false
	}
	return rel, true
}

func targetSets(nav *schema.NavigationProperty) string {
	names := make([]string, len(nav.Targets))
	for i, t := range nav.Targets {
		names[i] = "'" + t.EntitySetName + "'"
	}
	return strings.Join(names, " or ")
}

// errConvert is ODataLib's conversion failure.
func errConvert(raw json.RawMessage, col *schema.Column) error {
	//lint:ignore ST1005 the message is ODataLib's, word for word, and reaches the client as is
	return fmt.Errorf("Cannot convert the literal '%s' to the expected type '%s'.", strings.Trim(string(raw), `"`), col.EdmType())
}

// jsonValue converts a JSON value to the store's value for a column.
func jsonValue(col *schema.Column, raw json.RawMessage) (any, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return nil, errConvert(raw, col)
	}
	if string(raw) == "null" {
		return nil, nil
	}
	isString := raw[0] == '"'
	var s string
	if isString {
		if err := decodeString(raw, &s); err != nil {
			return nil, errConvert(raw, col)
		}
	}
	isNumber := raw[0] == '-' || (raw[0] >= '0' && raw[0] <= '9')
	switch col.Type {
	case schema.TypeString, schema.TypeMemo:
		if isString {
			return s, nil
		}
	case schema.TypeInteger, schema.TypePicklist, schema.TypeState, schema.TypeStatus:
		if isNumber {
			n, err := strconv.ParseInt(string(raw), 10, 32)
			if err == nil {
				return n, nil
			}
		}
	case schema.TypeBigInt:
		text := string(raw)
		if isString {
			text = s
		}
		if isNumber || isString {
			if n, err := strconv.ParseInt(text, 10, 64); err == nil {
				return n, nil
			}
		}
	case schema.TypeDecimal, schema.TypeMoney:
		text := string(raw)
		if isString {
			text = s
		}
		if isNumber || isString {
			if col.Type == schema.TypeMoney {
				// Money is rounded to its precision and stored with 4 places.
				d, err := store.ParseDecimal(text, col.Precision)
				if err == nil {
					return store.ParseDecimal(d.String(), schema.MoneyStorageScale)
				}
			} else if d, err := store.ParseDecimal(text, col.Precision); err == nil {
				return d, nil
			}
		}
	case schema.TypeDouble:
		if isNumber {
			if f, err := strconv.ParseFloat(string(raw), 64); err == nil && !math.IsInf(f, 0) {
				return f, nil
			}
		}
	case schema.TypeBoolean:
		switch string(raw) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
	case schema.TypeDateTime:
		if isString {
			if t, ok := parseJSONTime(col, s); ok {
				return t, nil
			}
		}
	case schema.TypeMultiSelectPicklist:
		if isString {
			var out []int64
			for _, part := range strings.Split(s, ",") {
				if strings.TrimSpace(part) == "" {
					continue
				}
				n, err := strconv.ParseInt(strings.TrimSpace(part), 10, 32)
				if err != nil {
					return nil, errConvert(raw, col)
				}
				out = append(out, n)
			}
			return out, nil
		}
	case schema.TypeUniqueidentifier:
		if isString {
			if id, err := uuid.Parse(s); err == nil && len(s) == 36 {
				return id, nil
			}
		}
	case schema.TypeImage:
		if isString {
			return imageValue(col, s)
		}
	}
	return nil, errConvert(raw, col)
}

// parseJSONTime reads an Edm.Date ("2024-05-01") for date-only columns,
// and an Edm.DateTimeOffset (RFC 3339, or a date for midnight UTC)
// otherwise.
func parseJSONTime(col *schema.Column, s string) (time.Time, bool) {
	if col.Behavior == schema.BehaviorDateOnly {
		t, err := time.Parse("2006-01-02", s)
		return t, err == nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

func unmarshalString(raw json.RawMessage, s *string) error { return json.Unmarshal(raw, s) }
