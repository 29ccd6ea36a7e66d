package webapi

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
)

// The FetchXML syntax tree. The parser checks the document's shape
// (elements, their nesting, attribute names and value syntax); the binder
// (fetchxml_bind.go) resolves names against metadata.

// fetchQuery is a <fetch> element.
type fetchQuery struct {
	top, count, page int // 0 when absent
	pagingCookie     string
	hasCookie        bool
	distinct         bool
	aggregate        bool
	totalCount       bool // returntotalrecordcount
	rawOrderBy       bool // useraworderby: choices sort by value, not label
	aggregateLimit   int
	entity           *fetchEntity
}

// fetchEntity is an <entity> element, or the body of a <link-entity>.
type fetchEntity struct {
	name     string
	allAttrs bool
	attrs    []*fetchAttr
	orders   []*fetchOrder
	filters  []*fetchFilter
	links    []*fetchLink
}

// fetchLink is a <link-entity> element.
type fetchLink struct {
	fetchEntity
	from, to, alias, linkType string
}

// fetchAttr is an <attribute> element.
type fetchAttr struct {
	name, alias, aggregate, dateGrouping string
	groupBy, distinct                    bool
}

// fetchOrder is an <order> element.
type fetchOrder struct {
	attribute, alias, entityName string
	desc                         bool
}

// fetchFilter is a <filter> element: conditions and nested filters joined
// by and (the default) or or.
type fetchFilter struct {
	or      bool
	conds   []*fetchCondition
	filters []*fetchFilter
}

// fetchCondition is a <condition> element.
type fetchCondition struct {
	attribute, entityName, operator string
	value, valueOf                  string
	hasValue                        bool
	values                          []string // <value> children
}

// fetchError is a 400 in the error envelope.
func fetchError(code, format string, args ...any) *apiError {
	return newError(http.StatusBadRequest, code, format, args...)
}

// fetchLimits bound what the parser accepts, so hostile input cannot
// exhaust memory or the stack.
const (
	fetchMaxDepth    = 32 // nesting of elements
	fetchMaxElements = 5000
)

// fetchAttributes lists the XML attributes each FetchXML element may have
// (Dataverse validates queries against fetch.xsd). Attributes the
// emulator accepts without acting on them are listed too.
var fetchAttributes = map[string]map[string]bool{
	"fetch": nameSet("version", "count", "page", "paging-cookie", "utc-offset", "aggregate", "distinct", "top", "mapping",
		"min-active-row-version", "output-format", "returntotalrecordcount", "no-lock", "useraworderby", "latematerialize",
		"options", "datasource", "aggregatelimit"),
	"entity":         nameSet("name", "enableprefiltering", "prefilterparametername"),
	"attribute":      nameSet("name", "build", "addedby", "alias", "aggregate", "groupby", "dategrouping", "usertimezone", "distinct", "rowaggregate"),
	"all-attributes": nameSet(),
	"no-attrs":       nameSet(),
	"order":          nameSet("attribute", "alias", "descending", "entityname"),
	"link-entity":    nameSet("name", "to", "from", "alias", "link-type", "visible", "intersect", "enableprefiltering", "prefilterparametername"),
	"filter":         nameSet("type", "isquickfindfields", "overridequickfindrecordlimitenabled", "overridequickfindrecordlimitdisabled", "hint"),
	"condition":      nameSet("column", "attribute", "entityname", "operator", "value", "aggregate", "alias", "uiname", "uitype", "uihidden", "rowaggregate", "valueof"),
	"value":          nameSet("uiname", "uitype"),
}

