package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// AggregateFunc is an aggregation method of $apply and FetchXML.
type AggregateFunc uint8

// The aggregation methods.
const (
	AggSum AggregateFunc = iota + 1
	AggAverage
	AggMin
	AggMax
	AggCountDistinct // number of distinct non-null values
	AggCount         // number of rows; Measure.Column is nil
	AggCountColumn   // number of non-null values (FetchXML countcolumn)
)

// Measure is one aggregated value of a grouped query.
type Measure struct {
	Column *schema.Column // nil for AggCount
	// Join, when set, says Column belongs to that joined table.
	Join *Join
	Func AggregateFunc
}

// DatePart is the part of a date-time a group key takes (FetchXML
// dategrouping), evaluated in UTC.
type DatePart uint8

// The date parts. Week is the week of the year as SQL Server's DATEPART
// counts it (weeks start on Sunday; the week holding 1 January is week 1).
const (
	DateDay DatePart = iota + 1
	DateWeek
	DateMonth
	DateQuarter
	DateYear
)

// GroupKey is one grouping key of an aggregation: a column of the table or
// of a join, or a part of a date-time column.
type GroupKey struct {
	Column *schema.Column
	Join   *Join
	// Date, when set, groups by that part of the date (an int64 in the
	// result) instead of the value.
	Date DatePart
}

// Aggregation is a grouped read: the rows matching Where (with Joins),
// grouped by Groups (none: one group), with the Measures of each group.
type Aggregation struct {
	Table    *schema.Table
	Where    Cond
	Joins    []*Join
	Groups   []GroupKey
	Measures []Measure
	// Limit lowers the number of rows an aggregation may read below
	// [AggregateRowLimit] (FetchXML aggregatelimit); 0 keeps the default
	// (the store's, see Options.MaxAggregateRows).
	Limit int
}

// AggregateRowLimit is the most rows an aggregation may read.
const AggregateRowLimit = 50000

// Aggregate runs a grouped query. Each result row holds the group values
// (typed like the columns; date parts as int64) then the measures: sums
// of whole numbers are int64, of decimals and money Decimal, of doubles
// float64; averages are Decimal (float64 for doubles); min and max keep the
// column's type; counts are int64. Rows are ordered by the group values.
// Reading more than [AggregateRowLimit] rows (or Options.MaxAggregateRows,
// or Limit) fails with
// AggregateQueryRecordLimitExceeded.
func (s *Store) Aggregate(ctx context.Context, p *Principal, a Aggregation) ([][]any, error) {
	return s.aggregate(ctx, s.db, p, a)
}

// Aggregate is [Store.Aggregate] inside the transaction.
func (tx *Tx) Aggregate(ctx context.Context, p *Principal, a Aggregation) ([][]any, error) {
	return tx.s.aggregate(ctx, tx.tx, p, a)
}

func (s *Store) aggregate(ctx context.Context, db querier, p *Principal, a Aggregation) ([][]any, error) {
	t := a.Table
	limit := s.aggregateLimit
	if a.Limit > 0 && a.Limit < limit {
		limit = a.Limit
	}
	n, err := s.countRows(ctx, db, p, Query{Table: t, Where: a.Where, Joins: a.Joins}, limit+1)
	if err != nil {
		return nil, err
	}
	if n > limit {
		return nil, &Error{Kind: KindValidation, Reason: ReasonAggregateLimit, Message: "The maximum record limit is exceeded. Reduce the number of records."}
	}
	depth, err := s.Require(p, VerbRead, t)
	if err != nil {
		return nil, err
	}
	depths, err := s.requireJoins(p, a.Joins)
	if err != nil {
		return nil, err
	}
	b := &sqlBuilder{alias: "t0"}
	if err := b.assignJoins(a.Joins); err != nil {
		return nil, err
	}
	var sel, keys []string
	for _, g := range a.Groups {
		expr, err := b.column(g.Join, g.Column)
		if err != nil {
			return nil, err
		}
		if g.Date != 0 {
			if g.Column.Type != schema.TypeDateTime {
				return nil, validationf("The column '%s' is not a date and cannot be grouped by a part of a date.", g.Column.LogicalName)
			}
			expr = datePartSQL(expr, g.Date)
		}
		keys = append(keys, expr)
		sel = append(sel, expr)
		if g.Date == 0 && g.Column.TypeColumn != "" {
			tc, _ := g.Column.Table.Column(g.Column.TypeColumn)
			typeExpr, _ := b.column(g.Join, tc)
			sel = append(sel, "max("+typeExpr+")")
		}
	}
	for _, m := range a.Measures {
		expr, err := measureSQL(b, m)
		if err != nil {
			return nil, err
		}
		sel = append(sel, expr)
	}
	b.b.WriteString("SELECT " + strings.Join(sel, ", "))
	if err := b.fromWhere(p, t, depth, a.Joins, depths, a.Where); err != nil {
		return nil, err
	}
	if len(keys) > 0 {
		b.b.WriteString(" GROUP BY " + strings.Join(keys, ", ") + " ORDER BY " + strings.Join(keys, ", "))
	}
	rows, err := db.QueryContext(ctx, b.b.String(), b.args...)
	if err != nil {
		return nil, fmt.Errorf("store: aggregate %s: %w", t.LogicalName, err)
	}
	defer rows.Close()
	var out [][]any
	width := len(sel)
	raw := make([]any, width)
	ptrs := make([]any, width)
	for i := range raw {
		ptrs[i] = &raw[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, err
		}
		row := make([]any, 0, len(a.Groups)+len(a.Measures))
		i := 0
		for _, g := range a.Groups {
			if g.Date != 0 {
				v, _ := raw[i].(int64)
				if raw[i] == nil {
					row = append(row, nil)
				} else {
					row = append(row, v)
				}
				i++
				continue
			}
			typeName := ""
			if g.Column.TypeColumn != "" {
				typeName = asStringOrEmpty(raw[i+1])
			}
			v, err := goValue(g.Column, raw[i], typeName)
			if err != nil {
				return nil, err
			}
			row = append(row, v)
			i++
			if g.Column.TypeColumn != "" {
				i++
			}
		}
		for _, m := range a.Measures {
			v, err := measureValue(m, raw[i])
			if err != nil {
				return nil, err
			}
			row = append(row, v)
			i++
		}
		out = append(out, row)
	}
	return out, rows.Err()
}

