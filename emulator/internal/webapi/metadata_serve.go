package webapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// The metadata entity sets and their declared types; see
// https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api.
var metadataSets = map[string]string{
	"EntityDefinitions":          "EntityMetadata",
	"RelationshipDefinitions":    "RelationshipMetadataBase",
	"GlobalOptionSetDefinitions": "OptionSetMetadataBase",
}

// metadataAlternateKeys is the alternate key property of each metadata
// type that has one (besides MetadataId).
var metadataAlternateKeys = map[string]string{
	"EntityMetadata":           "LogicalName",
	"AttributeMetadata":        "LogicalName",
	"EntityKeyMetadata":        "LogicalName",
	"RelationshipMetadataBase": "SchemaName",
	"OptionSetMetadataBase":    "Name",
}

// metaKinds names metadata types in not-found messages.
var metaKinds = map[string]string{
	"EntityMetadata":           "entity",
	"AttributeMetadata":        "attribute",
	"EntityKeyMetadata":        "entity key",
	"RelationshipMetadataBase": "relationship",
	"OptionSetMetadataBase":    "option set",
}

// metaNode is what a path addresses: records of a declared type (the
// set's or navigation's), possibly narrowed by a cast.
type metaNode struct {
	records  []record
	single   bool
	expected *metaType
	typ      *metaType
	// parts are the @odata.context path segments.
	parts []ctxPart
}

// ctxPart is a segment of an @odata.context path: a set or navigation
// with the key text it was addressed with, or a cast.
type ctxPart struct {
	text, key string
	cast      bool
}

// contextPath joins the parts. The key of the last set or navigation is
// written only when withLastKey (a property follows it): a single record
// ends in /$entity instead.
func (n *metaNode) contextPath(withLastKey bool) string {
	last := -1
	for i, p := range n.parts {
		if !p.cast {
			last = i
		}
	}
	var b strings.Builder
	for i, p := range n.parts {
		if i > 0 {
			b.WriteByte('/')
		}
		b.WriteString(p.text)
		if i != last || withLastKey {
			b.WriteString(p.key)
		}
	}
	return b.String()
}

func mustMetaType(name string) *metaType {
	t, ok := lookupMetaType(name)
	if !ok {
		panic("webapi: undeclared metadata type " + name)
	}
	return t
}

