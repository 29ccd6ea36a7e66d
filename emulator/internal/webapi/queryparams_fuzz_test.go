package webapi

import (
	"net/url"
	"strings"
	"testing"
)

// FuzzSplitRequestLine: a line splits into method, URL and protocol that rebuild it (the URL
// being everything between the first and the last space), or is refused.
func FuzzSplitRequestLine(f *testing.F) {
	for _, s := range []string{
		"GET accounts?$filter=name eq 'a b' HTTP/1.1",
		"POST /api/data/v9.2/accounts HTTP/1.1",
		"GET  accounts  HTTP/1.1",
		"GET accounts",
		" GET accounts HTTP/1.1",
		"GET accounts HTTP/1.1 extra",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		fields, ok := splitRequestLine(line)
		if !ok {
			return
		}
		if fields[0] == "" || fields[1] == "" || !strings.HasPrefix(fields[2], "HTTP/") {
			t.Fatalf("accepted %q as %q", line, fields)
		}
		if strings.ContainsAny(fields[0], " \t") || strings.ContainsAny(fields[2], " \t") {
			t.Fatalf("method or protocol with a blank: %q", fields)
		}
		first, last := strings.IndexByte(line, ' '), strings.LastIndexByte(line, ' ')
		if line[:first] != fields[0] || line[last+1:] != fields[2] || strings.TrimSpace(line[first+1:last]) != fields[1] {
			t.Fatalf("%q split as %q", line, fields)
		}
	})
}

// FuzzCheckQueryParameters: every refusal names a parameter of the query, and a query of only
// served names is never refused.
func FuzzCheckQueryParameters(f *testing.F) {
	for _, s := range []string{
		"$select=name&$filter=name eq @p1&@p1='a'",
		"sql=select",
		"$skip=1",
		"LabelLanguages=1033",
		"%zz=1",
		"&&=&",
		"x-ms-file-name=a.txt",
	} {
		f.Add(s, "accounts")
		f.Add(s, "EntityDefinitions(LogicalName='account')/Attributes")
		f.Add(s, "accounts(00000000-0000-0000-0000-000000000001)/doc")
	}
	f.Fuzz(func(t *testing.T, rawQuery, rest string) {
		err := checkQueryParameters(rawQuery, rest)
		if err == nil {
			return
		}
		ae, ok := err.(*apiError)
		if !ok || ae.status != 400 {
			t.Fatalf("refusal %T %v is not a 400", err, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(ae.message, "The query parameter "), " is not supported")
		found := false
		for part := range strings.SplitSeq(rawQuery, "&") {
			raw, _, _ := strings.Cut(part, "=")
			if n, err := url.QueryUnescape(raw); err == nil && n == name {
				found = true
			}
		}
		if !found {
			t.Fatalf("refusal %q names no parameter of %q", ae.message, rawQuery)
		}
	})
}
