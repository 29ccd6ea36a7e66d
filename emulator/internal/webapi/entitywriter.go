package webapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// The annotation names of Prefer: odata.include-annotations.
const (
	annotationFormatted  = "OData.Community.Display.V1.FormattedValue"
	annotationNavigation = "Microsoft.Dynamics.CRM.associatednavigationproperty"
	annotationLogical    = "Microsoft.Dynamics.CRM.lookuplogicalname"
)

// entityWriter serialises rows of one table with the annotations the
// client asked for. It is prepared once per response: display names of
// referenced rows are read in one query per table.
type entityWriter struct {
	req        *request
	t          *schema.Table
	cols       []*schema.Column
	formatted  bool
	navigation bool
	logical    bool
	names      map[uuid.UUID]string
	currency   string
	// plan, when set, holds the expansions to write after the columns.
	plan *readPlan
	// typed writes @odata.type, for rows of a navigation property that
	// may hold several tables (ownerid).
	typed bool
	// keys are the member names of cols (and after them the primary id's)
	// as written, `,"name":` and its annotations, escaped once per
	// response instead of once per row: a page is 5,000 rows.
	keys []memberKeys
}

// memberKeys are the escaped `,"<name>":` of a column and of its annotations.
type memberKeys struct {
	value, formatted, navigation, logical string
}

// memberKeysOf returns the keys of the i-th column, the primary id's when
// i is len(ew.cols).
func (ew *entityWriter) memberKeysOf(i int) *memberKeys {
	if ew.keys == nil {
		ew.keys = make([]memberKeys, len(ew.cols)+1)
		for j := range ew.keys {
			var name string
			switch {
			case j < len(ew.cols):
				name = ew.cols[j].PropertyName()
			case ew.t.PrimaryID() != nil:
				name = ew.t.PrimaryID().PropertyName()
			}
			k := &ew.keys[j]
			k.value = escapedKey(name)
			// A single-row response writes each name once: escape the annotations' names
			// only when they are asked for.
			if ew.formatted {
				k.formatted = escapedKey(name + "@" + annotationFormatted)
			}
			if ew.navigation {
				k.navigation = escapedKey(name + "@" + annotationNavigation)
			}
			if ew.logical {
				k.logical = escapedKey(name + "@" + annotationLogical)
			}
		}
	}
	return &ew.keys[i]
}

// escapedKey returns `,"name":` as jsonWriter.key writes it.
func escapedKey(name string) string {
	var b strings.Builder
	jw := newJSONWriter(&b)
	jw.key(name, false)
	_ = jw.flush() // a strings.Builder does not fail
	return b.String()
}

func (req *request) newEntityWriter(t *schema.Table, cols []*schema.Column, rows []store.Row) (*entityWriter, error) {
	ew := &entityWriter{
		req:        req,
		t:          t,
		cols:       cols,
		formatted:  req.prefer.wantsAnnotation(annotationFormatted),
		navigation: req.prefer.wantsAnnotation(annotationNavigation),
		logical:    req.prefer.wantsAnnotation(annotationLogical),
	}
	if !ew.formatted {
		return ew, nil
	}
	ew.currency = currencySymbol
	byTable := map[string][]any{}
	for _, row := range rows {
		for i, c := range cols {
			if r, ok := row.Values[i].(store.Ref); ok && c.IsLookup() {
				byTable[r.Table] = append(byTable[r.Table], r.ID)
			}
		}
	}
	var err error
	if ew.names, err = req.lookupNames(byTable); err != nil {
		return nil, err
	}
	return ew, nil
}

// write writes one entity object. context, when not empty, is written as
// @odata.context first.
func (ew *entityWriter) write(jw *jsonWriter, row store.Row, context string) {
	jw.byte('{')
	if context != "" {
		jw.raw(`"@odata.context":`)
		jw.str(context)
		jw.byte(',')
	}
	if ew.typed {
		jw.raw(`"@odata.type":`)
		jw.str("#" + ew.t.EntityTypeName())
		jw.byte(',')
	}
	jw.raw(`"@odata.etag":`)
	jw.etag(row.Version)
	pkDone := false
	for i, c := range ew.cols {
		v := row.Values[i]
		keys := ew.memberKeysOf(i)
		if ew.formatted || ew.navigation || ew.logical {
			ew.annotations(jw, c, keys, v)
		}
		jw.raw(keys.value)
		jw.value(c, v)
		pkDone = pkDone || c == ew.t.PrimaryID()
	}
	if !pkDone {
		jw.raw(ew.memberKeysOf(len(ew.cols)).value)
		jw.guid(row.ID)
	}
	ew.writeExpansions(jw, row)
	jw.byte('}')
}