func nameSet(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// element is a parsed XML element: its name, attributes, text and
// children. The parser first builds this generic tree (bounded in depth
// and size), then reads FetchXML from it.
type element struct {
	name     string
	attrs    map[string]string
	text     strings.Builder
	children []*element
}

// parseFetchXML parses a FetchXML query. Every failure is a 400 with a
// QueryBuilder code and a message naming what is wrong.
func parseFetchXML(text string) (*fetchQuery, error) {
	if strings.TrimSpace(text) == "" {
		return nil, fetchError(dverr.CodeFetchEmptyXML, "Xml String can't be null. The fetchXml parameter is empty.")
	}
	root, err := parseElements(text)
	if err != nil {
		return nil, err
	}
	if root.name != "fetch" {
		return nil, fetchError(dverr.CodeFetchInvalidNode, "The element node encountered is invalid. The root element of a FetchXML query must be <fetch>, not <%s>.", root.name)
	}
	return readFetch(root)
}

// parseElements reads the document into an element tree.
func parseElements(text string) (*element, error) {
	d := xml.NewDecoder(strings.NewReader(text))
	d.Strict = true
	var stack []*element
	var root *element
	n := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fetchError(dverr.CodeFetchInvalidXML, "Invalid XML. The fetchXml parameter is not well-formed XML: %s.", strings.TrimPrefix(err.Error(), "XML syntax error on "))
		}
		switch t := tok.(type) {
		case xml.StartElement:
			n++
			if len(stack) >= fetchMaxDepth || n > fetchMaxElements {
				return nil, fetchError(dverr.CodeFetchInvalidXML, "Invalid XML. The FetchXML query is nested more than %d levels deep or has more than %d elements.", fetchMaxDepth, fetchMaxElements)
			}
			if t.Name.Space != "" {
				return nil, fetchError(dverr.CodeFetchInvalidNode, "The element node encountered is invalid. FetchXML elements have no namespace; <%s:%s> is not a FetchXML element.", t.Name.Space, t.Name.Local)
			}
			el := &element{name: t.Name.Local, attrs: make(map[string]string, len(t.Attr))}
			allowed, known := fetchAttributes[el.name]
			if !known {
				return nil, fetchError(dverr.CodeFetchInvalidNode, "The element node encountered is invalid. <%s> is not a FetchXML element.", el.name)
			}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				if a.Name.Space != "" || !allowed[a.Name.Local] {
					return nil, fetchError(dverr.CodeFetchInvalidXML, "Invalid XML. The '%s' attribute is not declared on the <%s> element.", a.Name.Local, el.name)
				}
				if _, dup := el.attrs[a.Name.Local]; dup {
					return nil, fetchError(dverr.CodeFetchInvalidXML, "Invalid XML. The '%s' attribute appears twice on the <%s> element.", a.Name.Local, el.name)
				}
				el.attrs[a.Name.Local] = a.Value
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, fetchError(dverr.CodeFetchInvalidXML, "Invalid XML. The document has more than one root element.")
				}
				root = el
			} else {
				parent := stack[len(stack)-1]
				parent.children = append(parent.children, el)
			}
			stack = append(stack, el)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text.Write(t)
			} else if strings.TrimSpace(string(t)) != "" {
				return nil, fetchError(dverr.CodeFetchInvalidXML, "Invalid XML. Text is not allowed outside the <fetch> element.")
			}
		case xml.Directive:
			return nil, fetchError(dverr.CodeFetchInvalidXML, "Invalid XML. Document type declarations are not allowed in FetchXML.")
		}
	}
	if root == nil {
		return nil, fetchError(dverr.CodeFetchElementNotFound, "A required element was not specified. The fetchXml parameter has no <fetch> element.")
	}
	return root, nil
}

// children checks that el's children are among the allowed element names
// and that el has no text.
func checkChildren(el *element, allowed ...string) error {
	if strings.TrimSpace(el.text.String()) != "" {
		return fetchError(dverr.CodeFetchInvalidXML, "Invalid XML. The <%s> element cannot contain text.", el.name)
	}
	for _, c := range el.children {
		ok := false
		for _, a := range allowed {
			ok = ok || c.name == a
		}
		if !ok {
			return fetchError(dverr.CodeFetchInvalidNode, "The element node encountered is invalid. <%s> cannot contain <%s>.", el.name, c.name)
		}
	}
	return nil
}

// boolAttr reads a FetchXML boolean ('true', 'false', '1', '0'); code and
// the message are those of the attribute's QueryBuilder error.
func boolAttr(el *element, name, code string) (bool, error) {
	v, ok := el.attrs[name]
	if !ok {
		return false, nil
	}
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fetchError(code, "The only valid values for %s attribute are 'true', 'false', '1', and '0'. The <%s> element has %s='%s'.", name, el.name, name, v)
}

