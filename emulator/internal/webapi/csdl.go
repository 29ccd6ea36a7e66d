package webapi

import (
	"bytes"
	"encoding/xml"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// csdl returns the service's $metadata document, generated from the
// schema once; with annotations (the annotations=true parameter) it
// carries the capability annotations.
func (h *Handler) csdl(annotations bool) []byte {
	if annotations {
		h.csdlAnnotatedOnce.Do(func() { h.csdlAnnotated = buildCSDL(h.schema, true) })
		return h.csdlAnnotated
	}
	h.csdlOnce.Do(func() { h.csdlDoc = buildCSDL(h.schema, false) })
	return h.csdlDoc
}

// metadataDocument answers GET $metadata with CSDL XML.
func (req *request) metadataDocument() error {
	if req.r.Method != http.MethodGet {
		return errMethodNotAllowed(req.r.Method)
	}
	annotations := req.r.URL.Query().Get("annotations") == "true" ||
		(csdlAnnotationsByPrefer && strings.Contains(req.r.Header.Get("Prefer"), "odata.include-annotations"))
	req.w.Header().Set("Content-Type", "application/xml")
	req.w.WriteHeader(http.StatusOK)
	_, _ = req.w.Write(req.h.csdl(annotations))
	return nil
}

// buildCSDL writes the CSDL of the schema: one entity type per table
// (systemuser and team derive from principal, the type of ownerid), its
// properties (lookups as _x_value), navigation properties with partners
// and referential constraints, the entity container, and the functions
// and actions the emulator serves (the operations catalogue and the
// unbound functions, see operations.go), and the metadata types
// (csdl_metadata.go). With annotations, entity sets of tables with change
// tracking carry the ChangeTracking capability.
func buildCSDL(s *schema.Schema, annotations bool) []byte {
	var b bytes.Buffer
	esc := func(v string) string {
		var out bytes.Buffer
		_ = xml.EscapeText(&out, []byte(v))
		return strings.ReplaceAll(out.String(), `"`, "&quot;")
	}
	b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	b.WriteString(`<edmx:Edmx Version="4.0" xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx">` + "\n")
	b.WriteString(`<edmx:DataServices>` + "\n")
	b.WriteString(`<Schema Namespace="Microsoft.Dynamics.CRM" Alias="mscrm" xmlns="http://docs.oasis-open.org/odata/ns/edm">` + "\n")
	b.WriteString(`<EntityType Name="crmbaseentity" Abstract="true"/>` + "\n")
	b.WriteString(`<EntityType Name="principal" BaseType="mscrm.crmbaseentity" Abstract="true"><Key><PropertyRef Name="ownerid"/></Key><Property Name="ownerid" Type="Edm.Guid"/></EntityType>` + "\n")
	isPrincipal := func(t *schema.Table) bool { return t.LogicalName == "systemuser" || t.LogicalName == "team" }
	for _, t := range s.Tables() {
		base := "mscrm.crmbaseentity"
		if isPrincipal(t) {
			base = "mscrm.principal"
		}
		b.WriteString(`<EntityType Name="` + esc(t.LogicalName) + `" BaseType="` + base + `">`)
		if !isPrincipal(t) {
			b.WriteString(`<Key><PropertyRef Name="` + esc(t.PrimaryID().LogicalName) + `"/></Key>`)
		}
		for _, c := range t.Columns {
			if c.Internal {
				continue
			}
			b.WriteString(`<Property Name="` + esc(c.PropertyName()) + `" Type="` + c.EdmType() + `"`)
			if c.Type == schema.TypeDecimal || c.Type == schema.TypeMoney {
				b.WriteString(` Scale="Variable"`)
			}
			if c.Type.IsText() {
				b.WriteString(` Unicode="false"`)
			}
			b.WriteString(`/>`)
		}
		for _, n := range t.Navigations {
			if n.Collection {
				b.WriteString(`<NavigationProperty Name="` + esc(n.Name) + `" Type="Collection(mscrm.` + esc(n.Target().LogicalName) + `)"`)
				if partner := partnerOf(n); partner != "" {
					b.WriteString(` Partner="` + esc(partner) + `"`)
				}
				b.WriteString(`/>`)
				continue
			}
			typ := "mscrm." + n.Target().LogicalName
			if len(n.Targets) > 1 {
				typ = "mscrm.principal"
			}
			b.WriteString(`<NavigationProperty Name="` + esc(n.Name) + `" Type="` + esc(typ) + `" Nullable="false"`)
			if n.Relationship.ReferencedNavigation != "" {
				b.WriteString(` Partner="` + esc(n.Relationship.ReferencedNavigation) + `"`)
			}
			b.WriteString(`><ReferentialConstraint Property="` + esc(n.Column.PropertyName()) + `" ReferencedProperty="`)
			if len(n.Targets) > 1 {
				b.WriteString("ownerid")
			} else {
				b.WriteString(esc(n.Target().PrimaryID().LogicalName))
			}
			b.WriteString(`"/></NavigationProperty>`)
		}
		b.WriteString("</EntityType>\n")
	}
	metadataCSDL(&b)
	b.WriteString(unboundCSDL)
	b.WriteString(fileMessagesCSDL)
	for _, name := range slices.Sorted(maps.Keys(operations)) {
		b.WriteString(operations[name].csdl)
	}
	b.WriteString(`<EntityContainer Name="System">` + "\n")
	for _, t := range s.Tables() {
		b.WriteString(`<EntitySet Name="` + esc(t.EntitySetName) + `" EntityType="Microsoft.Dynamics.CRM.` + esc(t.LogicalName) + `">`)
		for _, n := range t.Navigations {
			if len(n.Targets) != 1 {
				continue
			}
			b.WriteString(`<NavigationPropertyBinding Path="` + esc(n.Name) + `" Target="` + esc(n.Target().EntitySetName) + `"/>`)
		}
		if annotations && t.ChangeTracking {
			b.WriteString(changeTrackingAnnotation)
		}
		b.WriteString("</EntitySet>\n")
	}
	b.WriteString(metadataEntitySetsCSDL)
	b.WriteString(importCSDL)
	b.WriteString(fileMessagesImportCSDL)
	b.WriteString("</EntityContainer>\n</Schema>\n</edmx:DataServices>\n</edmx:Edmx>\n")
	return b.Bytes()
}

// partnerOf returns the navigation property on the other side of a
// collection-valued one: the lookup's navigation property for 1:N, the
// other side of an N:N relationship.
func partnerOf(n *schema.NavigationProperty) string {
	r := n.Relationship
	if r.Type == schema.ManyToMany {
		if n.Table.LogicalName == r.Entity1 && n.Name == r.Entity1Navigation {
			return r.Entity2Navigation
		}
		return r.Entity1Navigation
	}
	return r.ReferencingNavigation
}

// EmulatedVersion is the Dataverse version RetrieveVersion reports.
const EmulatedVersion = "9.2.0.0"

// retrieveVersion answers GET RetrieveVersion.
func (req *request) retrieveVersion() error {
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#Microsoft.Dynamics.CRM.RetrieveVersionResponse")
	jw.raw(`,"Version":`)
	jw.str(EmulatedVersion)
	jw.byte('}')
	return req.endJSON(jw)
}
