package fetchxml

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
)

// fetchError is a 400 with a QueryBuilder code.
func fetchError(code, format string, args ...any) *dverr.Error {
	return dverr.New(http.StatusBadRequest, code, format, args...)
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

// Parse parses a FetchXML query. Every failure is a *dverr.Error: a 400 with a
// QueryBuilder code and a message naming what is wrong.
func Parse(text string) (*Query, error) {
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

func readFetch(el *element) (*Query, error) {
	q := &Query{}
	var err error
	if q.Top, err = intAttr(el, "top"); err != nil {
		return nil, err
	}
	if q.Count, err = intAttr(el, "count"); err != nil {
		return nil, err
	}
	if q.Page, err = intAttr(el, "page"); err != nil {
		return nil, err
	}
	if q.AggregateLimit, err = intAttr(el, "aggregatelimit"); err != nil {
		return nil, err
	}
	q.PagingCookie, q.HasCookie = el.attrs["paging-cookie"]
	if strings.TrimSpace(q.PagingCookie) == "" {
		q.HasCookie = false
	}
	if q.Distinct, err = boolAttr(el, "distinct", dverr.CodeFetchInvalidDistinct); err != nil {
		return nil, err
	}
	if q.Aggregate, err = boolAttr(el, "aggregate", dverr.CodeFetchInvalidAggregate); err != nil {
		return nil, err
	}
	if q.TotalCount, err = boolAttr(el, "returntotalrecordcount", dverr.CodeFetchInvalidValue); err != nil {
		return nil, err
	}
	if q.RawOrderBy, err = boolAttr(el, "useraworderby", dverr.CodeFetchInvalidNoLock); err != nil {
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
	q.Entity = &Entity{}
	if q.Entity.Name, err = requiredAttr(ent, "name"); err != nil {
		return nil, err
	}
	if err := readEntityBody(ent, q.Entity); err != nil {
		return nil, err
	}
	return q, nil
}

// readEntityBody reads the children of <entity> or <link-entity>.
func readEntityBody(el *element, e *Entity) error {
	if err := checkChildren(el, "attribute", "all-attributes", "no-attrs", "order", "filter", "link-entity"); err != nil {
		return err
	}
	for _, c := range el.children {
		switch c.name {
		case "all-attributes":
			e.AllAttributes = true
		case "no-attrs":
		case "attribute":
			a, err := readAttribute(c)
			if err != nil {
				return err
			}
			e.Attributes = append(e.Attributes, a)
		case "order":
			if err := checkChildren(c); err != nil {
				return err
			}
			desc, err := boolAttr(c, "descending", dverr.CodeFetchInvalidDescending)
			if err != nil {
				return err
			}
			e.Orders = append(e.Orders, &Order{Attribute: c.attrs["attribute"], Alias: c.attrs["alias"], EntityName: c.attrs["entityname"], Descending: desc})
		case "filter":
			f, err := readFilter(c)
			if err != nil {
				return err
			}
			e.Filters = append(e.Filters, f)
		case "link-entity":
			l, err := readLink(c)
			if err != nil {
				return err
			}
			e.Links = append(e.Links, l)
		}
	}
	return nil
}

func readAttribute(el *element) (*Attribute, error) {
	if err := checkChildren(el); err != nil {
		return nil, err
	}
	name, err := requiredAttr(el, "name")
	if err != nil {
		return nil, err
	}
	if _, ok := el.attrs["rowaggregate"]; ok {
		return nil, dverr.NotImplemented("FetchXML row aggregates (rowaggregate)")
	}
	a := &Attribute{Name: name, Alias: el.attrs["alias"], Aggregate: el.attrs["aggregate"], DateGrouping: el.attrs["dategrouping"]}
	if a.GroupBy, err = boolAttr(el, "groupby", dverr.CodeFetchInvalidGroupBy); err != nil {
		return nil, err
	}
	if a.Distinct, err = boolAttr(el, "distinct", dverr.CodeFetchInvalidDistinct); err != nil {
		return nil, err
	}
	if _, err = boolAttr(el, "usertimezone", dverr.CodeFetchInvalidValue); err != nil {
		return nil, err
	}
	return a, nil
}

func readLink(el *element) (*Link, error) {
	l := &Link{Alias: el.attrs["alias"], LinkType: el.attrs["link-type"]}
	var err error
	if l.Name, err = requiredAttr(el, "name"); err != nil {
		return nil, err
	}
	if l.From, err = requiredAttr(el, "from"); err != nil {
		return nil, err
	}
	if l.To, err = requiredAttr(el, "to"); err != nil {
		return nil, err
	}
	if _, err := boolAttr(el, "intersect", dverr.CodeFetchInvalidValue); err != nil {
		return nil, err
	}
	if _, err := boolAttr(el, "visible", dverr.CodeFetchInvalidValue); err != nil {
		return nil, err
	}
	return l, readEntityBody(el, &l.Entity)
}

func readFilter(el *element) (*Filter, error) {
	if err := checkChildren(el, "condition", "filter"); err != nil {
		return nil, err
	}
	f := &Filter{}
	switch t := el.attrs["type"]; t {
	case "", "and":
	case "or":
		f.Or = true
	default:
		return nil, fetchError(dverr.CodeFetchInvalidFilterType, "Unsupported filter type. Valid values are 'and', or 'or'. The filter has type='%s'.", t)
	}
	for _, c := range el.children {
		if c.name == "filter" {
			sub, err := readFilter(c)
			if err != nil {
				return nil, err
			}
			f.Filters = append(f.Filters, sub)
			continue
		}
		cond, err := readCondition(c)
		if err != nil {
			return nil, err
		}
		f.Conditions = append(f.Conditions, cond)
	}
	return f, nil
}

func readCondition(el *element) (*Condition, error) {
	if err := checkChildren(el, "value"); err != nil {
		return nil, err
	}
	op, err := requiredAttr(el, "operator")
	if err != nil {
		return nil, err
	}
	for _, name := range []string{"aggregate", "alias", "rowaggregate"} {
		if _, ok := el.attrs[name]; ok {
			return nil, dverr.NotImplemented("FetchXML conditions with '" + name + "' (filtering on aggregates)")
		}
	}
	c := &Condition{Attribute: strings.TrimSpace(el.attrs["attribute"]), EntityName: el.attrs["entityname"], Operator: op, ValueOf: el.attrs["valueof"]}
	if c.Attribute == "" {
		c.Attribute = strings.TrimSpace(el.attrs["column"])
	}
	if c.Attribute == "" {
		return nil, fetchError(dverr.CodeFetchAttributeNotFound, "A required attribute was not specified. The <condition> element with operator '%s' needs an 'attribute' attribute.", op)
	}
	c.Value, c.HasValue = el.attrs["value"]
	for _, v := range el.children {
		if len(v.children) > 0 {
			return nil, fetchError(dverr.CodeFetchInvalidNode, "The element node encountered is invalid. <value> cannot contain <%s>.", v.children[0].name)
		}
		c.Values = append(c.Values, v.text.String())
	}
	return c, nil
}
