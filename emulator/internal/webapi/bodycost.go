package webapi

import (
	"github.com/d365s2s/d365/emulator/internal/schema"
)

// What a request body may cost, checked on its bytes before anything is decoded: decoding
// allocates many times the body for every member and value it holds, so one body of millions of
// fields would otherwise take hundreds of megabytes, whoever sends it.
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

// scanBodyCost measures data without decoding or allocating. It stops as soon as depth exceeds
// maxDepth or values exceed maxValues (the cost is then "more than"). It does not validate: for
// malformed JSON the counts are an estimate and the decoder reports the error afterwards.
func scanBodyCost(data []byte, maxDepth, maxValues int) bodyCost {
	var c bodyCost
	// members[d] counts the members of the object open at depth d (d from 1); a value is 0 for
	// an array. Depth is bounded by maxDepth, so the stack is too.
	var stack [maxBodyDepth + 2]int
	var isObject [maxBodyDepth + 2]bool
	depth := 0
	for i := 0; i < len(data); i++ {
		switch b := data[i]; b {
		case '"':
			// A string (a key counts as its member, a value as itself). Skip it, honouring
			// escapes.
			c.values++
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
		case '{', '[':
			c.values++
			depth++
			if depth > c.depth {
				c.depth = depth
			}
			if depth > maxDepth || depth >= len(stack) {
				c.stopped = true
				return c
			}
			stack[depth], isObject[depth] = 0, b == '{'
		case '}', ']':
			if depth > 0 {
				if isObject[depth] {
					if depth == 1 {
						c.topMembers = stack[depth]
					} else if stack[depth] > c.maxMembers {
						c.maxMembers = stack[depth]
					}
				}
				depth--
			}
		case ':':
			if depth > 0 && isObject[depth] {
				stack[depth]++
			}
		case ',', ' ', '\t', '\r', '\n':
		default:
			// The first byte of a scalar (number, true, false, null): count it once.
			c.values++
			for i+1 < len(data) && !isDelimiter(data[i+1]) {
				i++
			}
		}
		if c.values > maxValues {
			c.stopped = true
			return c
		}
	}
	// An object left open (malformed JSON) still counts.
	for d := depth; d >= 1; d-- {
		if isObject[d] {
			if d == 1 {
				c.topMembers = max(c.topMembers, stack[d])
			} else {
				c.maxMembers = max(c.maxMembers, stack[d])
			}
		}
	}
	return c
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
