package odata

import (
	"strconv"
	"strings"
)

// FormatSelect formats $select items as canonical OData text ("a,b", "*").
func FormatSelect(items []SelectItem) string {
	var b strings.Builder
	writeSelect(&b, items)
	return b.String()
}

func writeSelect(b *strings.Builder, items []SelectItem) {
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		if it.Star {
			b.WriteByte('*')
			continue
		}
		writeSegments(b, it.Path, false)
	}
}

// FormatOrderBy formats $orderby items as canonical OData text
// ("revenue desc,name"); ascending is written without a keyword.
func FormatOrderBy(items []OrderByItem) string {
	var b strings.Builder
	writeOrderBy(&b, items)
	return b.String()
}

func writeOrderBy(b *strings.Builder, items []OrderByItem) {
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		writeExpr(b, it.Expr)
		if it.Desc {
			b.WriteString(" desc")
		}
	}
}

// FormatExpand formats $expand items as canonical OData text
// ("primarycontactid($select=fullname),Account_Tasks/$ref").
func FormatExpand(items []ExpandItem) string {
	var b strings.Builder
	writeExpand(&b, items)
	return b.String()
}

func writeExpand(b *strings.Builder, items []ExpandItem) {
	for i, it := range items {
		if i > 0 {
			b.WriteByte(',')
		}
		writeSegments(b, it.Path, false)
		if it.Ref {
			b.WriteString("/$ref")
		}
		if it.Options != nil {
			b.WriteByte('(')
			writeExpandOptions(b, it.Options)
			b.WriteByte(')')
		}
	}
}

func writeExpandOptions(b *strings.Builder, o *ExpandOptions) {
	sep := false
	next := func(name string) {
		if sep {
			b.WriteByte(';')
		}
		sep = true
		b.WriteString(name)
		b.WriteByte('=')
	}
	if o.Select != nil {
		next("$select")
		writeSelect(b, o.Select)
	}
	if o.Filter != nil {
		next("$filter")
		writeExpr(b, o.Filter)
	}
	if o.OrderBy != nil {
		next("$orderby")
		writeOrderBy(b, o.OrderBy)
	}
	if o.Top != nil {
		next("$top")
		b.WriteString(strconv.FormatInt(*o.Top, 10))
	}
	if o.Expand != nil {
		next("$expand")
		writeExpand(b, o.Expand)
	}
}

// FormatApply formats $apply transformations as canonical OData text,
// joined with '/'.
func FormatApply(steps []Transformation) string {
	var b strings.Builder
	for i, t := range steps {
		if i > 0 {
			b.WriteByte('/')
		}
		writeTransformation(&b, t)
	}
	return b.String()
}

func writeTransformation(b *strings.Builder, t Transformation) {
	switch t := t.(type) {
	case *FilterTransformation:
		b.WriteString("filter(")
		writeExpr(b, t.Filter)
		b.WriteByte(')')
	case *GroupByTransformation:
		b.WriteString("groupby((")
		for i, p := range t.Properties {
			if i > 0 {
				b.WriteByte(',')
			}
			writePath(b, p)
		}
		b.WriteByte(')')
		if t.Aggregate != nil {
			b.WriteByte(',')
			writeTransformation(b, t.Aggregate)
		}
		b.WriteByte(')')
	case *AggregateTransformation:
		b.WriteString("aggregate(")
		for i, it := range t.Items {
			if i > 0 {
				b.WriteByte(',')
			}
			if it.Method == AggregateCountRows {
				b.WriteString("$count")
			} else {
				writePath(b, it.Path)
				b.WriteString(" with ")
				b.WriteString(it.Method.String())
			}
			b.WriteString(" as ")
			b.WriteString(it.Alias)
		}
		b.WriteByte(')')
	}
}

// String implements Transformation.
func (t *FilterTransformation) String() string { return FormatApply([]Transformation{t}) }

// String implements Transformation.
func (t *GroupByTransformation) String() string { return FormatApply([]Transformation{t}) }

// String implements Transformation.
func (t *AggregateTransformation) String() string { return FormatApply([]Transformation{t}) }
