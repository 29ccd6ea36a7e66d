package webapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/schema"
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
	h, _ := newAdminHandler(f)
	f.Fuzz(func(t *testing.T, path, rawQuery string) {
		w := serveGET(h, path, rawQuery)
		switch {
		case w.Code >= 500:
			t.Fatalf("GET %s?%s: %d %s", path, rawQuery, w.Code, w.Body)
		case w.Code == http.StatusOK || w.Code == http.StatusNoContent:
			if ct := w.Header().Get("Content-Type"); strings.HasPrefix(ct, "application/json") && !json.Valid(w.Body.Bytes()) {
				t.Fatalf("GET %s?%s: invalid JSON %s", path, rawQuery, w.Body)
			}
		default:
			requireErrorEnvelope(t, w, "GET "+path+"?"+rawQuery)
		}
	})
}
