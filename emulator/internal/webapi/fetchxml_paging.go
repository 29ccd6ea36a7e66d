package webapi

import (
	"encoding/xml"
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// FetchXML paging cookies.
//
// A page with more rows after it carries, in the
// @Microsoft.Dynamics.CRM.fetchxmlpagingcookie annotation,
//
//	<cookie pagenumber="2" pagingcookie="<inner, URL-encoded twice>" istracking="False" />
//
// where the inner cookie holds, for every sort key of the query, the
// values at the page's last and first rows:
//
//	<cookie page="1"><fullname last="…" first="…" /><contactid last="{GUID}" first="{GUID}" /></cookie>
//
// The client sends the inner cookie back (URL-decoded twice, XML-escaped)
// in the fetch element's paging-cookie attribute with page="2". The
// emulator's sort keys are the query's orders plus the primary keys that
// make the order total ([store.Query.SortKeys]); a link-entity's keys are
// named "<alias>.<column>". An order by a lookup (or by a choice's label)
// is two keys: the name (label), named "<column>name" as Dataverse names
// a lookup's name and a choice's label attributes, then the value. The
// last values are a keyset position, so rows inserted between requests
// are neither skipped nor repeated.

// fetchCookieName is what an XML element name must look like; a sort key
// whose name is not one (an odd alias) makes the query cookie-less.
var fetchCookieName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_.-]*$`)

// sortKeyNames names the sort keys of a bound query in its cookies.
func (plan *fetchPlan) sortKeyNames(keys []store.Order) ([]string, bool) {
	names := make([]string, len(keys))
	for i, k := range keys {
		name := k.Column.LogicalName
		if k.Derived() {
			name += "name"
		}
		if k.Join != nil {
			name = plan.joinAlias[k.Join] + "." + name
		}
		if !fetchCookieName.MatchString(name) {
			return nil, false
		}
		names[i] = name
	}
	return names, true
}

// cookieValue writes a stored value of sort key k as cookie text: GUIDs
// braced and upper-case, as Dataverse writes them; a name or label as it
// is.
func cookieValue(k store.Order, v any) string {
	col := k.Column
	switch x := v.(type) {
	case string:
		if !k.Derived() && (col.Type == schema.TypeUniqueidentifier || col.Type.IsLookup()) {
			if id, err := uuid.Parse(x); err == nil {
				return "{" + strings.ToUpper(id.String()) + "}"
			}
		}
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	}
	return ""
}

// encodePagingCookie returns the fetchxmlpagingcookie annotation of page
// number pageNumber, or "" when the query cannot have one.
func (plan *fetchPlan) encodePagingCookie(keys []store.Order, page *store.Page, pageNumber int) string {
	names, ok := plan.sortKeyNames(keys)
	last, first := page.Cursor(), page.First()
	if !ok || last == nil || first == nil {
		return ""
	}
	lastKeys, firstKeys := last.Keys(), first.Keys()
	if len(lastKeys) != len(keys) || len(firstKeys) != len(keys) {
		return ""
	}
	var b strings.Builder
	b.WriteString(`<cookie page="` + strconv.Itoa(pageNumber) + `">`)
	for i, name := range names {
		b.WriteString("<" + name)
		if lastKeys[i] != nil {
			b.WriteString(` last="`)
			xmlAttrEscape(&b, cookieValue(keys[i], lastKeys[i]))
			b.WriteByte('"')
		}
		if firstKeys[i] != nil {
			b.WriteString(` first="`)
			xmlAttrEscape(&b, cookieValue(keys[i], firstKeys[i]))
			b.WriteByte('"')
		}
		b.WriteString(" />")
	}
	b.WriteString("</cookie>")
	inner := cookieEscape(cookieEscape(b.String()))
	return `<cookie pagenumber="` + strconv.Itoa(pageNumber+1) + `" pagingcookie="` + inner + `" istracking="False" />`
}

func xmlAttrEscape(b *strings.Builder, s string) {
	_ = xml.EscapeText(b, []byte(s)) // a strings.Builder never fails
}

// cookieEscape percent-encodes everything but unreserved characters, with
// lower-case hex digits, as the service encodes paging cookies.
func cookieEscape(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	b.Grow(len(s) * 2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xf])
	}
	return b.String()
}

// errPagingCookie is a paging cookie that does not fit the query.
func errPagingCookie(reason string) *apiError {
	return fetchError(dverr.CodeFetchPagingOrderBy, "Order by columns do not match those in paging cookie. %s Send the cookie of the previous page of the same query.", reason)
}

// decodePagingCookie reads the paging-cookie attribute of a query: the
// position after the cookie's last row, and the page it came from.
func (plan *fetchPlan) decodePagingCookie(cookie string, keys []store.Order) (*store.Cursor, int, error) {
	names, ok := plan.sortKeyNames(keys)
	if !ok {
		return nil, 0, errPagingCookie("This query has no paging cookie.")
	}
	d := xml.NewDecoder(strings.NewReader(cookie))
	d.Strict = true
	depth, page, i := 0, 0, 0
	values := make([]any, len(keys))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, errPagingCookie("The paging cookie is not well-formed XML.")
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			switch {
			case depth == 1:
				if t.Name.Local != "cookie" || page != 0 {
					return nil, 0, errPagingCookie("The paging cookie must be one <cookie> element.")
				}
				for _, a := range t.Attr {
					if a.Name.Local == "page" {
						page, err = strconv.Atoi(a.Value)
						if err != nil || page < 1 {
							return nil, 0, fetchError(dverr.CodeFetchInvalidPagingCookie, "Invalid page number in paging cookie. The page attribute is '%s'.", a.Value)
						}
					}
				}
				if page == 0 {
					return nil, 0, fetchError(dverr.CodeFetchInvalidPagingCookie, "Invalid page number in paging cookie. The cookie has no page attribute.")
				}
			case depth == 2:
				if i >= len(names) || t.Name.Local != names[i] {
					return nil, 0, errPagingCookie("The cookie's sort keys are not the query's (" + strings.Join(names, ", ") + ").")
				}
				for _, a := range t.Attr {
					if a.Name.Local != "last" {
						continue
					}
					v, err := store.SortKeyFromText(keys[i], a.Value)
					if err != nil {
						return nil, 0, errPagingCookie("The value of " + names[i] + " does not fit its column.")
					}
					values[i] = v
				}
				i++
			default:
				return nil, 0, errPagingCookie("The paging cookie is nested too deeply.")
			}
		case xml.EndElement:
			depth--
		}
	}
	if page == 0 || i != len(names) {
		return nil, 0, errPagingCookie("The cookie's sort keys are not the query's (" + strings.Join(names, ", ") + ").")
	}
	return store.NewCursor(values), page, nil
}
