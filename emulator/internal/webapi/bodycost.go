package webapi

import (
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// What a request body may cost, checked on its bytes before anything is decoded: decoding
// allocates many times the body for every member and value it holds, so one body of millions of
// fields would otherwise take hundreds of megabytes, whoever sends it. BodyMeter checks the
// table-independent bounds while the body arrives (through the traffic middleware); readBody
// checks them all, the top-level object against its own table, once it is whole.
//
// Dataverse reads a payload as a stream and refuses it at the first member that does not fit
// (ODataLib), so its cost never grows with the member count; the emulator decodes whole objects,
// and bounds them instead. The bounds are the emulator's, set far above what a valid payload
// needs: a row of a table has at most its properties and navigation properties, each with a few
// annotations (annotationsPerProperty), plus a few instance annotations. The order of checks is
// Dataverse's: the payload is read before the message's privilege check, so a caller without
// the privilege gets the payload error for a bad payload [unverified: inferred from ODataLib
// deserialising before the Create/Update message runs].
const (
	// maxBodyDepth bounds how deeply objects and arrays nest: ten levels of deep insert (an
	// array and an object each) with room to spare.
	maxBodyDepth = 32
	// maxBodyValues bounds the values (members, array items, scalars) of one body: a
	// CreateMultiple of thousands of wide rows fits.
	maxBodyValues = 1_000_000
	// annotationsPerProperty and instanceAnnotations size an object's member limit.
	annotationsPerProperty = 3
	instanceAnnotations    = 32
)

// The inner ODataLib messages of the payload error for a body over a bound. [unverified] The
// depth message is ODataLib's recursion-limit wording; ODataLib has no member or value quota,
// so those two name the emulator's bound in the same style.
const (
	bodyDepthMessage   = "The maximum recursion depth limit was reached. The depth of nested values in a single property cannot exceed %d."
	bodyMembersMessage = "The payload holds more than %d properties and annotations in one object; an entity of type '%s' has at most %d properties and navigation properties."
	bodyValuesMessage  = "The payload holds more than %d values; send the records in several requests."
)

// memberLimit is how many members one object of table t may hold.
func memberLimit(t *schema.Table) int {
	return annotationsPerProperty*(len(t.Columns)+len(t.Navigations)) + instanceAnnotations
}

// bodyCost is what scanning a body found: the deepest nesting, the values it holds, and the most
// members of one object (the top-level object's separately).
type bodyCost struct {
	depth      int
	values     int
	topMembers int
	maxMembers int // of any object below the top level
	stopped    bool
}

// bodyScanner measures a body fed to it in pieces, without decoding or allocating. It does not
// validate: for malformed JSON the counts are an estimate, and the decoder reports the error
// afterwards.
type bodyScanner struct {
	maxDepth, maxValues int
	// maxMembers, when not zero, stops the scan as soon as one object has more members, before
	// the object ends (a body arriving piece by piece is refused while it is still arriving).
	maxMembers int
	cost       bodyCost
	depth      int
	// members[d] counts the members of the container open at depth d (from 1); isObject[d]
	// tells an object from an array. Depth is bounded, so the stacks are too.
	members  [maxBodyDepth + 2]int
	isObject [maxBodyDepth + 2]bool
	inString bool // inside a string
	escaped  bool // after a backslash inside a string
	inScalar bool // inside a number, true, false or null
}

// scanBodyCost measures a whole body. It stops as soon as depth exceeds maxDepth or values
// exceed maxValues (the cost is then "more than").
func scanBodyCost(data []byte, maxDepth, maxValues int) bodyCost {
	s := bodyScanner{maxDepth: maxDepth, maxValues: maxValues}
	s.feed(data)
	return s.finish()
}

// feed scans the next piece of the body; it reports false once a bound is exceeded (the rest
// need not be fed).
func (s *bodyScanner) feed(data []byte) bool {
	if s.cost.stopped {
		return false
	}
	c := &s.cost
	for i := 0; i < len(data); i++ {
		b := data[i]
		if s.inString {
			switch {
			case s.escaped:
				s.escaped = false
			case b == '\\':
				s.escaped = true
			case b == '"':
				s.inString = false
			}
			continue
		}
		if s.inScalar {
			if !isDelimiter(b) {
				continue
			}
			s.inScalar = false
		}
		switch b {
		case '"':
			// A string: a key counts as its member, a value as itself.
			c.values++
			s.inString = true
		case '{', '[':
			c.values++
			s.depth++
			c.depth = max(c.depth, s.depth)
			if s.depth > s.maxDepth || s.depth >= len(s.members) {
				c.stopped = true
				return false
			}
			s.members[s.depth], s.isObject[s.depth] = 0, b == '{'
		case '}', ']':
			if s.depth > 0 {
				s.closeContainer()
				s.depth--
			}
		case ':':
			if s.depth > 0 && s.isObject[s.depth] {
				s.members[s.depth]++
				if s.maxMembers > 0 && s.members[s.depth] > s.maxMembers {
					s.closeContainer()
					c.stopped = true
					return false
				}
			}
		case ',', ' ', '\t', '\r', '\n':
		default:
			// The first byte of a number, true, false or null: count it once.
			c.values++
			s.inScalar = true
		}
		if c.values > s.maxValues {
			c.stopped = true
			return false
		}
	}
	return true
}

// closeContainer records the members of the container open at the current depth.
func (s *bodyScanner) closeContainer() {
	if !s.isObject[s.depth] {
		return
	}
	if s.depth == 1 {
		s.cost.topMembers = max(s.cost.topMembers, s.members[1])
	} else {
		s.cost.maxMembers = max(s.cost.maxMembers, s.members[s.depth])
	}
}

// finish returns the cost, counting the objects malformed JSON left open.
func (s *bodyScanner) finish() bodyCost {
	if !s.cost.stopped {
		for ; s.depth >= 1; s.depth-- {
			s.closeContainer()
		}
	}
	return s.cost
}

func isDelimiter(b byte) bool {
	switch b {
	case ',', ':', '{', '}', '[', ']', '"', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}

// widestTable is the table with the most properties and navigation properties.
func widestTable(s *schema.Schema) *schema.Table {
	var w *schema.Table
	for _, t := range s.Tables() {
		if w == nil || len(t.Columns)+len(t.Navigations) > len(w.Columns)+len(w.Navigations) {
			w = t
		}
	}
	return w
}

// checkBodyCost refuses a body for table t whose cost exceeds the bounds, with Dataverse's
// payload error.
func (h *Handler) checkBodyCost(t *schema.Table, data []byte) error {
	c := scanBodyCost(data, maxBodyDepth, maxBodyValues)
	switch {
	case c.depth > maxBodyDepth:
		return errPayload(t, bodyDepthMessage, maxBodyDepth)
	case c.values > maxBodyValues:
		return errPayload(t, bodyValuesMessage, maxBodyValues)
	case c.topMembers > memberLimit(t):
		return errPayload(t, bodyMembersMessage, memberLimit(t), t.EntityTypeName(), len(t.Columns)+len(t.Navigations))
	case c.maxMembers > memberLimit(h.widest):
		// A nested object (a deep insert, a bulk target) may be a row of another table: held to
		// the widest table's bound.
		return errPayload(t, bodyMembersMessage, memberLimit(h.widest), h.widest.EntityTypeName(), len(h.widest.Columns)+len(h.widest.Navigations))
	}
	return nil
}

// BodyMeter returns a writer that checks the body of a Web API request as it arrives, for the
// traffic middleware to feed while it reads the body ahead: a write fails, with an error that
// answers the request itself (Respond), as soon as the body nests too deeply, holds too many
// values, or one object holds more members than the widest table could need. It returns nil for
// a request it cannot judge (not a JSON body for an entity set); readBody checks the whole body
// again with the bounds of the request's own table.
func (h *Handler) BodyMeter(r *http.Request) io.Writer {
	if !strings.HasPrefix(r.URL.Path, apiPrefix) {
		return nil
	}
	if media, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || media != "application/json" {
		return nil
	}
	_, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, apiPrefix), "/") // after the version
	set := rest
	if i := strings.IndexAny(set, "(/"); i >= 0 {
		set = set[:i]
	}
	t, ok := h.schema.TableBySet(set)
	if !ok {
		return nil
	}
	return &bodyMeter{h: h, t: t, scan: bodyScanner{maxDepth: maxBodyDepth, maxValues: maxBodyValues, maxMembers: memberLimit(h.widest)}}
}

