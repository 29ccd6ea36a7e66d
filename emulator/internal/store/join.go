package store

import (
	"errors"
	"strconv"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// Join links the rows of another table to a query's rows, as a FetchXML
// link-entity does: the rows of Table whose From column equals the To
// column of the parent (the query's table, or the Join that encloses this
// one). Joins nest; an inner join drops parent rows without a match, an
// outer join keeps them with nulls.
//
// A Join is built from validated metadata only: Table, From and To come
// from the schema, never from caller text, and From and To must hold
// comparable values (a lookup and a primary key, or two columns of the
// same type). When To is a polymorphic lookup (ownerid, parentcustomerid)
// the join also requires its recorded target table to be Table, and the
// other way round when From is one.
//
// The principal needs the Read privilege on Table; rows its depth does not
// reach are not joined (an inner join then drops the parent row). Table may
// be the intersect table of an N:N relationship ([schema.Schema.IntersectTable]),
// which needs no privilege.
type Join struct {
	// Table is the joined table.
	Table *schema.Table
	// From is the column of Table matched against To.
	From *schema.Column
	// To is the column of the parent table.
	To *schema.Column
	// Outer makes the join a LEFT OUTER JOIN; otherwise it is INNER.
	Outer bool
	// On restricts the joined rows (a link-entity's own filters); its
	// conditions refer to Table's columns. nil for none.
	On Cond
	// Columns are the joined table's columns to return. They follow the
	// parent's in each Row's Values (see [Query.Joins]).
	Columns []*schema.Column
	// Joins are the joins nested in this one.
	Joins []*Join
}

// walkJoins calls fn for every join, depth-first, parents before their
// nested joins, in order; the order of join columns in a row.
func walkJoins(joins []*Join, fn func(j *Join)) {
	for _, j := range joins {
		fn(j)
		walkJoins(j.Joins, fn)
	}
}

// MaxJoins is the most joins a query may have, nested ones included, as
// Dataverse allows at most 15 link-entity elements in a query.
const MaxJoins = 15

// InJoin evaluates c against the row joined by j instead of the query's
// own row: the `entityname` of a FetchXML condition. j must be one of the
// query's joins.
func InJoin(j *Join, c Cond) Cond { return joinCond{j, c} }

type joinCond struct {
	j *Join
	c Cond
}

func (c joinCond) render(b *sqlBuilder) error {
	alias, ok := b.joins[c.j]
	if !ok {
		return errors.New("store: a condition refers to a table that is not joined in this query")
	}
	outer := b.alias
	b.alias = alias
	err := c.c.render(b)
	b.alias = outer
	return err
}

// assignJoins gives every join of a query its SQL alias (j1, j2…).
func (b *sqlBuilder) assignJoins(joins []*Join) error {
	n := 0
	var err error
	walkJoins(joins, func(j *Join) {
		n++
		if j == nil || j.Table == nil || j.From == nil || j.To == nil {
			err = errors.New("store: a join needs Table, From and To")
			return
		}
		if b.joins == nil {
			b.joins = map[*Join]string{}
		}
		if _, dup := b.joins[j]; dup {
			err = errors.New("store: the same join appears twice in a query")
			return
		}
		b.joins[j] = "j" + strconv.Itoa(n)
	})
	if err == nil && n > MaxJoins {
		err = &Error{Kind: KindValidation, Reason: ReasonTooManyJoins, Message: "Number of link entities in query exceeded maximum limit."}
	}
	return err
}

// requireJoins checks the Read privilege on every joined table and
// returns the depth of each.
func (s *Store) requireJoins(p *Principal, joins []*Join) (map[*Join]Depth, error) {
	if len(joins) == 0 {
		return nil, nil
	}
	depths := map[*Join]Depth{}
	var err error
	walkJoins(joins, func(j *Join) {
		if err != nil || j == nil || j.Table == nil {
			return
		}
		if j.Table.Intersect != nil {
			// An N:N intersect table has no privileges of its own; the
			// tables it pairs are checked when joined.
			depths[j] = DepthOrganization
			return
		}
		depths[j], err = s.Require(p, VerbRead, j.Table)
	})
	return depths, err
}

// renderJoins writes the JOIN clauses of joins whose parent has the SQL
// alias parentAlias.
func (b *sqlBuilder) renderJoins(p *Principal, parent *schema.Table, parentAlias string, joins []*Join, depths map[*Join]Depth) error {
	for _, j := range joins {
		if j.From.Table != j.Table || j.To.Table != parent {
			return errors.New("store: a join's From column must belong to its table and its To column to the parent table")
		}
		if j.From.EdmType() != j.To.EdmType() {
			return &Error{Kind: KindValidation, Reason: ReasonJoinTypeMismatch, Message: "Data Types don't match for the link-entity join attributes '" +
				j.From.LogicalName + "', '" + j.To.LogicalName + "'."}
		}
		alias := b.joins[j]
		if j.Outer {
			b.b.WriteString(" LEFT JOIN ")
		} else {
			b.b.WriteString(" JOIN ")
		}
		b.b.WriteString(quoteIdent(j.Table.LogicalName) + " " + alias + " ON ")
		conds := []Cond{rawCond{sql: alias + "." + quoteIdent(j.From.LogicalName) + " = " + parentAlias + "." + quoteIdent(j.To.LogicalName)}}
		if tc := j.To.TypeColumn; tc != "" && j.From == j.Table.PrimaryID() {
			conds = append(conds, rawCond{sql: parentAlias + "." + quoteIdent(tc) + " = ?", args: []any{j.Table.LogicalName}})
		}
		if tc := j.From.TypeColumn; tc != "" && j.To == parent.PrimaryID() {
			conds = append(conds, rawCond{sql: alias + "." + quoteIdent(tc) + " = ?", args: []any{parent.LogicalName}})
		}
		conds = append(conds, j.On, accessScope(p, depths[j], j.Table))
		outer := b.alias
		b.alias = alias
		err := And(conds...).render(b)
		b.alias = outer
		if err != nil {
			return err
		}
		if err := b.renderJoins(p, j.Table, alias, j.Joins, depths); err != nil {
			return err
		}
	}
	return nil
}

// column returns the SQL expression of a column of the query's table (j
// nil) or of a joined table.
func (b *sqlBuilder) column(j *Join, c *schema.Column) (string, error) {
	if j == nil {
		return "t0." + quoteIdent(c.LogicalName), nil
	}
	alias, ok := b.joins[j]
	if !ok {
		return "", errors.New("store: a column refers to a table that is not joined in this query")
	}
	return alias + "." + quoteIdent(c.LogicalName), nil
}

// fromWhere writes " FROM <table> t0 <joins> WHERE <conds>" for a read of
// t by p at depth, with the access scopes of t and of every joined table.
func (b *sqlBuilder) fromWhere(p *Principal, t *schema.Table, depth Depth, joins []*Join, depths map[*Join]Depth, conds ...Cond) error {
	b.b.WriteString(" FROM " + quoteIdent(t.LogicalName) + " t0")
	if err := b.renderJoins(p, t, "t0", joins, depths); err != nil {
		return err
	}
	b.b.WriteString(" WHERE ")
	b.alias = "t0"
	return And(append(conds, accessScope(p, depth, t))...).render(b)
}
