package cli

import (
	"strings"
	"testing"
)

func TestNearestName(t *testing.T) {
	t.Parallel()
	sets := []string{"accounts", "contacts", "systemusers", "tasks", "EntityDefinitions"}
	for in, want := range map[string]string{
		"contactz":          "contacts",
		"Contacts":          "contacts",
		"contact":           "contacts",
		"acounts":           "accounts",
		"systemuser":        "systemusers",
		"entitydefinitions": "EntityDefinitions",
		"task":              "tasks",
		"zzzzzzzz":          "",
		"x":                 "",
		"opportunities":     "",
	} {
		if got := nearestName(in, sets); got != want {
			t.Errorf("nearestName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"a", "", 1}, {"", "abc", 3}, {"kitten", "sitting", 3}, {"contacts", "contactz", 1}, {"abc", "abc", 0}} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestCSDLOperationKind(t *testing.T) {
	t.Parallel()
	csdl := `<?xml version="1.0"?><edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx"><edmx:DataServices>
<Schema Namespace="Microsoft.Dynamics.CRM"><EntityType Name="contact"/><Function Name="WhoAmI"><ReturnType Type="x"/></Function>
<Action Name="WinOpportunity"/></Schema></edmx:DataServices></edmx:Edmx>`
	for name, want := range map[string]string{"WhoAmI": "function", "whoami": "function", "WinOpportunity": "action", "contact": "", "Nope": ""} {
		if got := csdlOperationKind(strings.NewReader(csdl), name); got != want {
			t.Errorf("csdlOperationKind(%q) = %q, want %q", name, got, want)
		}
	}
	if got := csdlOperationKind(strings.NewReader("<not xml"), "WhoAmI"); got != "" {
		t.Errorf("broken CSDL: %q", got)
	}
}

func TestIsCollectionContext(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		context, set string
		want         bool
	}{
		{"https://x/api/data/v9.2/$metadata#contacts", "contacts", true},
		{"https://x/api/data/v9.2/$metadata#contacts(fullname,contactid)", "contacts", true},
		{"https://x/api/data/v9.2/$metadata#contacts/$entity", "contacts", true},
		{"", "contacts", true},
		{"https://x/api/data/v9.2/$metadata#Microsoft.Dynamics.CRM.WhoAmIResponse", "WhoAmI", false},
		{"https://x/api/data/v9.2/$metadata#contactsx", "contacts", false},
	} {
		if got := isCollectionContext(tt.context, tt.set); got != tt.want {
			t.Errorf("isCollectionContext(%q, %q) = %v", tt.context, tt.set, got)
		}
	}
}

// TestOperationHint: a function or an action named where an entity set belongs gets the "d365
// api" command that calls it, with its method.
func TestOperationHint(t *testing.T) {
	for _, tt := range []struct{ name, kind, want string }{
		{"WhoAmI", "function", `WhoAmI is a function, not an entity set: call it with "d365 api GET WhoAmI"`},
		{"BulkDelete", "action", `BulkDelete is an action, not an entity set: call it with "d365 api POST BulkDelete"`},
	} {
		if got := operationHint(tt.name, tt.kind).Error(); got != tt.want {
			t.Errorf("operationHint(%s, %s) = %q, want %q", tt.name, tt.kind, got, tt.want)
		}
	}
}
