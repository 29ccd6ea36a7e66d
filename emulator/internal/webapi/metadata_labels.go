package webapi

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/google/uuid"
)

// userLanguage is the LCID of every label the emulator has, and the
// caller's UI language (UserLocalizedLabel).
const userLanguage = 1033

// metaBuilder builds the metadata records of one request: it knows which
// label languages the caller asked for (the LabelLanguages parameter).
type metaBuilder struct {
	h *Handler
	// langs are the LCIDs of LabelLanguages; nil for every language.
	langs []int64
}

// parseLabelLanguages reads LabelLanguages=1033[,1036…].
func parseLabelLanguages(values []string) ([]int64, error) {
	if len(values) == 0 {
		return nil, nil
	}
	var out []int64
	for _, v := range values {
		for _, f := range strings.Split(v, ",") {
			lcid, err := strconv.ParseInt(strings.TrimSpace(f), 10, 32)
			if err != nil || lcid <= 0 {
				return nil, newError(http.StatusBadRequest, dverr.CodeQuerySyntax,
					"LabelLanguages must be a comma-separated list of language codes (LCIDs) such as 1033; '%s' is not one.", f)
			}
			out = append(out, lcid)
		}
	}
	return out, nil
}

func (b *metaBuilder) wantsLanguage(lcid int64) bool {
	if b.langs == nil {
		return true
	}
	for _, l := range b.langs {
		if l == lcid {
			return true
		}
	}
	return false
}

// label is a Label with one LocalizedLabel in the emulator's language;
// an empty text is an empty Label. id is the LocalizedLabel's MetadataId.
func (b *metaBuilder) label(text string, id uuid.UUID, managed bool) record {
	if text == "" {
		return emptyLabel()
	}
	l := record{{"Label", text}, {"LanguageCode", int64(userLanguage)}, {"IsManaged", managed}, {"MetadataId", id}, {"HasChanged", nil}}
	localized := []record{l}
	var user any = l
	if !b.wantsLanguage(userLanguage) {
		localized = []record{}
		if metaLabelLanguagesFiltersUserLabel {
			user = nil
		}
	}
	return record{{"LocalizedLabels", localized}, {"UserLocalizedLabel", user}}
}

func emptyLabel() record {
	return record{{"LocalizedLabels", []record{}}, {"UserLocalizedLabel", nil}}
}

// managedProperty is a BooleanManagedProperty.
func managedProperty(value, canBeChanged bool, logicalName string) record {
	return record{{"Value", value}, {"CanBeChanged", canBeChanged}, {"ManagedPropertyLogicalName", logicalName}}
}

// managedPropertyNames are the ManagedPropertyLogicalName values that are
// not the property's name in lowercase.
var managedPropertyNames = map[string]string{
	"IsAuditEnabled":              "canmodifyauditsettings",
	"IsValidForQueue":             "canmodifyqueuesettings",
	"IsConnectionsEnabled":        "canmodifyconnectionsettings",
	"IsDuplicateDetectionEnabled": "canmodifyduplicatedetectionsettings",
	"IsMailMergeEnabled":          "canmodifymailmergesettings",
	"IsVisibleInMobile":           "canmodifymobilevisibility",
	"IsVisibleInMobileClient":     "canmodifymobileclientvisibility",
	"IsReadOnlyInMobileClient":    "canmodifymobileclientreadonly",
	"IsOfflineInMobileClient":     "canmodifymobileclientoffline",
	"IsGlobalFilterEnabled":       "canmodifyglobalfiltersettings",
	"IsSortableEnabled":           "canmodifyissortablesettings",
	"IsValidForAdvancedFind":      "canmodifysearchsettings",
	"RequiredLevel":               "canmodifyrequirementlevelsettings",
}

func managedPropertyName(prop string) string {
	if n, ok := managedPropertyNames[prop]; ok {
		return n
	}
	return strings.ToLower(prop)
}
