package dataverse_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// entityDefinitionsReads returns the logged reads of the EntityDefinitions collection, each as its
// status and decoded $expand.
func entityDefinitionsReads(t *testing.T, env *e2eEnv) (statuses []int, expands []string) {
	t.Helper()
	for _, e := range env.emu.RequestLog(emulator.LogFilter{PathPrefix: "/api/data/v9.2/EntityDefinitions?"}) {
		u, err := url.Parse(e.Path)
		if err != nil {
			t.Fatalf("logged path %q: %v", e.Path, err)
		}
		statuses = append(statuses, e.Status)
		expands = append(expands, u.Query().Get("$expand"))
	}
	return statuses, expands
}

// TestE2ETableMetadataOneRequest: against a service that expands Keys and ManyToOneRelationships
// on EntityDefinitions (the emulator does, as Dataverse), TableMetadata reads the table, its
// columns, its alternate keys and its lookups in ONE request; the keys are known and the lookups
// come from the relationships, one per target of the polymorphic parentcustomerid.
func TestE2ETableMetadataOneRequest(t *testing.T) {
	t.Parallel()
	env := newKeysEnv(t)
	md, err := env.client.TableMetadata(t.Context(), "contacts")
	if err != nil {
		t.Fatalf("TableMetadata: %v", err)
	}
	statuses, expands := entityDefinitionsReads(t, env)
	if len(statuses) != 1 || statuses[0] != http.StatusOK || !strings.Contains(expands[0], "Keys(") || !strings.Contains(expands[0], "ManyToOneRelationships(") {
		t.Fatalf("EntityDefinitions reads: statuses %v, $expand %q; want one 200 expanding Attributes, Keys and ManyToOneRelationships", statuses, expands)
	}
	if !md.KeysKnown || md.LookupsDerived {
		t.Errorf("KeysKnown=%v LookupsDerived=%v, want true, false (read from the service)", md.KeysKnown, md.LookupsDerived)
	}
	if k, ok := md.Key("emailaddress1"); !ok || k.Name != "contact_email" {
		t.Errorf("Key(emailaddress1) = %+v, %v; want contact_email", k, ok)
	}
	for nav, target := range map[string]string{"parentcustomerid_account": "account", "parentcustomerid_contact": "contact"} {
		if l, ok := md.Lookup(nav); !ok || l.Attribute != "parentcustomerid" || !slices.Equal(l.Targets, []string{target}) {
			t.Errorf("Lookup(%s) = %+v, %v; want parentcustomerid -> %s", nav, l, ok, target)
		}
	}
	if c, ok := md.Column("parentcustomerid"); !ok || !slices.Equal(c.Targets, []string{"account", "contact"}) {
		t.Errorf("Column(parentcustomerid) = %+v, %v; want Targets account, contact", c, ok)
	}
}

// TestE2ETableMetadataFallsBackWhenExpansionRefused: a service that refuses to expand Keys (a
// fault rule answers the first EntityDefinitions read with the 400 an older service gives) is
// asked again for Attributes alone; the lookups are then derived from the lookup columns' Targets
// and KeysKnown is false, so callers know the key list is not authoritative.
func TestE2ETableMetadataFallsBackWhenExpansionRefused(t *testing.T) {
	t.Parallel()
	env := newKeysEnv(t)
	id := addFault(t, env, emulator.FaultRule{
		Match:   emulator.FaultMatch{PathPrefix: "/api/data/v9.2/EntityDefinitions", Methods: []string{http.MethodGet}},
		Trigger: emulator.FaultTrigger{Count: 1},
		Action:  emulator.FaultAction{Kind: emulator.ActionError, Status: http.StatusBadRequest, Message: "Could not find a property named 'Keys' on type 'Microsoft.Dynamics.CRM.EntityMetadata'."},
	})
	md, err := env.client.TableMetadata(t.Context(), "contact")
	if err != nil {
		t.Fatalf("TableMetadata: %v", err)
	}
	if n := fired(t, env, id); n != 1 {
		t.Fatalf("the refusal fired %d times, want 1", n)
	}
	statuses, expands := entityDefinitionsReads(t, env)
	if !slices.Equal(statuses, []int{http.StatusBadRequest, http.StatusOK}) || expands[1] != "Attributes" {
		t.Fatalf("EntityDefinitions reads: statuses %v, $expand %q; want 400 then 200 with Attributes alone", statuses, expands)
	}
	if md.KeysKnown || !md.LookupsDerived || len(md.Keys) != 0 {
		t.Errorf("KeysKnown=%v LookupsDerived=%v Keys=%v, want false, true, none", md.KeysKnown, md.LookupsDerived, md.Keys)
	}
	for nav, target := range map[string]string{"parentcustomerid_account": "account", "parentcustomerid_contact": "contact"} {
		if l, ok := md.Lookup(nav); !ok || !slices.Equal(l.Targets, []string{target}) {
			t.Errorf("derived Lookup(%s) = %+v, %v; want -> %s", nav, l, ok, target)
		}
	}

	// Any other refusal is the caller's error, not a reason to ask again.
	other := newKeysEnv(t)
	addFault(t, other, emulator.FaultRule{
		Match:  emulator.FaultMatch{PathPrefix: "/api/data/v9.2/EntityDefinitions"},
		Action: emulator.FaultAction{Kind: emulator.ActionError, Status: http.StatusForbidden, Code: "0x80040220", Message: "missing prvReadEntity"},
	})
	if _, err := other.client.TableMetadata(t.Context(), "contacts"); !dataverse.IsForbidden(err) {
		t.Errorf("TableMetadata with a 403: err = %v, want it returned", err)
	}
	if statuses, _ := entityDefinitionsReads(t, other); len(statuses) != 1 {
		t.Errorf("after a 403: %d EntityDefinitions reads, want 1 (no fallback)", len(statuses))
	}
}
