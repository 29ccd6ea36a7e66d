package webapi

import (
	"time"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// Date conditions shared by the OData query functions
// (Microsoft.Dynamics.CRM.Today…) and the FetchXML condition operators
// (today…), named by their OData function. Dates are evaluated in UTC,
// the emulated users' time zone; weeks start on Sunday.

// dateFunctionKind says what argument a date condition takes.
type dateFunctionKind uint8

const (
	dateNoArg  dateFunctionKind = iota + 1 // Today
	dateCount                              // LastXDays(PropertyValue=n)
	dateOnDate                             // On(PropertyValue=date)
)

// dateFunctions are the date conditions and the argument each takes.
var dateFunctions = map[string]dateFunctionKind{
	"Today": dateNoArg, "Yesterday": dateNoArg, "Tomorrow": dateNoArg, "Last7Days": dateNoArg, "Next7Days": dateNoArg,
	"ThisWeek": dateNoArg, "LastWeek": dateNoArg, "NextWeek": dateNoArg,
	"ThisMonth": dateNoArg, "LastMonth": dateNoArg, "NextMonth": dateNoArg, "ThisYear": dateNoArg, "LastYear": dateNoArg, "NextYear": dateNoArg,
	"LastXHours": dateCount, "NextXHours": dateCount, "LastXDays": dateCount, "NextXDays": dateCount,
	"LastXWeeks": dateCount, "NextXWeeks": dateCount, "LastXMonths": dateCount, "NextXMonths": dateCount,
	"LastXYears": dateCount, "NextXYears": dateCount,
	"OlderThanXMinutes": dateCount, "OlderThanXHours": dateCount, "OlderThanXDays": dateCount,
	"OlderThanXWeeks": dateCount, "OlderThanXMonths": dateCount, "OlderThanXYears": dateCount,
	"On": dateOnDate, "OnOrAfter": dateOnDate, "OnOrBefore": dateOnDate,
}

// dateCondition returns the condition of the date function name on col:
// n is the count of the X functions, day the date of On/OnOrAfter/
// OnOrBefore. name must be a key of dateFunctions.
func dateCondition(name string, col *schema.Column, now time.Time, n int, day time.Time) store.Cond {
	now = now.UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	between := func(from, to time.Time) store.Cond { // [from, to)
		return store.And(store.Compare(col, store.OpGe, from), store.Compare(col, store.OpLt, to))
	}
	upToNow := now.Add(time.Second) // "last" ranges include the current second
	sunday := today.AddDate(0, 0, -int(today.Weekday()))
	firstOfMonth := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	firstOfYear := time.Date(now.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	day = time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, time.UTC)
	switch name {
	case "Today":
		return between(today, today.AddDate(0, 0, 1))
	case "Yesterday":
		return between(today.AddDate(0, 0, -1), today)
	case "Tomorrow":
		return between(today.AddDate(0, 0, 1), today.AddDate(0, 0, 2))
	case "Last7Days":
		return between(today.AddDate(0, 0, -7), upToNow)
	case "Next7Days":
		return between(now, today.AddDate(0, 0, 8))
	case "ThisWeek":
		return between(sunday, sunday.AddDate(0, 0, 7))
	case "LastWeek":
		return between(sunday.AddDate(0, 0, -7), sunday)
	case "NextWeek":
		return between(sunday.AddDate(0, 0, 7), sunday.AddDate(0, 0, 14))
	case "ThisMonth":
		return between(firstOfMonth, firstOfMonth.AddDate(0, 1, 0))
	case "LastMonth":
		return between(firstOfMonth.AddDate(0, -1, 0), firstOfMonth)
	case "NextMonth":
		return between(firstOfMonth.AddDate(0, 1, 0), firstOfMonth.AddDate(0, 2, 0))
	case "ThisYear":
		return between(firstOfYear, firstOfYear.AddDate(1, 0, 0))
	case "LastYear":
		return between(firstOfYear.AddDate(-1, 0, 0), firstOfYear)
	case "NextYear":
		return between(firstOfYear.AddDate(1, 0, 0), firstOfYear.AddDate(2, 0, 0))
	case "LastXHours":
		return between(now.Add(-time.Duration(n)*time.Hour), upToNow)
	case "NextXHours":
		return between(now, now.Add(time.Duration(n)*time.Hour))
	case "LastXDays":
		return between(today.AddDate(0, 0, -n), upToNow)
	case "NextXDays":
		return between(now, today.AddDate(0, 0, n+1))
	case "LastXWeeks":
		return between(today.AddDate(0, 0, -7*n), upToNow)
	case "NextXWeeks":
		return between(now, today.AddDate(0, 0, 7*n+1))
	case "LastXMonths":
		return between(today.AddDate(0, -n, 0), upToNow)
	case "NextXMonths":
		return between(now, today.AddDate(0, n, 1))
	case "LastXYears":
		return between(today.AddDate(-n, 0, 0), upToNow)
	case "NextXYears":
		return between(now, today.AddDate(n, 0, 1))
	case "OlderThanXMinutes":
		return store.Compare(col, store.OpLt, now.Add(-time.Duration(n)*time.Minute))
	case "OlderThanXHours":
		return store.Compare(col, store.OpLt, now.Add(-time.Duration(n)*time.Hour))
	case "OlderThanXDays":
		return store.Compare(col, store.OpLt, today.AddDate(0, 0, -n))
	case "OlderThanXWeeks":
		return store.Compare(col, store.OpLt, today.AddDate(0, 0, -7*n))
	case "OlderThanXMonths":
		return store.Compare(col, store.OpLt, today.AddDate(0, -n, 0))
	case "OlderThanXYears":
		return store.Compare(col, store.OpLt, today.AddDate(-n, 0, 0))
	case "On":
		return between(day, day.AddDate(0, 0, 1))
	case "OnOrAfter":
		return store.Compare(col, store.OpGe, day)
	case "OnOrBefore":
		return store.Compare(col, store.OpLt, day.AddDate(0, 0, 1))
	}
	return store.False
}
