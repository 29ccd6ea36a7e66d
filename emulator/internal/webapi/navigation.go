package webapi

import (
	"net/http"
	"strconv"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// navigation answers requests under <set>(<key>)/<nav>…:
//
//	GET  nav                 the related row (single-valued) or rows (collection)
//	POST nav                 create a related row (collection)
//	GET  nav/$count          count the related rows
//	GET  nav/$ref            references to the related row(s)
//	PUT  nav/$ref            set a lookup                    {"@odata.id": "<uri>"}
//	POST nav/$ref            associate a row                 {"@odata.id": "<uri>"}
//	DELETE nav/$ref          clear a lookup, or (with ?$id=<uri>) disassociate a row
//	DELETE nav(<key>)/$ref   disassociate a row
func (req *request) navigation(t *schema.Table, key rowKey, segs []string) error {
	navName, childKeyText, hasChildKey, err := splitKeySegment(segs[0])
	if err != nil {
		return err
	}
	nav, ok := t.NavigationProperty(navName)
	if !ok {
		return errResourceNotFound(navName)
	}
	id, err := req.existing(t, key)
	if err != nil {
		return err
	}
	method := req.r.Method
	rest := segs[1:]
	switch {
	case hasChildKey:
		if !nav.Collection || len(rest) != 1 || rest[0] != "$ref" || method != http.MethodDelete {
			return errResourceNotFound(segs[0])
		}
		childKey, err := parseKey(nav.Target(), childKeyText)
		if err != nil {
			return err
		}
		child, err := req.existing(nav.Target(), childKey)
		if err != nil {
			return err
		}
		return req.unlink(nav, id, child)
	case len(rest) == 0:
		switch method {
		case http.MethodGet:
			return req.getNavigation(t, nav, id, segs[0])
		case http.MethodPost:
			if nav.Collection {
				return req.createRelated(nav, id)
			}
		}
		return errMethodNotAllowed(method)
	case len(rest) == 1 && rest[0] == "$count" && nav.Collection:
		if method != http.MethodGet {
			return errMethodNotAllowed(method)
		}
		n, err := req.data().Count(req.ctx, req.p, nav.Target(), navScope(nav, t, id), store.CountLimit)
		if err != nil {
			return err
		}
		req.w.Header().Set("Content-Type", "text/plain")
		req.w.WriteHeader(http.StatusOK)
		// The reference notes a UTF-8 byte order mark before the number.
		_, _ = req.w.Write([]byte("\ufeff" + strconv.Itoa(n)))
		return nil
	case len(rest) == 1 && rest[0] == "$ref":
		return req.reference(t, nav, id)
	}
	return errResourceNotFound(rest[0])
}

// navScope is the condition selecting the rows of nav's target related to
// row id of t.
func navScope(nav *schema.NavigationProperty, t *schema.Table, id uuid.UUID) store.Cond {
	if nav.IsManyToMany() {
		return store.AssociatedWith(nav, id)
	}
	return store.RefersTo(nav.Column, store.Ref{Table: t.LogicalName, ID: id})
}

// getNavigation reads the related row or rows.
func (req *request) getNavigation(t *schema.Table, nav *schema.NavigationProperty, id uuid.UUID, navSeg string) error {
	if nav.Collection {
		return req.listRows(nav.Target(), navScope(nav, t, id), t.EntitySetName+"("+id.String()+")/"+navSeg)
	}
	ref, err := req.lookupValue(t, nav, id)
	if err != nil {
		return err
	}
	if ref == nil {
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	target, _ := req.h.schema.Table(ref.Table)
	return req.retrieve(target, rowKey{id: ref.ID})
}

// lookupValue reads the lookup behind a single-valued navigation
// property; nil when it is empty or references another target table.
func (req *request) lookupValue(t *schema.Table, nav *schema.NavigationProperty, id uuid.UUID) (*store.Ref, error) {
	row, err := req.data().Retrieve(req.ctx, req.p, t, id, []*schema.Column{nav.Column})
	if err != nil {
		return nil, err
	}
	ref, ok := row.Values[0].(store.Ref)
	if !ok {
		return nil, nil
	}
	if _, ok := req.h.schema.Table(ref.Table); !ok || !nav.AcceptsTarget(mustTable(req.h.schema, ref.Table)) {
		return nil, nil
	}
	return &ref, nil
}

func mustTable(s *schema.Schema, name string) *schema.Table {
	t, _ := s.Table(name)
	return t
}

// createRelated answers POST <set>(<key>)/<collection nav>: the new row
// is linked to the parent.
func (req *request) createRelated(nav *schema.NavigationProperty, parent uuid.UUID) error {
	target := nav.Target()
	plan, err := req.singleOptions(target, false)
	if err != nil {
		return err
	}
	body, err := req.readBody(target)
	if err != nil {
		return err
	}
	p, err := req.parsePayload(target, body)
	if err != nil {
		return err
	}
	var w store.Written
	err = req.write(func(tx *store.Tx) error {
		if nav.IsManyToMany() {
			if w, err = req.applyCreate(tx, p, nil); err != nil {
				return err
			}
			return tx.Associate(req.ctx, req.p, nav, parent, w.ID)
		}
		w, err = req.applyCreate(tx, p, []store.Field{{Column: nav.Column, Value: store.Ref{Table: nav.Table.LogicalName, ID: parent}}})
		return err
	})
	if err != nil {
		return err
	}
	return req.writeWritten(target, w, plan, http.StatusCreated)
}

// reference answers nav/$ref.
func (req *request) reference(t *schema.Table, nav *schema.NavigationProperty, id uuid.UUID) error {
	switch req.r.Method {
	case http.MethodGet:
		return req.getReferences(t, nav, id)
	case http.MethodPut, http.MethodPost:
		if (req.r.Method == http.MethodPut) == nav.Collection {
			return errMethodNotAllowed(req.r.Method)
		}
		ref, err := req.readReference(t, nav)
		if err != nil {
			return err
		}
		err = req.write(func(tx *store.Tx) error {
			switch {
			case !nav.Collection:
				_, err := tx.Update(req.ctx, req.p, t, id, []store.Field{{Column: nav.Column, Value: ref}}, store.Match{})
				return err
			case nav.IsManyToMany():
				return tx.Associate(req.ctx, req.p, nav, id, ref.ID)
			default:
				_, err := tx.Update(req.ctx, req.p, nav.Target(), ref.ID,
					[]store.Field{{Column: nav.Column, Value: store.Ref{Table: t.LogicalName, ID: id}}}, store.Match{})
				return err
			}
		})
		if err != nil {
			return err
		}
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	case http.MethodDelete:
		if !nav.Collection {
			err := req.write(func(tx *store.Tx) error {
				_, err := tx.Update(req.ctx, req.p, t, id, []store.Field{{Column: nav.Column, Value: nil}}, store.Match{})
				return err
			})
			if err != nil {
				return err
			}
			req.w.WriteHeader(http.StatusNoContent)
			return nil
		}
		values, err := parseRawQuery(req.r.URL.RawQuery)
		if err != nil || values.Get("$id") == "" {
			return newError(http.StatusBadRequest, dverr.CodeQuerySyntax, "The $id query option naming the entity to remove from '%s' is missing.", nav.Name)
		}
		ref, err := req.entityReference(t, nav, values.Get("$id"))
		if err != nil {
			return err
		}
		return req.unlink(nav, id, ref.ID)
	}
	return errMethodNotAllowed(req.r.Method)
}

// unlink removes row child from a collection-valued navigation property
// of row id: N:N pairs are deleted, 1:N lookups that point at id cleared.
func (req *request) unlink(nav *schema.NavigationProperty, id, child uuid.UUID) error {
	err := req.write(func(tx *store.Tx) error {
		if nav.IsManyToMany() {
			return tx.Disassociate(req.ctx, req.p, nav, id, child)
		}
		row, err := tx.Retrieve(req.ctx, req.p, nav.Target(), child, []*schema.Column{nav.Column})
		if err != nil {
			return err
		}
		if ref, ok := row.Values[0].(store.Ref); !ok || ref.ID != id || ref.Table != nav.Table.LogicalName {
			return nil // not linked: nothing to remove
		}
		_, err = tx.Update(req.ctx, req.p, nav.Target(), child, []store.Field{{Column: nav.Column, Value: nil}}, store.Match{})
		return err
	})
	if err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

// readReference reads a {"@odata.id": "<uri>"} body.
func (req *request) readReference(t *schema.Table, nav *schema.NavigationProperty) (store.Ref, error) {
	body, err := req.readBody(t)
	if err != nil {
		return store.Ref{}, err
	}
	members, err := readObject(t, body)
	if err != nil {
		return store.Ref{}, err
	}
	for _, m := range members {
		if m.name == "@odata.id" {
			var uri string
			if err := unmarshalString(m.value, &uri); err != nil {
				break
			}
			return req.entityReference(t, nav, uri)
		}
	}
	return store.Ref{}, errPayload(t, "A $ref request needs a body {\"@odata.id\": \"<entity URI>\"}.")
}

// getReferences answers GET nav/$ref.
func (req *request) getReferences(t *schema.Table, nav *schema.NavigationProperty, id uuid.UUID) error {
	if !nav.Collection {
		ref, err := req.lookupValue(t, nav, id)
		if err != nil {
			return err
		}
		if ref == nil {
			req.w.WriteHeader(http.StatusNoContent)
			return nil
		}
		target, _ := req.h.schema.Table(ref.Table)
		jw := req.startJSON(http.StatusOK)
		jw.raw(`{"@odata.context":`)
		jw.str(req.base + "/$metadata#$ref")
		jw.raw(`,"@odata.id":`)
		jw.str(req.entityURL(target, ref.ID))
		jw.byte('}')
		return req.endJSON(jw)
	}
	target := nav.Target()
	page, err := req.data().Query(req.ctx, req.p, store.Query{Table: target, Columns: []*schema.Column{}, Where: navScope(nav, t, id), Limit: maxPageSize})
	if err != nil {
		return err
	}
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#Collection($ref)")
	jw.raw(`,"value":[`)
	for i, row := range page.Rows {
		if i > 0 {
			jw.byte(',')
		}
		jw.raw(`{"@odata.id":`)
		jw.str(req.entityURL(target, row.ID))
		jw.byte('}')
	}
	jw.raw("]}")
	return req.endJSON(jw)
}
