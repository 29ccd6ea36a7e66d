package fetchxml

// Query is a <fetch> element.
type Query struct {
	Top, Count, Page int // top, count and page; 0 when absent
	PagingCookie     string
	Distinct         bool
	Aggregate        bool
	TotalCount       bool    // returntotalrecordcount
	RawOrderBy       bool    // useraworderby: choices sort by value, not label
	AggregateLimit   int     // aggregatelimit; 0 when absent
	HasCookie        bool    // a non-blank paging-cookie was given
	Entity           *Entity // the one <entity>
}

// Entity is an <entity> element, or the body of a <link-entity>.
type Entity struct {
	Name          string
	AllAttributes bool
	Attributes    []*Attribute
	Orders        []*Order
	Filters       []*Filter
	Links         []*Link
}

// Link is a <link-entity> element.
type Link struct {
	Entity
	From, To, Alias, LinkType string
}

// Attribute is an <attribute> element.
type Attribute struct {
	Name, Alias, Aggregate, DateGrouping string
	GroupBy, Distinct                    bool
}

// Order is an <order> element.
type Order struct {
	Attribute, Alias, EntityName string
	Descending                   bool
}

// Filter is a <filter> element: conditions and nested filters joined
// by and (the default) or or.
type Filter struct {
	Or         bool
	Conditions []*Condition
	Filters    []*Filter
}

// Condition is a <condition> element.
type Condition struct {
	Attribute, EntityName, Operator string
	Value, ValueOf                  string
	HasValue                        bool
	Values                          []string // <value> children
}
