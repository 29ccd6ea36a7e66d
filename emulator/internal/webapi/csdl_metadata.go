package webapi

import (
	"bytes"
	"strconv"
	"strings"
)

// metadataCSDL declares the metadata types of metadata_types.go in
// CSDL: enum types, complex types, and entity types keyed by MetadataId
// (on MetadataBase), with their navigation properties.
func metadataCSDL(b *bytes.Buffer) {
	for _, t := range metaTypeList {
		switch t.kind {
		case metaEnum:
			flags := strings.Contains(strings.Join(t.members, ","), "=")
			b.WriteString(`<EnumType Name="` + t.name + `"`)
			if flags && (t.name == "OwnershipTypes" || t.name == "SecurityTypes") {
				b.WriteString(` IsFlags="true"`)
			}
			b.WriteString(`>`)
			for i, m := range t.members {
				name, value, ok := strings.Cut(m, "=")
				if !ok {
					value = strconv.Itoa(i)
				}
				b.WriteString(`<Member Name="` + name + `" Value="` + value + `"/>`)
			}
			b.WriteString("</EnumType>\n")
		case metaComplex:
			b.WriteString(`<ComplexType Name="` + t.name + `"`)
			if t.base != "" {
				b.WriteString(` BaseType="mscrm.` + t.base + `"`)
			}
			b.WriteString(`>`)
			writeMetaProps(b, t)
			b.WriteString("</ComplexType>\n")
		case metaEntity:
			b.WriteString(`<EntityType Name="` + t.name + `"`)
			if t.base != "" {
				b.WriteString(` BaseType="mscrm.` + t.base + `"`)
			}
			if t.abstract {
				b.WriteString(` Abstract="true"`)
			}
			b.WriteString(`>`)
			if t.base == "" {
				b.WriteString(`<Key><PropertyRef Name="MetadataId"/></Key>`)
			}
			writeMetaProps(b, t)
			for _, nv := range t.navs {
				typ := "mscrm." + nv.typ
				if nv.collection {
					typ = "Collection(" + typ + ")"
				}
				b.WriteString(`<NavigationProperty Name="` + nv.name + `" Type="` + typ + `"/>`)
			}
			b.WriteString("</EntityType>\n")
		}
	}
}

func writeMetaProps(b *bytes.Buffer, t *metaType) {
	for _, pr := range t.props {
		b.WriteString(`<Property Name="` + pr.name + `" Type="` + csdlTypeName(pr.typ) + `"`)
		if pr.name == "MetadataId" && t.name == "MetadataBase" {
			b.WriteString(` Nullable="false"`)
		}
		b.WriteString(`/>`)
	}
}

// csdlTypeName qualifies a metadata type name with the mscrm alias.
func csdlTypeName(typ string) string {
	if inner, ok := strings.CutPrefix(typ, "Collection("); ok {
		return "Collection(" + csdlTypeName(strings.TrimSuffix(inner, ")")) + ")"
	}
	if strings.HasPrefix(typ, "Edm.") {
		return typ
	}
	return "mscrm." + typ
}

// metadataEntitySetsCSDL declares the metadata entity sets.
const metadataEntitySetsCSDL = `<EntitySet Name="EntityDefinitions" EntityType="Microsoft.Dynamics.CRM.EntityMetadata"/>
<EntitySet Name="RelationshipDefinitions" EntityType="Microsoft.Dynamics.CRM.RelationshipMetadataBase"/>
<EntitySet Name="GlobalOptionSetDefinitions" EntityType="Microsoft.Dynamics.CRM.OptionSetMetadataBase"/>
`

// changeTrackingAnnotation marks an entity set whose table has change
// tracking enabled, as $metadata?annotations=true shows it
// (https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems).
const changeTrackingAnnotation = `<Annotation Term="Org.OData.Capabilities.V1.ChangeTracking"><Record><PropertyValue Property="Supported" Bool="true"/></Record></Annotation>`
