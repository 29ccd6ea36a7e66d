package cli

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"

	"github.com/d365s2s/d365/dataverse"
)

// explainNotASet turns the failure of a request on name, used as an entity set, into the error to
// show when name is not one of the service's entity sets: a function or an action gets a usage
// error pointing at "d365 api", and an unknown name gets the nearest entity set suggested. Any
// other failure, or a failure to read the service's lists, leaves err as it is.
func explainNotASet(ctx context.Context, c *dataverse.Client, name string, err error) error {
	var re *dataverse.ResponseError
	if !errors.As(err, &re) || re.StatusCode < 400 || re.StatusCode >= 500 || re.StatusCode == http.StatusUnauthorized || re.StatusCode == http.StatusForbidden {
		return err
	}
	sets, lerr := entitySetNames(ctx, c)
	if lerr != nil || slices.Contains(sets, name) {
		return err
	}
	if kind := operationKind(ctx, c, name); kind != "" {
		return operationHint(name, kind)
	}
	if near := nearestName(name, sets); near != "" {
		return fmt.Errorf("%w\nd365: %q is not an entity set; did you mean %s?", err, name, near)
	}
	return fmt.Errorf("%w\nd365: %q is not an entity set (d365 api / lists them)", err, name)
}

// operationHint is the usage error for a function or an action named where an entity set belongs.
func operationHint(name, kind string) error {
	method, article := "GET", "a"
	if kind == "action" {
		method, article = "POST", "an"
	}
	return usageError(fmt.Errorf("%s is %s %s, not an entity set: call it with \"d365 api %s %s\"", name, article, kind, method, name))
}

// entitySetNames reads the entity sets of the service document (GET on the service root).
func entitySetNames(ctx context.Context, c *dataverse.Client) ([]string, error) {
	resp, err := c.Do(ctx, http.MethodGet, c.BaseURL(), nil, nil)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var doc struct {
		Value []struct {
			Name string `json:"name"`
			Kind string `json:"kind"`
		} `json:"value"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, err
	}
	var names []string
	for _, v := range doc.Value {
		if v.Kind == "" || v.Kind == "EntitySet" {
			names = append(names, v.Name)
		}
	}
	return names, nil
}

// operationKind returns "function" or "action" when $metadata declares an operation named name,
// else "". It reads the CSDL as a stream of elements, so a large $metadata is not held whole.
func operationKind(ctx context.Context, c *dataverse.Client, name string) string {
	resp, err := c.Do(ctx, http.MethodGet, "$metadata", nil, &dataverse.DoOptions{})
	if err != nil {
		return ""
	}
	defer resp.Body.Close()
	return csdlOperationKind(resp.Body, name)
}

// csdlOperationKind scans a CSDL document for a Function or Action element named name.
func csdlOperationKind(r io.Reader, name string) string {
	dec := xml.NewDecoder(r)
	for {
		tok, err := dec.Token()
		if err != nil {
			return ""
		}
		se, ok := tok.(xml.StartElement)
		if !ok || (se.Name.Local != "Function" && se.Name.Local != "Action") {
			continue
		}
		for _, a := range se.Attr {
			if a.Name.Local == "Name" && strings.EqualFold(a.Value, name) {
				return strings.ToLower(se.Name.Local)
			}
		}
	}
}

// isCollectionContext reports whether a response's @odata.context describes rows of entitySet
// ("…$metadata#contacts", "…#contacts(fullname)"), as a query of a table answers; a function's
// answer describes its return type instead ("…#Microsoft.Dynamics.CRM.WhoAmIResponse").
func isCollectionContext(context, entitySet string) bool {
	_, frag, ok := strings.Cut(context, "#")
	if !ok {
		return true // no context to judge by: assume the service answered the query
	}
	return strings.HasPrefix(frag, entitySet) && (len(frag) == len(entitySet) || frag[len(entitySet)] == '(' || frag[len(entitySet)] == '/')
}

// nearestName returns the name closest to s by edit distance (ignoring case), when it is close
// enough to be a plausible typo: at most a third of s's length, and at least 1 edit allowed.
func nearestName(s string, names []string) string {
	best, bestDist := "", -1
	for _, n := range names {
		d := editDistance(strings.ToLower(s), strings.ToLower(n))
		if bestDist < 0 || d < bestDist {
			best, bestDist = n, d
		}
	}
	if bestDist < 0 || bestDist > max(1, len(s)/3) {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, counted in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
