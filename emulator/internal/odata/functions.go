package odata

// FunctionInfo describes a built-in OData function that may appear as a
// *CallExpr.
type FunctionInfo struct {
	Name             string
	MinArgs, MaxArgs int
	// Dataverse reports whether the Dataverse Web API evaluates the
	// function. Only contains, startswith and endswith are; the binder
	// rejects the others.
	Dataverse bool
}

var builtinFunctions = map[string]FunctionInfo{}

func init() {
	for _, f := range []FunctionInfo{
		{"contains", 2, 2, true},
		{"startswith", 2, 2, true},
		{"endswith", 2, 2, true},
		{"length", 1, 1, false},
		{"indexof", 2, 2, false},
		{"substring", 2, 3, false},
		{"tolower", 1, 1, false},
		{"toupper", 1, 1, false},
		{"trim", 1, 1, false},
		{"concat", 2, 2, false},
		{"matchesPattern", 2, 2, false},
		{"year", 1, 1, false},
		{"month", 1, 1, false},
		{"day", 1, 1, false},
		{"hour", 1, 1, false},
		{"minute", 1, 1, false},
		{"second", 1, 1, false},
		{"fractionalseconds", 1, 1, false},
		{"totalseconds", 1, 1, false},
		{"date", 1, 1, false},
		{"time", 1, 1, false},
		{"totaloffsetminutes", 1, 1, false},
		{"now", 0, 0, false},
		{"mindatetime", 0, 0, false},
		{"maxdatetime", 0, 0, false},
		{"round", 1, 1, false},
		{"floor", 1, 1, false},
		{"ceiling", 1, 1, false},
		{"cast", 1, 2, false},
		{"isof", 1, 2, false},
	} {
		builtinFunctions[f.Name] = f
	}
}

// LookupFunction returns what is known about the built-in OData function
// name (case-sensitive, as in OData). ok is false for a name OData does not
// define; ODataLib then says "An unknown function with name '…' was found.
// This may also be a function import or a key lookup on a navigation
// property, which is not allowed."
func LookupFunction(name string) (info FunctionInfo, ok bool) {
	info, ok = builtinFunctions[name]
	return info, ok
}

// QueryFunctionNamespace is the namespace of Dataverse's query functions.
const QueryFunctionNamespace = "Microsoft.Dynamics.CRM"

// QueryFunctionParams lists Dataverse's query functions
// (Microsoft.Dynamics.CRM.<Name>) with their parameter names in order. The
// parser accepts any qualified function; the binder looks names up here.
// [unverified in part: compiled from the Web API function reference; the
// hierarchy and fiscal functions are listed for recognition only]
var QueryFunctionParams = map[string][]string{
	// Dates relative to now.
	"Today": {"PropertyName"}, "Yesterday": {"PropertyName"}, "Tomorrow": {"PropertyName"},
	"ThisWeek": {"PropertyName"}, "LastWeek": {"PropertyName"}, "NextWeek": {"PropertyName"},
	"ThisMonth": {"PropertyName"}, "LastMonth": {"PropertyName"}, "NextMonth": {"PropertyName"},
	"ThisYear": {"PropertyName"}, "LastYear": {"PropertyName"}, "NextYear": {"PropertyName"},
	"Last7Days": {"PropertyName"}, "Next7Days": {"PropertyName"},
	"LastXHours": {"PropertyName", "PropertyValue"}, "NextXHours": {"PropertyName", "PropertyValue"},
	"LastXDays": {"PropertyName", "PropertyValue"}, "NextXDays": {"PropertyName", "PropertyValue"},
	"LastXWeeks": {"PropertyName", "PropertyValue"}, "NextXWeeks": {"PropertyName", "PropertyValue"},
	"LastXMonths": {"PropertyName", "PropertyValue"}, "NextXMonths": {"PropertyName", "PropertyValue"},
	"LastXYears": {"PropertyName", "PropertyValue"}, "NextXYears": {"PropertyName", "PropertyValue"},
	"OlderThanXMinutes": {"PropertyName", "PropertyValue"}, "OlderThanXHours": {"PropertyName", "PropertyValue"},
	"OlderThanXDays": {"PropertyName", "PropertyValue"}, "OlderThanXWeeks": {"PropertyName", "PropertyValue"},
	"OlderThanXMonths": {"PropertyName", "PropertyValue"}, "OlderThanXYears": {"PropertyName", "PropertyValue"},
	"On": {"PropertyName", "PropertyValue"}, "OnOrAfter": {"PropertyName", "PropertyValue"},
	"OnOrBefore": {"PropertyName", "PropertyValue"},
	// Fiscal periods.
	"ThisFiscalYear": {"PropertyName"}, "LastFiscalYear": {"PropertyName"}, "NextFiscalYear": {"PropertyName"},
	"ThisFiscalPeriod": {"PropertyName"}, "LastFiscalPeriod": {"PropertyName"}, "NextFiscalPeriod": {"PropertyName"},
	"LastXFiscalYears": {"PropertyName", "PropertyValue"}, "NextXFiscalYears": {"PropertyName", "PropertyValue"},
	"LastXFiscalPeriods": {"PropertyName", "PropertyValue"}, "NextXFiscalPeriods": {"PropertyName", "PropertyValue"},
	"InFiscalYear": {"PropertyName", "PropertyValue"}, "InFiscalPeriod": {"PropertyName", "PropertyValue"},
	"InFiscalPeriodAndYear":         {"PropertyName", "PropertyValue1", "PropertyValue2"},
	"InOrBeforeFiscalPeriodAndYear": {"PropertyName", "PropertyValue1", "PropertyValue2"},
	"InOrAfterFiscalPeriodAndYear":  {"PropertyName", "PropertyValue1", "PropertyValue2"},
	// Ranges and lists.
	"Between": {"PropertyName", "PropertyValues"}, "NotBetween": {"PropertyName", "PropertyValues"},
	"In": {"PropertyName", "PropertyValues"}, "NotIn": {"PropertyName", "PropertyValues"},
	// Choices (multi-select).
	"ContainValues": {"PropertyName", "PropertyValues"}, "DoesNotContainValues": {"PropertyName", "PropertyValues"},
	// The calling user and their business unit, teams and hierarchy.
	"EqualUserId": {"PropertyName"}, "NotEqualUserId": {"PropertyName"},
	"EqualBusinessId": {"PropertyName"}, "NotEqualBusinessId": {"PropertyName"},
	"EqualUserLanguage": {"PropertyName"}, "EqualUserTeams": {"PropertyName"},
	"EqualUserOrUserTeams": {"PropertyName"}, "EqualUserOrUserHierarchy": {"PropertyName"},
	"EqualUserOrUserHierarchyAndTeams": {"PropertyName"},
	// Hierarchies.
	"Above": {"PropertyName", "PropertyValue"}, "AboveOrEqual": {"PropertyName", "PropertyValue"},
	"Under": {"PropertyName", "PropertyValue"}, "UnderOrEqual": {"PropertyName", "PropertyValue"},
	"NotUnder": {"PropertyName", "PropertyValue"},
}
