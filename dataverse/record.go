package dataverse

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/google/uuid"

	"github.com/d365s2s/d365/internal/jsonobj"
)

// Annotation suffixes as they appear in record JSON ("name@<annotation>").
const (
	formattedValueSuffix = "@" + AnnotationFormattedValue
	lookupLogicalSuffix  = "@" + AnnotationLookupLogicalName
	navPropertySuffix    = "@" + AnnotationAssociatedNavigationProperty
)

// Record is a Dataverse row as a JSON object: column names (and
// annotations such as "@odata.etag") to values. Numbers decode as
// json.Number so large integers and decimals keep every digit; strings,
// booleans, nulls, objects and arrays decode as encoding/json does.
//
// Use a struct type with the generic functions (NewPager[T], …) when the
// columns are known; use Record when they are not.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/retrieve-entity-using-web-api
type Record map[string]any

// UnmarshalJSON decodes a JSON object, keeping numbers as json.Number.
func (r *Record) UnmarshalJSON(b []byte) error {
	if m, ok := jsonobj.Parse(b); ok {
		*r = m
		return nil
	}
	// Not certainly valid: a json.Decoder says why (record_decode.go).
	m, err := decodeRecordWithDecoder(b)
	if err != nil {
		return err
	}
	*r = m
	return nil
}

// ETag returns the record's version ("@odata.etag", e.g. W/"536530"), or
// "" when the response had none. Pass it to UpdateOptions.IfMatch or
// DeleteOptions.IfMatch for optimistic concurrency.
func (r Record) ETag() azcore.ETag {
	s, _ := r["@odata.etag"].(string)
	return azcore.ETag(s)
}

// String returns the column's value if it is a JSON string.
func (r Record) String(column string) (string, bool) {
	s, ok := r[column].(string)
	return s, ok
}

// GUID returns the column's value parsed as a GUID, for id and lookup
// (_x_value) columns.
func (r Record) GUID(column string) (uuid.UUID, bool) {
	s, ok := r[column].(string)
	if !ok {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(s)
	return id, err == nil
}

// FormattedValue returns the column's formatted value (a choice label, a
// lookup's primary name, currency with its symbol, …), present when the
// query asked for AnnotationFormattedValue or AnnotationsAll.
func (r Record) FormattedValue(column string) (string, bool) {
	s, ok := r[column+formattedValueSuffix].(string)
	return s, ok
}

// Annotation returns the value of "column@annotation", e.g.
// r.Annotation("_ownerid_value", AnnotationLookupLogicalName).
func (r Record) Annotation(column, annotation string) (any, bool) {
	v, ok := r[column+"@"+annotation]
	return v, ok
}

// Lookup is the value of a lookup column as the Web API returns it.
type Lookup struct {
	// ID is the related row's id (the _x_value property).
	ID uuid.UUID
	// LogicalName is the related table (annotation
	// Microsoft.Dynamics.CRM.lookuplogicalname), e.g. "systemuser".
	LogicalName string
	// Name is the related row's primary name (formatted value).
	Name string
	// NavigationProperty is the navigation property to bind the lookup
	// with (Microsoft.Dynamics.CRM.associatednavigationproperty), e.g.
	// "parentcustomerid_account".
	NavigationProperty string
}

// Lookup returns the lookup column's value. column may be the lookup's
// property ("_primarycontactid_value") or its name ("primarycontactid").
// It reports false when the value is absent, null or not a GUID. The
// annotations are filled when the query asked for them.
func (r Record) Lookup(column string) (Lookup, bool) {
	prop := column
	if !strings.HasPrefix(column, "_") || !strings.HasSuffix(column, "_value") {
		prop = "_" + column + "_value"
	}
	id, ok := r.GUID(prop)
	if !ok {
		return Lookup{}, false
	}
	l := Lookup{ID: id}
	l.LogicalName, _ = r[prop+lookupLogicalSuffix].(string)
	l.Name, _ = r[prop+formattedValueSuffix].(string)
	l.NavigationProperty, _ = r[prop+navPropertySuffix].(string)
	return l, true
}

// Decode copies the record into v (a pointer to a struct or map) through
// its JSON encoding.
func (r Record) Decode(v any) error {
	b, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("dataverse: Record.Decode: %w", err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("dataverse: Record.Decode into %T: %w", v, err)
	}
	return nil
}
