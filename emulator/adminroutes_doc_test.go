package emulator

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestAdminRouteTableMatchesDoc fails when the route list in doc.go and the routes the admin API
// serves drift apart: every served route is documented and every documented route is served.
func TestAdminRouteTableMatchesDoc(t *testing.T) {
	t.Parallel()
	e, err := New(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	placeholder := regexp.MustCompile(`\{[^}]*\}`)
	normalize := func(method, path string) string {
		path, _, _ = strings.Cut(path, "[") // "/_emulator/apps[?tenant=…]"
		return method + " " + placeholder.ReplaceAllString(path, "{}")
	}
	var served []string
	for _, r := range e.adminRoutes() {
		served = append(served, normalize(r.method, r.path))
	}

	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`(?m)^//\t(GET|HEAD|POST|PUT|PATCH|DELETE) +(/_emulator/(?:\{[^}]*\}|\S)+)`)
	var documented []string
	for _, m := range line.FindAllStringSubmatch(string(doc), -1) {
		documented = append(documented, normalize(m[1], m[2]))
	}
	if len(documented) == 0 {
		t.Fatal("doc.go lists no admin routes")
	}
	slices.Sort(served)
	slices.Sort(documented)
	if diff := cmp.Diff(documented, served); diff != "" {
		t.Errorf("the admin routes in doc.go (-) and those served (+) differ:\n%s", diff)
	}
	if dup := slices.Compact(slices.Clone(served)); len(dup) != len(served) {
		t.Errorf("a route is served twice: %v", served)
	}
}
