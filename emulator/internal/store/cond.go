package store

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// Cond is a row condition of a query, built from metadata and typed
// values and rendered to SQL with bound parameters. Callers build
// conditions with the constructors below; they never write SQL.
type Cond interface {
	render(b *sqlBuilder) error
}

// Op is a comparison operator.
type Op uint8

// The comparison operators.
const (
	OpEq Op = iota + 1
	OpNe
	OpGt
	OpGe
	OpLt
	OpLe
)

var opSQL = [...]string{OpEq: "=", OpNe: "<>", OpGt: ">", OpGe: ">=", OpLt: "<", OpLe: "<="}

// sqlBuilder accumulates SQL text and its arguments. alias is the alias of
// the table conditions currently refer to.
type sqlBuilder struct {
	b     strings.Builder
	args  []any
	alias string
	next  int
	// joins holds the SQL alias of each join of the query being built.
	joins map[*Join]string
	// named reports whether a lookup's name column may be read (see
	// namecolumn.go); nil reads every name from the referenced row.
	named func(*schema.Column) bool
}

func (b *sqlBuilder) col(c *schema.Column) string { return b.alias + "." + quoteIdent(c.LogicalName) }

func (b *sqlBuilder) newAlias() string {
	b.next++
	return "t" + strconv.Itoa(b.next)
}

// Compare is `column op value`. A nil value with OpEq is `IS NULL` and
// with OpNe `IS NOT NULL`; other operators with nil match nothing, as in
// SQL. String comparisons ignore case; decimals compare numerically.
func Compare(col *schema.Column, op Op, value any) Cond { return compareCond{col, op, value} }

type compareCond struct {
	col   *schema.Column
	op    Op
	value any
}

func (c compareCond) render(b *sqlBuilder) error {
	if c.op < OpEq || c.op > OpLe {
		return fmt.Errorf("store: unknown operator %d", c.op)
	}
	if c.value == nil {
		switch c.op {
		case OpEq:
			b.b.WriteString(b.col(c.col) + " IS NULL")
		case OpNe:
			b.b.WriteString(b.col(c.col) + " IS NOT NULL")
		default:
			b.b.WriteString("0")
		}
		return nil
	}
	v, err := sqlValue(c.col, c.value)
	if err != nil {
		return err
	}
	b.b.WriteString(b.col(c.col) + " " + opSQL[c.op] + " ?")
	b.args = append(b.args, v)
	return nil
}

// CompareColumns is `a op b` for two columns of the same row.
func CompareColumns(a *schema.Column, op Op, other *schema.Column) Cond {
	return columnsCond{a, op, other}
}

type columnsCond struct {
	a  *schema.Column
	op Op
	b  *schema.Column
}

func (c columnsCond) render(b *sqlBuilder) error {
	if c.op < OpEq || c.op > OpLe {
		return fmt.Errorf("store: unknown operator %d", c.op)
	}
	b.b.WriteString(b.col(c.a) + " " + opSQL[c.op] + " " + b.col(c.b))
	return nil
}

// IsNull is `column IS NULL`.
func IsNull(col *schema.Column) Cond { return compareCond{col, OpEq, nil} }

// NotNull is `column IS NOT NULL`.
func NotNull(col *schema.Column) Cond { return compareCond{col, OpNe, nil} }

// And is the conjunction of conditions; And() is true. Nested
// conjunctions are flattened, so long chains stay shallow in SQL.
func And(conds ...Cond) Cond { return logicCond{" AND ", "1", flatten(" AND ", conds)} }

// Or is the disjunction of conditions; Or() is false.
func Or(conds ...Cond) Cond { return logicCond{" OR ", "0", flatten(" OR ", conds)} }

func flatten(sep string, conds []Cond) []Cond {
	out := make([]Cond, 0, len(conds))
	for _, c := range conds {
		if l, ok := c.(logicCond); ok && l.sep == sep {
			out = append(out, l.conds...)
			continue
		}
		out = append(out, c)
	}
	return out
}

type logicCond struct {
	sep, empty string
	conds      []Cond
}

