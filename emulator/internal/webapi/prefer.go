package webapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// Paging limits: default and maximum page size.
const (
	maxPageSize = 5000
	// clampPageSize decides what odata.maxpagesize above the maximum
	// does: true clamps it to 5,000, false refuses the request
	// [unverified: the reference leaves it open].
	clampPageSize = true
)

// preferContinueOnError is the $batch preference that keeps executing
// parts after a failure; it is also the Preference-Applied value.
const preferContinueOnError = "odata.continue-on-error"

// preferences are the request's Prefer header values that matter.
type preferences struct {
	returnRepresentation bool
	maxPageSize          int // 0 when not given
	includeAnnotations   []string
	continueOnError      bool
	trackChanges         bool
}

// parsePrefer reads Prefer headers: several preferences may share one
// header, comma-separated, and several headers may be sent. Values may be
// quoted (odata.include-annotations="*").
func parsePrefer(headers []string) (preferences, error) {
	var p preferences
	for _, h := range headers {
		// Preferences are comma-separated (RFC 7240); Microsoft's own
		// samples also separate them with semicolons
		// ("odata.maxpagesize=4; odata.include-annotations=\"*\""), which
		// the service accepts, so both separate preferences here.
		var items []string
		for _, part := range splitOutsideQuotes(h, ',', '"') {
			items = append(items, splitOutsideQuotes(part, ';', '"')...)
		}
		for _, item := range items {
			if strings.TrimSpace(item) == "" {
				continue
			}
			name, value, _ := strings.Cut(strings.TrimSpace(item), "=")
			name = strings.ToLower(strings.TrimSpace(name))
			value = strings.Trim(strings.TrimSpace(value), `"`)
			switch name {
			case "return":
				p.returnRepresentation = strings.EqualFold(value, "representation")
			case "odata.maxpagesize":
				n, err := strconv.Atoi(value)
				if err != nil || n <= 0 {
					return p, newError(http.StatusBadRequest, dverr.CodeQuerySyntax, "The value '%s' of the odata.maxpagesize preference is not a positive integer.", value)
				}
				if n > maxPageSize {
					if !clampPageSize {
						return p, newError(http.StatusBadRequest, dverr.CodeQuerySyntax, "You can't request a page size larger than %d.", maxPageSize)
					}
					n = maxPageSize
				}
				p.maxPageSize = n
			case "odata.include-annotations":
				for _, a := range strings.Split(value, ",") {
					if a = strings.TrimSpace(a); a != "" {
						p.includeAnnotations = append(p.includeAnnotations, a)
					}
				}
			case preferContinueOnError:
				// OData: the preference may carry a boolean; "=false" asks for the default.
				p.continueOnError = value == "" || strings.EqualFold(value, "true")
			case "odata.track-changes":
				p.trackChanges = true
			}
		}
	}
	return p, nil
}

// splitOutsideQuotes splits s at sep, except between two quote characters: a double quote in
// header values, a single quote in OData literals (where a doubled quote toggles twice and so
// stays inside).
func splitOutsideQuotes(s string, sep, quote byte) []string {
	var out []string
	quoted := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case quote:
			quoted = !quoted
		case sep:
			if !quoted {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

// wantsAnnotation reports whether the client asked for an annotation
// (exact name, "*", or a prefix wildcard such as "OData.Community.*").
func (p preferences) wantsAnnotation(name string) bool {
	for _, a := range p.includeAnnotations {
		switch {
		case a == "*" || a == name:
			return true
		case strings.HasSuffix(a, "*") && strings.HasPrefix(name, strings.TrimSuffix(a, "*")):
			return true
		}
	}
	return false
}

// parseMatch reads If-Match and If-None-Match. The literal "null" that
// clients send in If-None-Match means no condition. An ETag that is not a
// version of ours can never match.
func parseMatch(r *http.Request) (m store.Match, ifNoneMatch []int64) {
	for _, v := range r.Header.Values("If-Match") {
		for _, tag := range splitOutsideQuotes(v, ',', '"') {
			tag = strings.TrimSpace(tag)
			switch {
			case tag == "*":
				m.IfMatchAny = true
			case tag != "":
				m.IfMatch = append(m.IfMatch, parseETag(tag))
			}
		}
	}
	for _, v := range r.Header.Values("If-None-Match") {
		for _, tag := range splitOutsideQuotes(v, ',', '"') {
			tag = strings.TrimSpace(tag)
			switch {
			case tag == "*":
				m.IfNoneMatchAny = true
			case tag == "" || strings.EqualFold(tag, "null"):
			default:
				ifNoneMatch = append(ifNoneMatch, parseETag(tag))
			}
		}
	}
	return m, ifNoneMatch
}

// parseETag reads W/"123" or "123"; anything else gives -1, which no row
// version equals.
func parseETag(tag string) int64 {
	tag = strings.TrimPrefix(tag, "W/")
	if len(tag) < 2 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return -1
	}
	n, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
	if err != nil {
		return -1
	}
	return n
}
