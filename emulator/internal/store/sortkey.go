package store

import (
	"errors"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// Derived sort keys. Dataverse does not sort every column by what it
// stores:
//
//   - a lookup sorts by the primary name of the row it references (Web
//     API $orderby and FetchXML alike: "When you order using lookup
//     columns, the results are sorted using the primary name field for
//     the related table");
//   - FetchXML sorts a choice by its option labels, unless the fetch sets
//     useraworderby (Order.Label; OData $orderby sorts choices by value).
//
// [Query.SortKeys] expands such an Order into two keys: the derived value
// (text, compared case-insensitively like any text column), then the
// stored value, which breaks ties between rows with the same name or
// label. A [Cursor] carries both, so a keyset page resumes exactly after
// its last row. A null lookup, or one whose row has no name, has a null
// name: it sorts first ascending and last descending, as SQL Server sorts
// nulls.
//
// The name is read without the caller's read scope on the referenced
// table: Dataverse sorts by the name it joins in whatever the caller may
// read of the related table. Each table keeps a copy of the name of each
// lookup's row in a hidden name column, kept true by SQLite triggers (see
// namecolumn.go), so a lookup's order is an order by two columns of the
// table: the first query in that order creates a sort index on them
// (sortindex.go) and later pages seek it from the keyset cursor. Until the
// column is ready the name is read from the referenced row by a
// subquery, which no index serves. A choice's label is a CASE over the
// stored value, which no index serves either: each page of such an order
// sorts the rows after its cursor (memory bounded by the page, time by the
// table).

// sortKeyKind says what a sort key compares.
type sortKeyKind uint8

const (
	keyAsOrdered sortKeyKind = iota // an Order as written; SortKeys expands it
	keyValue                        // the column's stored value
	keyName                         // the primary name of the row a lookup references
	keyLabel                        // the label of a choice's value
)

// Derived reports whether o, one of [Query.SortKeys], compares a value
// derived from Column (the primary name of the row a lookup references, or
// the label of a choice) rather than Column's stored value, which is then
// the next key. A derived key's cursor values are text or null.
func (o Order) Derived() bool { return o.key == keyName || o.key == keyLabel }

// sortsByName reports whether an order by c sorts by the primary name of
// the referenced row: c is a lookup and a target table has a primary name.
func sortsByName(c *schema.Column) bool {
	if !c.IsLookup() {
		return false
	}
	for _, t := range c.TargetTables() {
		if t.PrimaryName() != nil {
			return true
		}
	}
	return false
}

// sortsByLabel reports whether c is a choice an Order with Label sorts by
// its option labels.
func sortsByLabel(c *schema.Column) bool {
	switch c.Type {
	case schema.TypePicklist, schema.TypeState, schema.TypeStatus:
		return c.OptionSet != nil && len(c.OptionSet.Options) > 0
	}
	return false
}

// plain reports whether o sorts by its column's stored value (what a sort
// index on the column serves).
func (o Order) plain() bool {
	switch o.key {
	case keyValue:
		return true
	case keyAsOrdered:
		return !sortsByName(o.Column) && !(o.Label && sortsByLabel(o.Column))
	}
	return false
}

// appendSortKeys appends the sort keys of o to keys: one, or the derived
// value and then the stored one.
func (o Order) appendSortKeys(keys []Order) []Order {
	if o.key != keyAsOrdered {
		return append(keys, o)
	}
	value := o
	value.key = keyValue
	derived := o
	switch {
	case sortsByName(o.Column):
		derived.key = keyName
	case o.Label && sortsByLabel(o.Column):
		derived.key = keyLabel
	default:
		return append(keys, value)
	}
	return append(keys, derived, value)
}

// writeSortKey writes the SQL expression of a sort key, binding what it
// needs (type names, labels) as parameters.
func (b *sqlBuilder) writeSortKey(o Order) error {
	if o.key == keyName {
		return b.writeLookupName(o)
	}
	col, err := b.column(o.Join, o.Column)
	if err != nil {
		return err
	}
	switch o.key {
	case keyLabel:
		b.writeChoiceLabel(o.Column, col)
		return nil
	}
	b.b.WriteString(col)
	return nil
}

// writeLookupName writes the primary name of the row the lookup o.Column
// references. When its name column is ready (see namecolumn.go) that is
// the column, of the query's table or of o's join:
//
//	t0."_dv_name_parentaccountid"
//
// and otherwise the name read from the referenced row:
//
//	((SELECT sk.name FROM account sk WHERE sk.accountid = t0.parentaccountid) COLLATE dv_ci)
//
// and for a polymorphic lookup the subquery of the table its type column
// names:
//
//	(CASE t0.owneridtype WHEN ? THEN (SELECT … systemuser …) WHEN ? THEN (SELECT … team …) END COLLATE dv_ci)
//
// Both compare the name as text is compared everywhere else,
// case-insensitively: the column is declared COLLATE dv_ci (so a sort
// index on it serves ORDER BY and the keyset comparisons), the expression
// says so.
func (b *sqlBuilder) writeLookupName(o Order) error {
	c := o.Column
	alias := "t0"
	if o.Join != nil {
		var ok bool
		if alias, ok = b.joins[o.Join]; !ok {
			return errors.New("store: a column refers to a table that is not joined in this query")
		}
	}
	if b.named != nil && b.named(c) {
		b.b.WriteString(alias + "." + nameColumn(c))
		return nil
	}
	col := alias + "." + quoteIdent(c.LogicalName)
	subquery := func(t *schema.Table) {
		b.b.WriteString("(SELECT sk." + quoteIdent(t.PrimaryName().LogicalName) + " FROM " + quoteIdent(t.LogicalName) +
			" sk WHERE sk." + quoteIdent(t.PrimaryID().LogicalName) + " = " + col + ")")
	}
	if !c.IsPolymorphic() {
		b.b.WriteString("(")
		subquery(c.TargetTables()[0])
		b.b.WriteString(" COLLATE " + collationText + ")")
		return nil
	}
	if _, ok := c.Table.Column(c.TypeColumn); !ok {
		return errors.New("store: the polymorphic lookup " + c.String() + " has no type column")
	}
	b.b.WriteString("(CASE " + alias + "." + quoteIdent(c.TypeColumn))
	for _, t := range c.TargetTables() {
		if t.PrimaryName() == nil {
			continue
		}
		b.b.WriteString(" WHEN ? THEN ")
		b.args = append(b.args, t.LogicalName)
		subquery(t)
	}
	b.b.WriteString(" END COLLATE " + collationText + ")")
	return nil
}

// writeChoiceLabel writes the label of the choice col's value, the labels
// bound as parameters; a value without an option sorts as its digits, as
// it is formatted, and null stays null:
//
//	(CASE t0.industrycode WHEN ? THEN ? … ELSE CAST(t0.industrycode AS TEXT) END COLLATE dv_ci)
func (b *sqlBuilder) writeChoiceLabel(c *schema.Column, col string) {
	b.b.WriteString("(CASE " + col)
	for _, opt := range c.OptionSet.Options {
		b.b.WriteString(" WHEN ? THEN ?")
		b.args = append(b.args, int64(opt.Value), opt.Label)
	}
	b.b.WriteString(" ELSE CAST(" + col + " AS TEXT) END COLLATE " + collationText + ")")
}
