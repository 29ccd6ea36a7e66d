package webapi

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
)

// The query string parameters the emulator serves: every other parameter is refused with a
// clear 400 that names it (dverr.QueryParameterNotSupported), never ignored. A client that sent
// ?sql=… expecting three rows must not get every row back.
//
// The allowlist is one table: a route that starts reading a new parameter adds it here, or its
// requests are refused.

// systemQueryOptions are the OData system query options served on some route. A $-option that a
// route does not take is that route's concern (for instance $filter on a single row); one outside
// this list is refused everywhere, as Dataverse refuses $skip, $search and $format.
var systemQueryOptions = map[string]bool{
	"$select": true, "$filter": true, "$orderby": true, "$top": true, "$count": true,
	"$expand": true, "$apply": true,
	"$skiptoken":  true, // paging links (@odata.nextLink)
	"$deltatoken": true, // change tracking (@odata.deltaLink)
	"$id":         true, // DELETE <set>(<id>)/<nav>/$ref?$id=<url>
}

// customQueryParameters are the parameters without '$' that Dataverse documents, each with the
// routes that take it. A parameter alias (@p1) is allowed everywhere: it carries the value of a
// $filter or $orderby alias or of a function parameter (Fn(A=@p1)?@p1=…).
var customQueryParameters = map[string]func(route queryRoute) bool{
	// Queries of rows: FetchXML, saved and user views, the plug-in tag, elastic partitions.
	"fetchXml":    anyRoute,
	"savedQuery":  anyRoute,
	"userQuery":   anyRoute,
	"tag":         anyRoute,
	"partitionId": anyRoute,
	// Metadata queries: labels cut to the given languages.
	"LabelLanguages": func(r queryRoute) bool { return r.metadata },
	// $metadata?annotations=true.
	"annotations": func(r queryRoute) bool { return r.first == "$metadata" },
	// File and image columns (<set>(<id>)/<column>): the chunked upload's file name and session,
	// the image download's size=full.
	"x-ms-file-name": propertyRoute,
	"sessiontoken":   propertyRoute,
	"size":           propertyRoute,
}

func anyRoute(queryRoute) bool { return true }

func propertyRoute(r queryRoute) bool { return r.segments >= 2 }

// queryRoute is what the allowlist needs to know of a request's path.
type queryRoute struct {
	first    string // the first segment without its key: "accounts", "$metadata", "EntityDefinitions"
	segments int    // the number of path segments
	metadata bool   // a metadata entity set (metadataSets)
}

// newQueryRoute reads rest, the escaped path after /api/data/<version>/.
func newQueryRoute(rest string) queryRoute {
	segs := strings.Split(strings.TrimSuffix(rest, "/"), "/")
	first, _ := url.PathUnescape(segs[0])
	if i := strings.IndexByte(first, '('); i >= 0 {
		first = first[:i]
	}
	return queryRoute{first: first, segments: len(segs), metadata: metadataSets[first] != ""}
}

// checkQueryParameters refuses a query string parameter the route does not serve. rawQuery is
// the query as sent; rest the escaped path after the version. Malformed percent-escapes are left
// to the query parser, which names them.
func checkQueryParameters(rawQuery, rest string) error {
	if rawQuery == "" {
		return nil
	}
	var route queryRoute
	routed := false
	for part := range strings.SplitSeq(rawQuery, "&") {
		if part == "" {
			continue
		}
		raw, _, _ := strings.Cut(part, "=")
		name, err := url.QueryUnescape(raw)
		if err != nil {
			continue
		}
		switch {
		case strings.HasPrefix(name, "@"):
			continue
		case strings.HasPrefix(name, "$"):
			if !systemQueryOptions[name] {
				return newError(http.StatusBadRequest, dverr.CodeQuerySyntax, dverr.QueryParameterNotSupportedMessage, name)
			}
			continue
		}
		allowed, known := customQueryParameters[name]
		if known {
			if !routed {
				route, routed = newQueryRoute(rest), true
			}
			if allowed(route) {
				continue
			}
		}
		return fromCatalogue(dverr.QueryParameterNotSupported(name))
	}
	return nil
}