func (c logicCond) render(b *sqlBuilder) error {
	n := 0
	for _, x := range c.conds {
		if x != nil {
			n++
		}
	}
	if n == 0 {
		b.b.WriteString(c.empty)
		return nil
	}
	b.b.WriteByte('(')
	first := true
	for _, x := range c.conds {
		if x == nil {
			continue
		}
		if !first {
			b.b.WriteString(c.sep)
		}
		first = false
		if err := x.render(b); err != nil {
			return err
		}
	}
	b.b.WriteByte(')')
	return nil
}

// Not negates a condition.
func Not(c Cond) Cond { return notCond{c} }

type notCond struct{ c Cond }

func (c notCond) render(b *sqlBuilder) error {
	b.b.WriteString("NOT (")
	if err := c.c.render(b); err != nil {
		return err
	}
	b.b.WriteByte(')')
	return nil
}

// Like matches a text column against a SQL Server LIKE pattern (%, _,
// [set], [^set]), ignoring case. contains(x,'a') is Like(x, "%a%").
func Like(col *schema.Column, pattern string) Cond { return likeCond{col, pattern} }

type likeCond struct {
	col     *schema.Column
	pattern string
}

func (c likeCond) render(b *sqlBuilder) error {
	b.b.WriteString(funcLike + "(" + b.col(c.col) + ", ?)")
	b.args = append(b.args, c.pattern)
	return nil
}

// In is `column IN (values…)`; In with no values is false.
func In(col *schema.Column, values []any) Cond { return inCond{col, values} }

type inCond struct {
	col    *schema.Column
	values []any
}

func (c inCond) render(b *sqlBuilder) error {
	if len(c.values) == 0 {
		b.b.WriteString("0")
		return nil
	}
	b.b.WriteString(b.col(c.col) + " IN (")
	for i, v := range c.values {
		sv, err := sqlValue(c.col, v)
		if err != nil {
			return err
		}
		if i > 0 {
			b.b.WriteByte(',')
		}
		b.b.WriteByte('?')
		b.args = append(b.args, sv)
	}
	b.b.WriteByte(')')
	return nil
}

// True matches every row; False none.
var (
	True  Cond = rawCond{sql: "1"}
	False Cond = rawCond{sql: "0"}
)

// rawCond is SQL written inside the store, with "{t}" standing for the
// current table alias. It never holds caller text.
type rawCond struct {
	sql  string
	args []any
}

func (c rawCond) render(b *sqlBuilder) error {
	b.b.WriteString(strings.ReplaceAll(c.sql, "{t}", b.alias))
	b.args = append(b.args, c.args...)
	return nil
}

// Related applies a condition to the row a single-valued navigation
// property points at (`primarycontactid/fullname eq 'x'`): true when the
// lookup is set and the referenced row matches. For ownerid, either
// target may match.
func Related(nav *schema.NavigationProperty, c Cond) Cond {
	return relatedCond{nav: nav, cond: c, kind: relatedSingle}
}

// Any is true when some row of a collection-valued navigation property
// matches (`Account_Tasks/any(t:t/statecode eq 0)`); with c nil, when the
// collection is not empty.
func Any(nav *schema.NavigationProperty, c Cond) Cond {
	return relatedCond{nav: nav, cond: c, kind: relatedAny}
}

// All is true when every row of a collection-valued navigation property
// matches (vacuously true for an empty collection).
func All(nav *schema.NavigationProperty, c Cond) Cond {
	return relatedCond{nav: nav, cond: c, kind: relatedAll}
}

type relatedKind uint8

const (
	relatedSingle relatedKind = iota + 1
	relatedAny
	relatedAll
)

type relatedCond struct {
	nav  *schema.NavigationProperty
	cond Cond
	kind relatedKind
}