// datePartSQL extracts a date part from stored date-time text
// ("2006-01-02T15:04:05Z" or "2006-01-02"), which SQLite's date functions
// read directly.
func datePartSQL(expr string, part DatePart) string {
	num := func(format string) string { return "CAST(strftime('" + format + "', " + expr + ") AS INTEGER)" }
	switch part {
	case DateDay:
		return num("%d")
	case DateMonth:
		return num("%m")
	case DateQuarter:
		return "((" + num("%m") + " + 2) / 3)"
	case DateYear:
		return num("%Y")
	}
	// Week: days before this one in the year, plus the weekday of 1
	// January (0 = Sunday), in whole weeks, counted from 1.
	return "((" + num("%j") + " - 1 + CAST(strftime('%w', " + expr + ", 'start of year') AS INTEGER)) / 7 + 1)"
}

func measureSQL(b *sqlBuilder, m Measure) (string, error) {
	if m.Func == AggCount {
		return "count(*)", nil
	}
	if m.Column == nil {
		return "", fmt.Errorf("store: aggregate %d needs a column", m.Func)
	}
	col, err := b.column(m.Join, m.Column)
	if err != nil {
		return "", err
	}
	numeric := m.Column.Type.IsNumeric()
	switch m.Func {
	case AggSum, AggAverage:
		if !numeric {
			return "", validationf("The column '%s' is not a number and cannot be summed or averaged.", m.Column.LogicalName)
		}
		fn := "sum"
		if m.Func == AggAverage {
			fn = "avg"
		}
		return fn + "(CAST(" + col + " AS REAL))", nil
	case AggMin:
		return "min(" + col + ")", nil
	case AggMax:
		return "max(" + col + ")", nil
	case AggCountDistinct:
		return "count(DISTINCT " + col + ")", nil
	case AggCountColumn:
		return "count(" + col + ")", nil
	}
	return "", fmt.Errorf("store: unknown aggregate %d", m.Func)
}

func measureValue(m Measure, raw any) (any, error) {
	switch m.Func {
	case AggCount, AggCountDistinct, AggCountColumn:
		n, _ := raw.(int64)
		return n, nil
	case AggMin, AggMax:
		return goValue(m.Column, raw, "")
	}
	if raw == nil {
		return nil, nil
	}
	f, ok := raw.(float64)
	if !ok {
		if n, isInt := raw.(int64); isInt {
			f = float64(n)
		} else {
			return nil, fmt.Errorf("store: aggregate of %s returned %T", m.Column, raw)
		}
	}
	switch m.Column.Type {
	case schema.TypeDouble:
		return f, nil
	case schema.TypeInteger, schema.TypeBigInt:
		if m.Func == AggSum {
			return int64(f), nil
		}
	}
	scale := m.Column.Scale()
	if scale == 0 {
		scale = 2
	}
	return DecimalFromFloat(f, scale)
}
