package scenario

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// plannedRecord is one seed record ready for the store.
type plannedRecord struct {
	path   []any
	fields []store.Field
}

// planRows checks the rows section against the schema and converts every value.
func (sc *Scenario) planRows(sch *schema.Schema, errs *scenarioErrors) []plannedRowSet {
	var out []plannedRowSet
	for _, set := range sc.Rows {
		t, ok := sch.TableBySet(set.EntitySet)
		if !ok {
			hint := ""
			if lt, isLogical := sch.Table(set.EntitySet); isLogical {
				hint = fmt.Sprintf("; rows are keyed by entity set name: write %s", lt.EntitySetName)
			}
			errs.add(path("rows", set.EntitySet), "there is no entity set %q%s", set.EntitySet, hint)
			continue
		}
		ps := plannedRowSet{table: t}
		for i, rec := range set.Records {
			p := path("rows", set.EntitySet, i)
			r := plannedRecord{path: p}
			for _, name := range sortedKeys(rec) {
				col, ok := t.Column(name)
				if !ok || col.Internal {
					errs.add(append(p, name), "table %s has no column %q", t.LogicalName, name)
					continue
				}
				if col.Formula != nil || (!col.ValidForCreate && col != t.PrimaryID()) {
					errs.add(append(p, name), "column %s.%s cannot be set on create", t.LogicalName, name)
					continue
				}
				v, err := rowValue(col, rec[name], sch)
				if err != nil {
					errs.add(append(p, name), "%v", err)
					continue
				}
				r.fields = append(r.fields, store.Field{Column: col, Value: v})
			}
			ps.records = append(ps.records, r)
		}
		out = append(out, ps)
	}
	return out
}

type plannedRowSet struct {
	table   *schema.Table
	records []plannedRecord
}

// rowValue converts a YAML value to the Go type the store expects for col.
func rowValue(col *schema.Column, v any, sch *schema.Schema) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch col.Type {
	case schema.TypeString, schema.TypeMemo:
		if s, ok := v.(string); ok {
			return s, nil
		}
		return nil, fmt.Errorf("%s is a text column; quote the value", col.LogicalName)
	case schema.TypeInteger, schema.TypeBigInt, schema.TypePicklist, schema.TypeState, schema.TypeStatus:
		n, ok := wholeNumber(v)
		if !ok {
			what := "a whole number"
			if col.Type.IsChoice() {
				what = "a choice's integer value"
			}
			return nil, fmt.Errorf("%s needs %s, not %v", col.LogicalName, what, v)
		}
		return n, nil
	case schema.TypeDouble:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int:
			return float64(x), nil
		}
		return nil, fmt.Errorf("%s needs a number, not %v", col.LogicalName, v)
	case schema.TypeDecimal, schema.TypeMoney:
		var text string
		switch x := v.(type) {
		case int:
			text = strconv.Itoa(x)
		case float64:
			text = strconv.FormatFloat(x, 'f', -1, 64)
		case string:
			text = x
		default:
			return nil, fmt.Errorf("%s needs a number, not %v", col.LogicalName, v)
		}
		d, err := store.ParseDecimal(text, col.Scale())
		if err != nil {
			return nil, fmt.Errorf("%s needs a number, not %q", col.LogicalName, text)
		}
		return d, nil
	case schema.TypeBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
		return nil, fmt.Errorf("%s needs true or false, not %v", col.LogicalName, v)
	case schema.TypeDateTime:
		switch x := v.(type) {
		case time.Time:
			return x.UTC(), nil
		case string:
			if t, err := time.Parse(time.RFC3339, x); err == nil {
				return t.UTC(), nil
			}
			if t, err := time.Parse(time.DateOnly, x); err == nil {
				return t, nil
			}
		}
		return nil, fmt.Errorf("%s needs a date-time such as 2024-05-01T10:30:00Z or a date such as 2024-05-01, not %v", col.LogicalName, v)
	case schema.TypeMultiSelectPicklist:
		list, ok := v.([]any)
		if !ok {
			return nil, fmt.Errorf("%s needs a list of choice values such as [1, 3]", col.LogicalName)
		}
		out := make([]int64, 0, len(list))
		for _, item := range list {
			n, ok := wholeNumber(item)
			if !ok {
				return nil, fmt.Errorf("%s needs a list of choice values such as [1, 3], not %v", col.LogicalName, item)
			}
			out = append(out, n)
		}
		return out, nil
	case schema.TypeUniqueidentifier:
		s, _ := v.(string)
		id, err := uuid.Parse(s)
		if err != nil {
			return nil, fmt.Errorf("%s needs a GUID, not %v", col.LogicalName, v)
		}
		return id, nil
	case schema.TypeLookup, schema.TypeCustomer, schema.TypeOwner:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("lookup %s needs \"entityset(guid)\", e.g. %q", col.LogicalName, lookupExample(col))
		}
		return lookupValue(col, s, sch)
	}
	return nil, fmt.Errorf("column %s (%s) cannot be seeded from a scenario", col.LogicalName, col.Type)
}

// lookupValue reads "entityset(guid)", "/entityset(guid)", or a bare GUID for a lookup with one
// target.
func lookupValue(col *schema.Column, s string, sch *schema.Schema) (any, error) {
	s = strings.TrimPrefix(strings.TrimSpace(s), "/")
	set, rest, hasParen := strings.Cut(s, "(")
	if !hasParen {
		id, err := uuid.Parse(s)
		if err != nil || len(col.Targets) != 1 {
			return nil, fmt.Errorf("lookup %s needs \"entityset(guid)\", e.g. %q", col.LogicalName, lookupExample(col))
		}
		return store.Ref{Table: col.Targets[0], ID: id}, nil
	}
	idText, ok := strings.CutSuffix(rest, ")")
	id, err := uuid.Parse(idText)
	if !ok || err != nil {
		return nil, fmt.Errorf("lookup %s: %q is not \"entityset(guid)\"", col.LogicalName, s)
	}
	t, found := sch.TableBySet(set)
	if !found {
		return nil, fmt.Errorf("lookup %s: there is no entity set %q", col.LogicalName, set)
	}
	for _, target := range col.Targets {
		if target == t.LogicalName {
			return store.Ref{Table: t.LogicalName, ID: id}, nil
		}
	}
	return nil, fmt.Errorf("lookup %s cannot point at %s (it points at %s)", col.LogicalName, set, strings.Join(col.Targets, " or "))
}

func lookupExample(col *schema.Column) string {
	set := "accounts"
	if targets := col.TargetTables(); len(targets) > 0 && targets[0] != nil {
		set = targets[0].EntitySetName
	}
	return set + "(00000000-0000-0000-0000-000000000001)"
}

// wholeNumber accepts YAML integers and integral floats.
func wholeNumber(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case uint64:
		if x <= math.MaxInt64 {
			return int64(x), true
		}
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1<<53 {
			return int64(x), true
		}
	}
	return 0, false
}
