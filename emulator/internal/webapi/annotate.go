package webapi

import (
	"strconv"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// More annotation names of Prefer: odata.include-annotations.
const (
	// annotationAttributeName names the column behind an aliased value
	// (FetchXML attribute aliases and link-entity columns, $apply
	// aggregates).
	annotationAttributeName = "OData.Community.Display.V1.AttributeName"
	// annotationPagingCookie and annotationMoreRecords carry FetchXML's
	// paging protocol.
	annotationPagingCookie = "Microsoft.Dynamics.CRM.fetchxmlpagingcookie"
	annotationMoreRecords  = "Microsoft.Dynamics.CRM.morerecords"
)

// annotator writes property values with the annotations the client asked
// for, for results that are not plain entity rows (FetchXML, $apply).
// Formatted values of lookups need the referenced rows' names: collect
// every value first, load once, then write.
type annotator struct {
	req                                           *request
	formatted, navigation, logical, attributeName bool
	refs                                          map[string][]any
	seen                                          map[uuid.UUID]bool
	names                                         map[uuid.UUID]string
}

// annotateOptions say how to annotate one value.
type annotateOptions struct {
	// attributeName, when set, is written as the AttributeName annotation.
	attributeName string
	// navigation, when set, is the associatednavigationproperty of a
	// lookup value.
	navigation string
}

func (req *request) newAnnotator() *annotator {
	p := req.prefer
	return &annotator{
		req:           req,
		formatted:     p.wantsAnnotation(annotationFormatted),
		navigation:    p.wantsAnnotation(annotationNavigation),
		logical:       p.wantsAnnotation(annotationLogical),
		attributeName: p.wantsAnnotation(annotationAttributeName),
	}
}

// collect notes a value whose formatted value may need a name.
func (a *annotator) collect(v any) {
	r, ok := v.(store.Ref)
	if !ok || !a.formatted {
		return
	}
	if a.refs == nil {
		a.refs, a.seen = map[string][]any{}, map[uuid.UUID]bool{}
	}
	if !a.seen[r.ID] {
		a.seen[r.ID] = true
		a.refs[r.Table] = append(a.refs[r.Table], r.ID)
	}
}

// load reads the names of the collected lookups.
func (a *annotator) load() error {
	if len(a.refs) == 0 {
		return nil
	}
	var err error
	a.names, err = a.req.lookupNames(a.refs)
	return err
}

// write writes `"key":value`, preceded by its annotations and by a comma
// unless first.
func (a *annotator) write(jw *jsonWriter, key string, first bool, c *schema.Column, v any, o annotateOptions) {
	comma := func() {
		if !first {
			jw.byte(',')
		}
		first = false
	}
	annotation := func(name, value string) {
		comma()
		jw.str(key + "@" + name)
		jw.byte(':')
		jw.str(value)
	}
	if a.attributeName && o.attributeName != "" {
		annotation(annotationAttributeName, o.attributeName)
	}
	if r, isRef := v.(store.Ref); isRef {
		if a.formatted {
			if s, ok := a.names[r.ID]; ok {
				annotation(annotationFormatted, s)
			}
		}
		if a.navigation && o.navigation != "" {
			annotation(annotationNavigation, o.navigation)
		}
		if a.logical {
			annotation(annotationLogical, r.Table)
		}
	} else if a.formatted && v != nil {
		if s, ok := formatValue(c, v, currencySymbol); ok {
			annotation(annotationFormatted, s)
		}
	}
	comma()
	jw.str(key)
	jw.byte(':')
	jw.value(c, v)
}

// preferenceApplied echoes the honoured include-annotations preference.
func (req *request) preferenceApplied() {
	if len(req.prefer.includeAnnotations) > 0 {
		req.w.Header().Add("Preference-Applied", `odata.include-annotations="`+strings.Join(req.prefer.includeAnnotations, ",")+`"`)
	}
}

// writeCounts writes @odata.count and the totalrecordcount annotations
// of a collection: total is the number of rows (capped), or -1 when not
// counted.
func (req *request) writeCounts(jw *jsonWriter, counted bool, total int, exceeded bool) {
	if req.prefer.wantsAnnotation(annotationTotalCount) {
		jw.raw(`,"@` + annotationTotalCount + `":`)
		if counted {
			jw.int(int64(total))
		} else {
			jw.int(-1)
		}
	}
	if req.prefer.wantsAnnotation(annotationTotalCountExceeded) {
		jw.raw(`,"@` + annotationTotalCountExceeded + `":`)
		jw.raw(strconv.FormatBool(exceeded))
	}
}
