package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// AggregateFunc is an aggregation method of $apply.
type AggregateFunc uint8

// The aggregation methods.
const (
	AggSum AggregateFunc = iota + 1
	AggAverage
	AggMin
	AggMax
	AggCountDistinct
	AggCount // number of rows; Measure.Column is nil
)

// Measure is one aggregated value of a grouped query.
type Measure struct {
	Column *schema.Column // nil for AggCount
	Func   AggregateFunc
}

// Aggregation is a grouped read: the rows matching Where, grouped by the
// GroupBy columns (none: one group), with the Measures of each group.
type Aggregation struct {
	Table    *schema.Table
	Where    Cond
	GroupBy  []*schema.Column
	Measures []Measure
}

// AggregateRowLimit is the most rows an aggregation may read.
const AggregateRowLimit = 50000

// CodeAggregateLimit is AggregateQueryRecordLimitExceeded.
const CodeAggregateLimit = "0x8004e023"

// Aggregate runs a grouped query. Each result row holds the group values
// (typed like the columns) then the measures: sums of whole numbers are
// int64, of decimals and money Decimal, of doubles float64; averages are
// Decimal (float64 for doubles); min and max keep the column's type;
// counts are int64. Rows are ordered by the group values.
func (s *Store) Aggregate(ctx context.Context, p *Principal, a Aggregation) ([][]any, error) {
	return s.aggregate(ctx, s.db, p, a)
}

// Aggregate is [Store.Aggregate] inside the transaction.
func (tx *Tx) Aggregate(ctx context.Context, p *Principal, a Aggregation) ([][]any, error) {
	return tx.s.aggregate(ctx, tx.tx, p, a)
}

func (s *Store) aggregate(ctx context.Context, db querier, p *Principal, a Aggregation) ([][]any, error) {
	t := a.Table
	n, err := s.count(ctx, db, p, t, a.Where, AggregateRowLimit+1)
	if err != nil {
		return nil, err
	}
	if n > AggregateRowLimit {
		return nil, &Error{Kind: KindValidation, Code: CodeAggregateLimit, Message: "The maximum record limit is exceeded. Reduce the number of records."}
	}
	depth, err := s.Require(p, VerbRead, t)
	if err != nil {
		return nil, err
	}
	b := &sqlBuilder{alias: "t0"}
	var sel []string
	for _, c := range a.GroupBy {
		sel = append(sel, b.col(c))
		if c.TypeColumn != "" {
			tc, _ := t.Column(c.TypeColumn)
			sel = append(sel, b.col(tc))
		}
	}
	for _, m := range a.Measures {
		expr, err := measureSQL(b, m)
		if err != nil {
			return nil, err
		}
		sel = append(sel, expr)
	}
	b.b.WriteString("SELECT " + strings.Join(sel, ", ") + " FROM " + quoteIdent(t.LogicalName) + " t0 WHERE ")
	if err := And(a.Where, accessScope(p, depth, t)).render(b); err != nil {
		return nil, err
	}
	if len(a.GroupBy) > 0 {
		var keys []string
		for _, c := range a.GroupBy {
			keys = append(keys, b.col(c))
		}
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
		row := make([]any, 0, len(a.GroupBy)+len(a.Measures))
		i := 0
		for _, c := range a.GroupBy {
			typeName := ""
			if c.TypeColumn != "" {
				typeName = asStringOrEmpty(raw[i+1])
			}
			v, err := goValue(c, raw[i], typeName)
			if err != nil {
				return nil, err
			}
			row = append(row, v)
			i++
			if c.TypeColumn != "" {
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

func measureSQL(b *sqlBuilder, m Measure) (string, error) {
	if m.Func == AggCount {
		return "count(*)", nil
	}
	col := b.col(m.Column)
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
	}
	return "", fmt.Errorf("store: unknown aggregate %d", m.Func)
}

func measureValue(m Measure, raw any) (any, error) {
	switch m.Func {
	case AggCount, AggCountDistinct:
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