// intAttr reads a positive whole number.
func intAttr(el *element, name string) (int, error) {
	v, ok := el.attrs[name]
	if !ok {
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0, fetchError(dverr.CodeFetchInvalidValue, "Invalid value specified for type. The %s attribute of <%s> must be a positive whole number, not '%s'.", name, el.name, v)
	}
	return n, nil
}

// requiredAttr reads an attribute that must be present and non-empty.
func requiredAttr(el *element, name string) (string, error) {
	v := strings.TrimSpace(el.attrs[name])
	if v == "" {
		return "", fetchError(dverr.CodeFetchAttributeNotFound, "A required attribute was not specified. The <%s> element needs a '%s' attribute.", el.name, name)
	}
	return v, nil
}

func readFetch(el *element) (*fetchQuery, error) {
	q := &fetchQuery{}
	var err error
	if q.top, err = intAttr(el, "top"); err != nil {
		return nil, err
	}
	if q.count, err = intAttr(el, "count"); err != nil {
		return nil, err
	}
	if q.page, err = intAttr(el, "page"); err != nil {
		return nil, err
	}
	if q.aggregateLimit, err = intAttr(el, "aggregatelimit"); err != nil {
		return nil, err
	}
	q.pagingCookie, q.hasCookie = el.attrs["paging-cookie"]
	if strings.TrimSpace(q.pagingCookie) == "" {
		q.hasCookie = false
	}
	if q.distinct, err = boolAttr(el, "distinct", dverr.CodeFetchInvalidDistinct); err != nil {
		return nil, err
	}
	if q.aggregate, err = boolAttr(el, "aggregate", dverr.CodeFetchInvalidAggregate); err != nil {
		return nil, err
	}
	if q.totalCount, err = boolAttr(el, "returntotalrecordcount", dverr.CodeFetchInvalidValue); err != nil {
		return nil, err
	}
	if q.rawOrderBy, err = boolAttr(el, "useraworderby", dverr.CodeFetchInvalidNoLock); err != nil {
		return nil, err
	}
	for _, name := range []string{"no-lock", "min-active-row-version", "latematerialize"} {
		if _, err := boolAttr(el, name, dverr.CodeFetchInvalidNoLock); err != nil {
			return nil, err
		}
	}
	if m, ok := el.attrs["mapping"]; ok && m != "logical" && m != "internal" {
		return nil, fetchError(dverr.CodeFetchInvalidMapping, "The only valid values for mapping are 'logical' or 'internal' which is deprecated. The query has mapping='%s'.", m)
	}
	if _, ok := el.attrs["utc-offset"]; ok {
		return nil, fetchError(dverr.CodeFetchInvalidUtcOffset, "The utc-offset attribute is not supported for deserialization.")
	}
	if err := checkChildren(el, "entity"); err != nil {
		return nil, err
	}
	switch len(el.children) {
	case 0:
		return nil, fetchError(dverr.CodeFetchElementNotFound, "A required element was not specified. The <fetch> element needs an <entity> element.")
	case 1:
	default:
		return nil, fetchError(dverr.CodeFetchInvalidNode, "The element node encountered is invalid. The <fetch> element must contain exactly one <entity> element.")
	}
	ent := el.children[0]
	q.entity = &fetchEntity{}
	if q.entity.name, err = requiredAttr(ent, "name"); err != nil {
		return nil, err
	}
	if err := readEntityBody(ent, q.entity); err != nil {
		return nil, err
	}
	return q, nil
}

// readEntityBody reads the children of <entity> or <link-entity>.
func readEntityBody(el *element, e *fetchEntity) error {
	if err := checkChildren(el, "attribute", "all-attributes", "no-attrs", "order", "filter", "link-entity"); err != nil {
		return err
	}
	for _, c := range el.children {
		switch c.name {
		case "all-attributes":
			e.allAttrs = true
		case "no-attrs":
		case "attribute":
			a, err := readAttribute(c)
			if err != nil {
				return err
			}
			e.attrs = append(e.attrs, a)
		case "order":
			if err := checkChildren(c); err != nil {
				return err
			}
			desc, err := boolAttr(c, "descending", dverr.CodeFetchInvalidDescending)
			if err != nil {
				return err
			}
			e.orders = append(e.orders, &fetchOrder{attribute: c.attrs["attribute"], alias: c.attrs["alias"], entityName: c.attrs["entityname"], desc: desc})
		case "filter":
			f, err := readFilter(c)
			if err != nil {
				return err
			}
			e.filters = append(e.filters, f)
		case "link-entity":
			l, err := readLink(c)
			if err != nil {
				return err
			}
			e.links = append(e.links, l)
		}
	}
	return nil
}

