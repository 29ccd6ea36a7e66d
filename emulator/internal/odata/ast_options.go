package odata

// Query is the parsed query string of a Web API GET (see [ParseQuery]).
// A field is its zero value when the option was absent.
type Query struct {
	// Select is $select; nil when absent. `$select=*` gives one item with
	// Star set.
	Select []SelectItem
	// Filter is $filter; nil when absent.
	Filter Expr
	// OrderBy is $orderby; nil when absent.
	OrderBy []OrderByItem
	// Top is $top; nil when absent.
	Top *int64
	// Count is $count=true.
	Count bool
	// Expand is $expand; nil when absent.
	Expand []ExpandItem
	// Apply is $apply, the transformations in order; nil when absent.
	Apply []Transformation

	// FetchXML is the fetchXml option, unparsed; HasFetchXML says whether it
	// was present (it may be present and empty).
	FetchXML    string
	HasFetchXML bool
	// SavedQuery and UserQuery are the savedQuery and userQuery options
	// (the id of a system or personal view to run), unparsed.
	SavedQuery, UserQuery string
	// SkipToken is $skiptoken, opaque (the paging cookie of a nextLink).
	SkipToken string
	// DeltaToken is $deltatoken, opaque (change tracking).
	DeltaToken string
	// Tag is the tag parameter (a value passed to plug-ins), unparsed.
	Tag string
	// PartitionID is partitionId (elastic tables), unparsed.
	PartitionID string

	// Aliases holds the raw text of every parameter alias in the query
	// string, keyed by name including the '@' ("@p1"). Parse one with
	// [Query.Alias].
	Aliases map[string]string
}

// SelectItem is one entry of $select: a property (a path of one segment in
// Dataverse; longer paths parse and are left to the binder) or `*`.
type SelectItem struct {
	Star   bool
	Path   []Segment // nil when Star
	Offset int
}

// OrderByItem is one entry of $orderby: an expression (normally a
// *PathExpr, possibly an *AliasExpr) and a direction.
type OrderByItem struct {
	Expr Expr
	Desc bool
}

// ExpandItem is one entry of $expand: a navigation property with optional
// nested options, or `nav/$ref`.
type ExpandItem struct {
	// Path is the navigation property (normally one segment).
	Path []Segment
	// Offset is the byte offset of the item in the option value.
	Offset int
	// Ref is set for `nav/$ref`.
	Ref bool
	// Options are the nested options inside parentheses; nil when none.
	Options *ExpandOptions
}

// ExpandOptions are the options nested in an $expand item:
// `Account_Tasks($select=subject;$filter=statecode eq 0;$orderby=createdon desc;$top=5;$expand=…)`.
// Dataverse rejects $skip, $count, $search and $levels there, and so does
// [ParseExpand].
type ExpandOptions struct {
	Select  []SelectItem
	Filter  Expr
	OrderBy []OrderByItem
	Top     *int64
	Expand  []ExpandItem
}

// Transformation is one step of $apply: *FilterTransformation,
// *GroupByTransformation or *AggregateTransformation. Steps are chained
// with '/' and run left to right.
type Transformation interface {
	// Pos is the byte offset of the transformation's name.
	Pos() int
	// String formats the step as canonical OData text.
	String() string
	transformationNode()
}

// FilterTransformation is `filter(expr)` in $apply.
type FilterTransformation struct {
	Offset int
	Filter Expr
}

// GroupByTransformation is `groupby((p1,p2))` or
// `groupby((p1,p2),aggregate(...))`.
type GroupByTransformation struct {
	Offset     int
	Properties []*PathExpr
	// Aggregate is the optional aggregate applied to each group; nil when
	// absent.
	Aggregate *AggregateTransformation
}

// AggregateTransformation is `aggregate(item,item…)`.
type AggregateTransformation struct {
	Offset int
	Items  []AggregateItem
}

// AggregateMethod is the method of an aggregate expression.
type AggregateMethod uint8

// The aggregate methods of OData Data Aggregation, all supported by
// Dataverse, plus CountRows for `$count as alias`.
const (
	AggregateSum AggregateMethod = iota + 1
	AggregateAverage
	AggregateMin
	AggregateMax
	AggregateCountDistinct
	// AggregateCountRows is `$count as alias`: the number of rows; the
	// item's Path is nil.
	AggregateCountRows
)

// String returns the method as written ("sum", "average"…); CountRows
// returns "$count".
func (m AggregateMethod) String() string {
	switch m {
	case AggregateSum:
		return "sum"
	case AggregateAverage:
		return "average"
	case AggregateMin:
		return "min"
	case AggregateMax:
		return "max"
	case AggregateCountDistinct:
		return "countdistinct"
	case AggregateCountRows:
		return "$count"
	}
	return "AggregateMethod(?)"
}

// AggregateItem is `path with method as Alias`, or `$count as Alias`.
type AggregateItem struct {
	Path         *PathExpr // nil for AggregateCountRows
	Method       AggregateMethod
	MethodOffset int
	Alias        string
	AliasOffset  int
	Offset       int // start of the item
}

// Pos implements Transformation.
func (t *FilterTransformation) Pos() int { return t.Offset }

// Pos implements Transformation.
func (t *GroupByTransformation) Pos() int { return t.Offset }

// Pos implements Transformation.
func (t *AggregateTransformation) Pos() int { return t.Offset }

func (*FilterTransformation) transformationNode()    {}
func (*GroupByTransformation) transformationNode()   {}
func (*AggregateTransformation) transformationNode() {}