func (c relatedCond) render(b *sqlBuilder) error {
	outer := b.alias
	inner := b.newAlias()
	nav := c.nav
	var froms []string // one subquery per target (ownerid has two)
	var joins []string
	var joinArgs [][]any
	switch {
	case !nav.Collection:
		for _, target := range nav.Targets {
			where := inner + "." + quoteIdent(target.PrimaryID().LogicalName) + " = " + outer + "." + quoteIdent(nav.Column.LogicalName)
			var args []any
			if nav.Column.TypeColumn != "" {
				where += " AND " + outer + "." + quoteIdent(nav.Column.TypeColumn) + " = ?"
				args = append(args, target.LogicalName)
			}
			froms = append(froms, quoteIdent(target.LogicalName)+" "+inner)
			joins = append(joins, where)
			joinArgs = append(joinArgs, args)
		}
	case nav.IsManyToMany():
		r := nav.Relationship
		self, other := r.Entity1IntersectAttribute, r.Entity2IntersectAttribute
		if nav.Table.LogicalName != r.Entity1 || (r.Entity1 == r.Entity2 && nav.Name == r.Entity2Navigation) {
			self, other = other, self
		}
		target := nav.Target()
		ix := b.newAlias()
		froms = append(froms, quoteIdent(r.IntersectEntity)+" "+ix+" JOIN "+quoteIdent(target.LogicalName)+" "+inner+
			" ON "+inner+"."+quoteIdent(target.PrimaryID().LogicalName)+" = "+ix+"."+quoteIdent(other))
		joins = append(joins, ix+"."+quoteIdent(self)+" = "+outer+"."+quoteIdent(nav.Table.PrimaryID().LogicalName))
		joinArgs = append(joinArgs, nil)
	default:
		target := nav.Target()
		where := inner + "." + quoteIdent(nav.Column.LogicalName) + " = " + outer + "." + quoteIdent(nav.Table.PrimaryID().LogicalName)
		var args []any
		if nav.Column.TypeColumn != "" {
			where += " AND " + inner + "." + quoteIdent(nav.Column.TypeColumn) + " = ?"
			args = append(args, nav.Table.LogicalName)
		}
		froms = append(froms, quoteIdent(target.LogicalName)+" "+inner)
		joins = append(joins, where)
		joinArgs = append(joinArgs, args)
	}
	if len(froms) > 1 {
		b.b.WriteByte('(')
	}
	for i := range froms {
		if i > 0 {
			b.b.WriteString(" OR ")
		}
		if c.kind == relatedAll {
			b.b.WriteString("NOT ")
		}
		b.b.WriteString("EXISTS (SELECT 1 FROM " + froms[i] + " WHERE " + joins[i])
		b.args = append(b.args, joinArgs[i]...)
		if c.cond != nil {
			b.b.WriteString(" AND ")
			if c.kind == relatedAll {
				b.b.WriteString("NOT ")
			}
			b.b.WriteByte('(')
			b.alias = inner
			err := c.cond.render(b)
			b.alias = outer
			if err != nil {
				return err
			}
			b.b.WriteByte(')')
		}
		b.b.WriteByte(')')
	}
	if len(froms) > 1 {
		b.b.WriteByte(')')
	}
	return nil
}

// ContainsValue is true when a multi-select choice column holds the
// option value n.
func ContainsValue(col *schema.Column, n int64) Cond { return containsValueCond{col, n} }

type containsValueCond struct {
	col *schema.Column
	n   int64
}

func (c containsValueCond) render(b *sqlBuilder) error {
	b.b.WriteString("instr(',' || " + b.col(c.col) + " || ',', ?) > 0")
	b.args = append(b.args, ","+strconv.FormatInt(c.n, 10)+",")
	return nil
}

// RefersTo is true when lookup col references ref (for a polymorphic
// lookup, a row of ref's table).
func RefersTo(col *schema.Column, ref Ref) Cond {
	if col.TypeColumn == "" {
		return compareCond{col, OpEq, ref}
	}
	return And(compareCond{col, OpEq, ref}, rawCond{sql: "{t}." + quoteIdent(col.TypeColumn) + " = ?", args: []any{ref.Table}})
}

// AssociatedWith is true for the rows of nav's target that an N:N
// navigation property pairs with row id of nav.Table.
func AssociatedWith(nav *schema.NavigationProperty, id uuid.UUID) Cond {
	r := nav.Relationship
	self, other := r.Entity1IntersectAttribute, r.Entity2IntersectAttribute
	if nav.Table.LogicalName != r.Entity1 || (r.Entity1 == r.Entity2 && nav.Name == r.Entity2Navigation) {
		self, other = other, self
	}
	return rawCond{
		sql: "{t}." + quoteIdent(nav.Target().PrimaryID().LogicalName) + " IN (SELECT " + quoteIdent(other) + " FROM " +
			quoteIdent(r.IntersectEntity) + " WHERE " + quoteIdent(self) + " = ?)",
		args: []any{id.String()},
	}
}
