package cli

import (
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// A polymorphic lookup (customer, owner, regarding: a lookup with several Targets) is written
// through one navigation property per target ("parentcustomerid_account@odata.bind",
// "parentcustomerid_contact@odata.bind"). A CSV can name them as separate columns, one filled per
// row; or, in the "_<lookup>_value" column an export writes, each cell names its table:
//
//	_parentcustomerid_value
//	account:5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65
//	contact:0f8fad5b-d9cb-469f-a165-70867728950e
//	accounts(accountnumber='A1')
//
// "<target logical name>:<id>" is the short form; a reference with the target's entity set, by
// id or alternate key, is the long one. A bare id is refused: it does not say which table it is
// in, and guessing would bind the row to the wrong record or fail half-way through the load.

// polyTarget is one table a polymorphic lookup points into.
type polyTarget struct {
	logicalName string // "account"
	set         string // "accounts"
	nav         string // "parentcustomerid_account"
}

// polyRef is the value of a polymorphic cell: the navigation property it binds and the
// reference.
type polyRef struct {
	property string // "<nav>@odata.bind"
	ref      string // "/accounts(<id>)"
}

// polyPlan reads a "_<lookup>_value" column of a lookup with several targets.
func (t *importTable) polyPlan(name, attr string, navs []string) columnPlan {
	ct := cellType{kind: cellBind}
	for _, nav := range navs {
		l, _ := t.md.Lookup(nav)
		for _, target := range t.bindTargets(l) {
			set, err := t.entitySet(target)
			if err != nil {
				return columnPlan{err: fmt.Errorf("reading the metadata of %s, a target of %s: %w", target, attr, err)}
			}
			ct.poly = append(ct.poly, polyTarget{logicalName: target, set: set, nav: nav})
			ct.bindSets = append(ct.bindSets, set)
		}
	}
	ct.polyAttr = attr
	return columnPlan{property: name, cell: ct, lookup: attr}
}

// parsePoly reads a polymorphic cell: "account:<id>", or "accounts(<id>)" or
// "accounts(<key>='v')".
func (ct *cellType) parsePoly(s string) (any, error) {
	if logical, id, ok := strings.Cut(s, ":"); ok && !strings.Contains(logical, "(") {
		for _, p := range ct.poly {
			if strings.EqualFold(p.logicalName, strings.TrimSpace(logical)) {
				u, err := uuid.Parse(strings.TrimSpace(id))
				if err != nil || len(strings.TrimSpace(id)) != 36 {
					return nil, fmt.Errorf("%s: %q is not a GUID; write %s:<id>, such as %s:5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65", quoteCell(s), strings.TrimSpace(id), p.logicalName, p.logicalName)
				}
				return polyRef{property: p.nav + "@odata.bind", ref: "/" + p.set + "(" + u.String() + ")"}, nil
			}
		}
		return nil, fmt.Errorf("%s names the table %q, but %s points to %s", quoteCell(s), logical, ct.polyAttr, ct.polyTables())
	}
	if _, err := uuid.Parse(s); err == nil && len(s) == 36 {
		return nil, fmt.Errorf("%s is an id alone, but %s can point to %s: write which, such as %s:%s", quoteCell(s), ct.polyAttr, ct.polyTables(), ct.poly[0].logicalName, s)
	}
	ref, err := parseBind(s, ct.bindSets, "")
	if err != nil {
		return nil, fmt.Errorf("%v (or write <table>:<id>, such as %s:5e0b7f0c-6d1c-4d1b-9a36-7c3f2a9e1d65)", err, ct.poly[0].logicalName)
	}
	set := strings.TrimPrefix(ref, "/")
	set = set[:strings.IndexByte(set, '(')]
	for _, p := range ct.poly {
		if p.set == set {
			return polyRef{property: p.nav + "@odata.bind", ref: ref}, nil
		}
	}
	return nil, fmt.Errorf("%s points into %q; %s points to %s", quoteCell(s), set, ct.polyAttr, ct.polyTables())
}

// polyTables lists the target tables for messages: "account or contact".
func (ct *cellType) polyTables() string {
	names := make([]string, len(ct.poly))
	for i, p := range ct.poly {
		names[i] = p.logicalName
	}
	return strings.Join(names, " or ")
}

// put stores a parsed value in the row under the property the plan writes (for a polymorphic
// cell, the navigation property its table chose) and returns that property.
func (p *columnPlan) put(row map[string]any, v any) string {
	if v == nil {
		row[p.nullProperty()] = nil
		return p.nullProperty()
	}
	if r, ok := v.(polyRef); ok {
		row[r.property] = r.ref
		return r.property
	}
	row[p.property] = v
	return p.property
}

// nullProperty is the property an empty cell clears with --empty-as-null: for a polymorphic
// lookup, its first navigation property (setting any of them to null clears the lookup column).
func (p *columnPlan) nullProperty() string {
	if len(p.cell.poly) > 0 {
		return p.cell.poly[0].nav + "@odata.bind"
	}
	return p.property
}
