package webapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// metaPathSeeds are metadata paths of every shape: keys by MetadataId
// and by alternate key, casts on collections and after keys, navigations
// below casts, properties and $value.
var metaPathSeeds = []string{
	"EntityDefinitions",
	"EntityDefinitions(LogicalName='account')",
	"EntityDefinitions(70816501-edb9-4740-a16c-6a5efbc05d84)",
	"EntityDefinitions(MetadataId=70816501-edb9-4740-a16c-6a5efbc05d84)/Keys",
	"EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata",
	"EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='gendercode')/Microsoft.Dynamics.CRM.PicklistAttributeMetadata/OptionSet",
	"EntityDefinitions(LogicalName='contact')/Attributes(LogicalName='statuscode')/Microsoft.Dynamics.CRM.StatusAttributeMetadata/GlobalOptionSet",
	"EntityDefinitions(LogicalName='account')/ObjectTypeCode/$value",
	"EntityDefinitions(LogicalName='account')/Attributes(LogicalName='name')/MetadataId",
	"EntityDefinitions(LogicalName='O''Brien')/ManyToOneRelationships(SchemaName='x')",
	"RelationshipDefinitions/Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
	"RelationshipDefinitions(SchemaName='contact_customer_accounts')/Microsoft.Dynamics.CRM.OneToManyRelationshipMetadata",
	"GlobalOptionSetDefinitions(Name='x')",
	"EntityDefinitions(LogicalName=')/Attributes/Microsoft.Dynamics.CRM.",
	"EntityDefinitions(LogicalName='a'')",
	"EntityDefinitions/Microsoft.Dynamics.CRM.EnumAttributeMetadata/$value",
}

// FuzzParseMetadataPath: the path parser answers every input with steps
// or a 400/404, and the steps it returns, written back as a path, parse
// to the same steps.
func FuzzParseMetadataPath(f *testing.F) {
	for _, s := range metaPathSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, path string) {
		steps, err := parseMetadataPath(strings.Split(path, "/"))
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || (ae.status != http.StatusBadRequest && ae.status != http.StatusNotFound) {
				t.Fatalf("%q: error %v is not a 400 or 404", path, err)
			}
			return
		}
		again, err := parseMetadataPath(strings.Split(formatMetaPath(steps), "/"))
		if err != nil {
			t.Fatalf("%q: written back as %q it does not parse: %v", path, formatMetaPath(steps), err)
		}
		if !slices.EqualFunc(steps, again, equalSteps) {
			t.Fatalf("%q: steps %+v, written back and parsed %+v", path, steps, again)
		}
	})
}

func equalSteps(a, b metaStep) bool {
	if a.name != b.name || a.cast != b.cast || (a.key == nil) != (b.key == nil) {
		return false
	}
	return a.key == nil || *a.key == *b.key
}

// formatMetaPath writes steps as a path.
func formatMetaPath(steps []metaStep) string {
	var parts []string
	for _, s := range steps {
		seg := s.name
		if s.key != nil {
			if s.key.property == "" {
				seg += "(" + s.key.id.String() + ")"
			} else {
				seg += "(" + s.key.property + "='" + strings.ReplaceAll(s.key.value, "'", "''") + "')"
			}
		}
		parts = append(parts, seg)
		if s.cast != "" {
			parts = append(parts, schema.Namespace+"."+s.cast)
		}
	}
	return strings.Join(parts, "/")
}

// FuzzMetadataRequest sends arbitrary metadata paths and query strings
// to the handler: every answer is 200, 204 or a Dataverse error envelope,
// never a 500.
func FuzzMetadataRequest(f *testing.F) {
	for _, s := range metaPathSeeds {
		f.Add(s, "")
	}
	for _, q := range []string{
		"$select=LogicalName&$filter=IsCustomizable/Value eq true and OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'",
		"$expand=Attributes($select=LogicalName;$filter=AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'Picklist'),Keys,ManyToOneRelationships",
		"$select=LogicalName&$expand=OptionSet($select=Options),GlobalOptionSet&LabelLanguages=1033",
		"$orderby=LogicalName&$top=1",
		"LabelLanguages=1036,x",
	} {
		f.Add("EntityDefinitions", q)
		f.Add("EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata", q)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, "", nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	const app = "30000000-0000-0000-0000-000000000001"
	if _, err := st.EnsureApplicationUser(ctx, store.ApplicationUser{ApplicationID: app, RoleNames: []string{store.SystemAdministrator}}); err != nil {
		f.Fatal(err)
	}
	api, err := New(Options{Store: st, OrgURL: "https://org.example", AuthorizationURI: "https://login.example/t/oauth2/authorize"})
	if err != nil {
		f.Fatal(err)
	}
	h := asApp(api, app)
	f.Fuzz(func(t *testing.T, path, rawQuery string) {
		u := &url.URL{Scheme: "https", Host: "org.example", Path: "/api/data/v9.2/" + path, RawQuery: rawQuery}
		r := httptest.NewRequest(http.MethodGet, "https://org.example/", nil)
		r.URL = u
		r.RequestURI = u.RequestURI()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch {
		case w.Code >= 500:
			t.Fatalf("GET %s?%s: %d %s", path, rawQuery, w.Code, w.Body)
		case w.Code == http.StatusOK || w.Code == http.StatusNoContent:
			if ct := w.Header().Get("Content-Type"); strings.HasPrefix(ct, "application/json") && !json.Valid(w.Body.Bytes()) {
				t.Fatalf("GET %s?%s: invalid JSON %s", path, rawQuery, w.Body)
			}
		default:
			var env struct {
				Error *struct{ Code, Message string } `json:"error"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &env); err != nil || env.Error == nil || env.Error.Message == "" {
				t.Fatalf("GET %s?%s: %d without an error envelope: %s", path, rawQuery, w.Code, w.Body)
			}
		}
	})
}