func readAttribute(el *element) (*fetchAttr, error) {
	if err := checkChildren(el); err != nil {
		return nil, err
	}
	name, err := requiredAttr(el, "name")
	if err != nil {
		return nil, err
	}
	if _, ok := el.attrs["rowaggregate"]; ok {
		return nil, errNotImplemented("FetchXML row aggregates (rowaggregate)")
	}
	a := &fetchAttr{name: name, alias: el.attrs["alias"], aggregate: el.attrs["aggregate"], dateGrouping: el.attrs["dategrouping"]}
	if a.groupBy, err = boolAttr(el, "groupby", dverr.CodeFetchInvalidGroupBy); err != nil {
		return nil, err
	}
	if a.distinct, err = boolAttr(el, "distinct", dverr.CodeFetchInvalidDistinct); err != nil {
		return nil, err
	}
	if _, err = boolAttr(el, "usertimezone", dverr.CodeFetchInvalidValue); err != nil {
		return nil, err
	}
	return a, nil
}

func readLink(el *element) (*fetchLink, error) {
	l := &fetchLink{alias: el.attrs["alias"], linkType: el.attrs["link-type"]}
	var err error
	if l.name, err = requiredAttr(el, "name"); err != nil {
		return nil, err
	}
	if l.from, err = requiredAttr(el, "from"); err != nil {
		return nil, err
	}
	if l.to, err = requiredAttr(el, "to"); err != nil {
		return nil, err
	}
	if _, err := boolAttr(el, "intersect", dverr.CodeFetchInvalidValue); err != nil {
		return nil, err
	}
	if _, err := boolAttr(el, "visible", dverr.CodeFetchInvalidValue); err != nil {
		return nil, err
	}
	return l, readEntityBody(el, &l.fetchEntity)
}

func readFilter(el *element) (*fetchFilter, error) {
	if err := checkChildren(el, "condition", "filter"); err != nil {
		return nil, err
	}
	f := &fetchFilter{}
	switch t := el.attrs["type"]; t {
	case "", "and":
	case "or":
		f.or = true
	default:
		return nil, fetchError(dverr.CodeFetchInvalidFilterType, "Unsupported filter type. Valid values are 'and', or 'or'. The filter has type='%s'.", t)
	}
	for _, c := range el.children {
		if c.name == "filter" {
			sub, err := readFilter(c)
			if err != nil {
				return nil, err
			}
			f.filters = append(f.filters, sub)
			continue
		}
		cond, err := readCondition(c)
		if err != nil {
			return nil, err
		}
		f.conds = append(f.conds, cond)
	}
	return f, nil
}

func readCondition(el *element) (*fetchCondition, error) {
	if err := checkChildren(el, "value"); err != nil {
		return nil, err
	}
	op, err := requiredAttr(el, "operator")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"aggregate", "alias", "rowaggregate"} {
		if _, ok := el.attrs[name]; ok {
			return nil, errNotImplemented("FetchXML conditions with '" + name + "' (filtering on aggregates)")
		}
	}
	c := &fetchCondition{attribute: strings.TrimSpace(el.attrs["attribute"]), entityName: el.attrs["entityname"], operator: op, valueOf: el.attrs["valueof"]}
	if c.attribute == "" {
		c.attribute = strings.TrimSpace(el.attrs["column"])
	}
	if c.attribute == "" {
		return nil, fetchError(dverr.CodeFetchAttributeNotFound, "A required attribute was not specified. The <condition> element with operator '%s' needs an 'attribute' attribute.", op)
	}
	c.value, c.hasValue = el.attrs["value"]
	for _, v := range el.children {
		if len(v.children) > 0 {
			return nil, fetchError(dverr.CodeFetchInvalidNode, "The element node encountered is invalid. <value> cannot contain <%s>.", v.children[0].name)
		}
		c.values = append(c.values, v.text.String())
	}
	return c, nil
}