// metadataResource answers GET on EntityDefinitions,
// RelationshipDefinitions and GlobalOptionSetDefinitions and the paths
// below them.
func (req *request) metadataResource(segs []string) error {
	if req.r.Method != http.MethodGet {
		return errMethodNotAllowed(req.r.Method)
	}
	steps, err := parseMetadataPath(segs)
	if err != nil {
		return err
	}
	values, err := parseRawQuery(req.r.URL.RawQuery)
	if err != nil {
		return err
	}
	langs, err := parseLabelLanguages(values["LabelLanguages"])
	if err != nil {
		return err
	}
	delete(values, "LabelLanguages")
	q, err := odata.ParseQuery(values)
	if err != nil {
		return err
	}
	b := &metaBuilder{h: req.h, langs: langs}
	root := metadataSets[steps[0].name]
	node := &metaNode{expected: mustMetaType(root), parts: []ctxPart{{text: steps[0].name}}}
	node.typ = node.expected
	// With a key, only the record it names is built (apply still checks
	// the key and answers 404 when nothing matches).
	key := steps[0].key
	switch steps[0].name {
	case "EntityDefinitions":
		for _, t := range b.metadataTables() {
			if key == nil || key.id == tableMetadataID(t) || key.value == t.LogicalName {
				node.records = append(node.records, b.entityMetadata(t))
			}
		}
	case "RelationshipDefinitions":
		for _, r := range req.h.schema.Relationships() {
			if key == nil || key.id == relationshipID(r) || key.value == r.SchemaName {
				node.records = append(node.records, b.relationshipMetadata(r))
			}
		}
	case "GlobalOptionSetDefinitions":
		for _, set := range req.h.schema.OptionSets() {
			if key == nil || key.id == optionSetID(set, nil) || key.value == set.Name {
				node.records = append(node.records, b.optionSetMetadata(set, nil))
			}
		}
	}
	if err := node.apply(steps[0]); err != nil {
		return err
	}
	for i := 1; i < len(steps); i++ {
		st := steps[i]
		if !node.single {
			return errResourceNotFound(st.name)
		}
		if nav, ok := node.typ.nav(st.name); ok {
			target := mustMetaType(nav.typ)
			recs := b.navigate(node.records[0], nav)
			node = &metaNode{records: recs, single: !nav.collection, expected: target, typ: target,
				parts: append(node.parts, ctxPart{text: st.name})}
			if !nav.collection && st.key != nil {
				return errKeySyntax()
			}
			if err := node.apply(st); err != nil {
				return err
			}
			continue
		}
		decl, ok := node.typ.prop(st.name)
		rawValue := i == len(steps)-2 && steps[i+1].name == "$value"
		if !ok || st.key != nil || st.cast != "" || (i != len(steps)-1 && !rawValue) {
			return errResourceNotFound(st.name)
		}
		return req.writeMetaProperty(node, decl, rawValue)
	}
	if len(node.records) == 0 && node.single {
		// A single-valued navigation with nothing behind it (the
		// GlobalOptionSet of a local choice).
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	if q.Filter != nil && steps[0].name == "GlobalOptionSetDefinitions" && len(steps) == 1 {
		return errFilterUnsupported(metaMsgGlobalOptionSetFilter)
	}
	return req.writeMetaNode(b, q, node)
}

// apply narrows the node by the step's key and cast.
func (n *metaNode) apply(st metaStep) error {
	if st.key != nil {
		alt := ""
		for _, t := range n.expected.chain() {
			if a, ok := metadataAlternateKeys[t.name]; ok {
				alt = a
				break
			}
		}
		if st.key.property != "" && st.key.property != alt {
			return errKeySyntax()
		}
		var found record
		for _, r := range n.records {
			if st.key.property == "" {
				if id, _ := r.get("MetadataId"); id == st.key.id {
					found = r
					break
				}
				continue
			}
			if v, _ := r.get(alt); v == st.key.value {
				found = r
				break
			}
		}
		if found == nil {
			kind := "record"
			for _, t := range n.expected.chain() {
				if k, ok := metaKinds[t.name]; ok {
					kind = k
					break
				}
			}
			if st.key.property == "" {
				return newError(http.StatusNotFound, dverr.CodeObjectDoesNotExist, metaMsgNotFound, kind, "MetadataId", st.key.id.String())
			}
			return newError(http.StatusNotFound, dverr.CodeObjectDoesNotExist, metaMsgNotFound, kind, alt, st.key.value)
		}
		n.records, n.single = []record{found}, true
		n.parts[len(n.parts)-1].key = st.key.text()
	}
	if st.cast == "" {
		return nil
	}
	t, ok := lookupMetaType(st.cast)
	if !ok || t.kind != metaEntity || t.abstract || !t.derivesFrom(n.expected.name) {
		return newError(http.StatusBadRequest, dverr.CodeQuerySyntax, metaMsgWrongCast, schema.Namespace+"."+st.cast, st.name, schema.Namespace+"."+n.expected.name)
	}
	var kept []record
	for _, r := range n.records {
		if rt := recordType(r); rt != nil && rt.derivesFrom(t.name) {
			kept = append(kept, r)
		}
	}
	if n.single && len(kept) == 0 {
		id, _ := n.records[0].get("MetadataId")
		return newError(http.StatusNotFound, dverr.CodeObjectDoesNotExist, metaMsgCastNoMatch, fmt.Sprint(id), schema.Namespace+"."+t.name)
	}
	n.records, n.typ = kept, t
	n.parts = append(n.parts, ctxPart{text: schema.Namespace + "." + t.name, cast: true})
	return nil
}

// navigate returns the records behind a navigation property of r: nil
// entries are dropped, so a single-valued navigation to nothing is empty.
func (b *metaBuilder) navigate(r record, nav metaNav) []record {
	switch src := recordSource(r).(type) {
	case *schema.Table:
		switch nav.name {
		case "Attributes":
			return b.metadataAttributes(src)
		case "Keys":
			return b.metadataKeys(src)
		default:
			return b.tableRelationships(src, nav.name)
		}
	case *schema.Column:
		set := src.OptionSet
		if set == nil || set.Global != (nav.name == "GlobalOptionSet") {
			return nil
		}
		return []record{b.optionSetMetadata(set, src)}
	}
	return nil
}

// checkMetaOptions refuses the query options metadata queries do not
// support: $orderby is refused by Dataverse, the rest by the same rule.
func checkMetaOptions(orderBy []odata.OrderByItem, top *int64, count bool, apply []odata.Transformation) error {
	switch {
	case orderBy != nil:
		return errFilterUnsupported(metaMsgQueryOption, "$orderby")
	case top != nil:
		return errFilterUnsupported(metaMsgQueryOption, "$top")
	case count:
		return errFilterUnsupported(metaMsgQueryOption, "$count")
	case apply != nil:
		return errFilterUnsupported(metaMsgQueryOption, "$apply")
	}
	return nil
}

// shape applies $filter (collections only), $select and $expand to
// records of declared type typ.
func (b *metaBuilder) shape(records []record, single bool, typ *metaType, filter odata.Expr, sel []odata.SelectItem, expand []odata.ExpandItem) ([]record, error) {
	var out []record
	for _, r := range records {
		if filter != nil && !single {
			ok, err := evalMetadataFilter(filter, r, typ)
			if err != nil {
				return nil, err
			}
			if !ok {
				continue
			}
		}
		full := r
		if sel != nil {
			var err error
			if r, err = selectMetadata(r, sel, typ); err != nil {
				return nil, err
			}
		} else {
			r = append(record{}, r...)
		}
		for _, it := range expand {
			v, err := b.expand(full, typ, it)
			if err != nil {
				return nil, err
			}
			r = append(r, prop{it.Path[0].Name, v})
		}
		out = append(out, r)
	}
	return out, nil
}

// expand resolves one $expand item on a record of declared type typ.
func (b *metaBuilder) expand(r record, typ *metaType, it odata.ExpandItem) (expandedNav, error) {
	if it.Ref || len(it.Path) != 1 {
		return expandedNav{}, errPropertyNotFound(joinSegments(it.Path), metadataType(typ.name))
	}
	nav, ok := typ.nav(it.Path[0].Name)
	if !ok {
		return expandedNav{}, errPropertyNotFound(it.Path[0].Name, metadataType(typ.name))
	}
	target := mustMetaType(nav.typ)
	recs := b.navigate(r, nav)
	if o := it.Options; o != nil {
		if err := checkMetaOptions(o.OrderBy, o.Top, false, nil); err != nil {
			return expandedNav{}, err
		}
		var err error
		if recs, err = b.shape(recs, !nav.collection, target, o.Filter, o.Select, o.Expand); err != nil {
			return expandedNav{}, err
		}
	}
	if recs == nil {
		recs = []record{}
	}
	return expandedNav{records: recs, single: !nav.collection, expected: target}, nil
}

// selectMetadata keeps the selected properties of a record of declared
// type typ (MetadataId and hidden members always).
func selectMetadata(r record, items []odata.SelectItem, typ *metaType) (record, error) {
	keep := map[string]bool{"MetadataId": true}
	for _, it := range items {
		if it.Star {
			return append(record{}, r...), nil
		}
		name := joinSegments(it.Path)
		if _, ok := typ.prop(name); !ok {
			return nil, errPropertyNotFound(name, metadataType(typ.name))
		}
		keep[name] = true
	}
	out := make(record, 0, len(keep)+2)
	for _, p := range r {
		if keep[p.name] || isHidden(p.name) {
			out = append(out, p)
		}
	}
	return out, nil
}

// contextSelect is the (select,expand()) part of @odata.context.
func contextSelect(sel []odata.SelectItem, expand []odata.ExpandItem) string {
	var parts []string
	if sel != nil {
		parts = append(parts, odata.FormatSelect(sel))
	}
	for _, it := range expand {
		inner := ""
		if it.Options != nil {
			inner = contextSelect(it.Options.Select, it.Options.Expand)
			inner = strings.TrimSuffix(strings.TrimPrefix(inner, "("), ")")
		}
		parts = append(parts, joinSegments(it.Path)+"("+inner+")")
	}
	if len(parts) == 0 {
		return ""
	}
	return "(" + strings.Join(parts, ",") + ")"
}

// writeMetaNode writes the addressed records with the query applied;
// metadata queries are never paged.
func (req *request) writeMetaNode(b *metaBuilder, q *odata.Query, node *metaNode) error {
	if err := checkMetaOptions(q.OrderBy, q.Top, q.Count, q.Apply); err != nil {
		return err
	}
	out, err := b.shape(node.records, node.single, node.typ, q.Filter, q.Select, q.Expand)
	if err != nil {
		return err
	}
	context := req.base + "/$metadata#" + node.contextPath(false) + contextSelect(q.Select, q.Expand)
	jw := req.startJSON(http.StatusOK)
	if node.single {
		jw.raw(`{"@odata.context":`)
		jw.str(context + "/$entity")
		writeMetaMembers(jw, out[0], node.expected, false)
		jw.byte('}')
		return req.endJSON(jw)
	}
	jw.raw(`{"@odata.context":`)
	jw.str(context)
	jw.raw(`,"value":[`)
	for i, r := range out {
		if i > 0 {
			jw.byte(',')
		}
		writeMetaRecord(jw, r, node.expected)
	}
	jw.raw("]}")
	return req.endJSON(jw)
}

// writeMetaProperty answers a path to one property of a single record:
// {"@odata.context":"…/Prop","value":…}, or the raw text with $value.
func (req *request) writeMetaProperty(node *metaNode, decl metaProp, raw bool) error {
	v, _ := node.records[0].get(decl.name)
	if raw {
		var text string
		switch x := v.(type) {
		case nil:
			req.w.WriteHeader(http.StatusNoContent)
			return nil
		case string:
			text = x
		case int64, bool, float64:
			text = fmt.Sprint(x)
		case uuid.UUID:
			text = x.String()
		default:
			return errResourceNotFound("$value")
		}
		req.w.Header().Set("Content-Type", "text/plain")
		req.w.WriteHeader(http.StatusOK)
		_, _ = req.w.Write([]byte(text))
		return nil
	}
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#" + node.contextPath(true) + "/" + decl.name)
	jw.raw(`,"value":`)
	writeMetaValue(jw, v)
	jw.byte('}')
	return req.endJSON(jw)
}