func (ew *entityWriter) annotations(jw *jsonWriter, c *schema.Column, keys *memberKeys, v any) {
	if v == nil {
		return
	}
	if r, ok := v.(store.Ref); ok {
		if ew.navigation {
			if nav := lookupNavigation(ew.t, c, r.Table); nav != "" {
				jw.raw(keys.navigation)
				jw.str(nav)
			}
		}
		if ew.logical {
			jw.raw(keys.logical)
			jw.str(r.Table)
		}
		if ew.formatted {
			if s, ok := ew.names[r.ID]; ok {
				jw.raw(keys.formatted)
				jw.str(s)
			}
		}
		return
	}
	if !ew.formatted {
		return
	}
	if s, ok := formatValue(c, v, ew.currency); ok {
		jw.raw(keys.formatted)
		jw.str(s)
	}
}

// currencySymbol is the symbol of formatted money values: the emulated
// organization's base currency is the US dollar.
const currencySymbol = "$"

// lookupNames reads the primary names of referenced rows (ids by table),
// for lookups' formatted values: one query per table and 500 ids. Tables
// the caller may not read give no names, as Dataverse gives none.
func (req *request) lookupNames(byTable map[string][]any) (map[uuid.UUID]string, error) {
	names := map[uuid.UUID]string{}
	for table, ids := range byTable {
		target, ok := req.h.schema.Table(table)
		if !ok || target.PrimaryName() == nil {
			continue
		}
		for start := 0; start < len(ids); start += 500 {
			chunk := ids[start:min(start+500, len(ids))]
			page, err := req.data().Query(req.ctx, req.p, store.Query{
				Table: target, Columns: []*schema.Column{target.PrimaryName()},
				Where: store.In(target.PrimaryID(), chunk),
			})
			if store.KindOf(err) == store.KindPrivilege {
				break
			}
			if err != nil {
				return nil, err
			}
			for _, r := range page.Rows {
				if s, ok := r.Values[0].(string); ok {
					names[r.ID] = s
				}
			}
		}
	}
	return names, nil
}

// lookupNavigation returns the single-valued navigation property of t
// behind lookup c that references table target.
func lookupNavigation(t *schema.Table, c *schema.Column, target string) string {
	for _, n := range t.Navigations {
		if n.Collection || n.Column != c {
			continue
		}
		for _, x := range n.Targets {
			if x.LogicalName == target {
				return n.Name
			}
		}
	}
	return ""
}

// formatValue returns the formatted value Dataverse shows for a value, in
// en-US with the user's time zone UTC.
func formatValue(c *schema.Column, v any, currency string) (string, bool) {
	switch x := v.(type) {
	case int64:
		if c.OptionSet != nil {
			return c.OptionSet.Label(int(x)), true
		}
		return groupDigits(strconv.FormatInt(x, 10)), true
	case bool:
		if c.OptionSet != nil {
			if x {
				return c.OptionSet.Label(1), true
			}
			return c.OptionSet.Label(0), true
		}
	case []int64:
		labels := make([]string, len(x))
		for i, n := range x {
			labels[i] = c.OptionSet.Label(int(n))
		}
		return strings.Join(labels, "; "), true
	case store.Decimal:
		d, err := store.ParseDecimal(x.String(), c.Precision)
		if err != nil {
			return "", false
		}
		s := d.String()
		neg := strings.HasPrefix(s, "-")
		s = strings.TrimPrefix(s, "-")
		intPart, frac, _ := strings.Cut(s, ".")
		out := groupDigits(intPart)
		if frac != "" {
			out += "." + frac
		}
		if c.Type == schema.TypeMoney {
			out = currency + out
		}
		if neg {
			out = "-" + out
		}
		return out, true
	case float64:
		s := strconv.FormatFloat(x, 'f', c.Precision, 64)
		neg := strings.HasPrefix(s, "-")
		intPart, frac, _ := strings.Cut(strings.TrimPrefix(s, "-"), ".")
		out := groupDigits(intPart)
		if frac != "" {
			out += "." + frac
		}
		if neg {
			out = "-" + out
		}
		return out, true
	case time.Time:
		if c.DateOnly {
			return x.Format("1/2/2006"), true
		}
		return x.UTC().Format("1/2/2006 3:04 PM"), true
	}
	return "", false
}

func groupDigits(s string) string {
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	lead := len(s) % 3
	if lead > 0 {
		b.WriteString(s[:lead])
	}
	for i := lead; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}