type bodyMeter struct {
	h    *Handler
	t    *schema.Table
	scan bodyScanner
}

func (m *bodyMeter) Write(p []byte) (int, error) {
	if m.scan.feed(p) {
		return len(p), nil
	}
	c := m.scan.cost
	var e *apiError
	switch {
	case c.depth > maxBodyDepth:
		e = errPayload(m.t, bodyDepthMessage, maxBodyDepth)
	case c.values > maxBodyValues:
		e = errPayload(m.t, bodyValuesMessage, maxBodyValues)
	default:
		w := m.h.widest
		e = errPayload(m.t, bodyMembersMessage, memberLimit(w), w.EntityTypeName(), len(w.Columns)+len(w.Navigations))
	}
	return 0, bodyRefusal{e}
}

// bodyRefusal is a body meter's refusal: the payload error, which answers the request.
type bodyRefusal struct{ e *apiError }

func (r bodyRefusal) Error() string { return r.e.message }

// Respond writes the refusal in Dataverse's error envelope.
func (r bodyRefusal) Respond(w http.ResponseWriter, req *http.Request) {
	hdr := w.Header()
	hdr.Set("OData-Version", "4.0")
	id := uuid.NewString()
	hdr.Set("REQ_ID", id)
	hdr.Set("x-ms-service-request-id", id)
	prefer, _ := parsePrefer(req.Header.Values("Prefer"))
	writeErrorDetails(w, r.e, prefer)
}
