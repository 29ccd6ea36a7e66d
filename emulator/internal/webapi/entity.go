package webapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// entityURL is the canonical URL of a row (OData-EntityId).
func (req *request) entityURL(t *schema.Table, id uuid.UUID) string {
	return req.base + "/" + t.EntitySetName + "(" + id.String() + ")"
}

// entityContext is @odata.context of a single row.
func (req *request) entityContext(t *schema.Table, plan *readPlan) string {
	return req.base + "/$metadata#" + t.EntitySetName + plan.context + "/$entity"
}

// singleOptions binds the query of a single-row request: $select, and
// $expand unless ignoreExpand (PATCH ignores it, as Dataverse does).
func (req *request) singleOptions(t *schema.Table, ignoreExpand bool) (*readPlan, error) {
	q, err := req.parseQuery()
	if err != nil {
		return nil, err
	}
	if ignoreExpand {
		q.Expand = nil
	}
	return req.planRead(t, q)
}

// create answers POST <set>.
func (req *request) create(t *schema.Table) error {
	plan, err := req.singleOptions(t, false)
	if err != nil {
		return err
	}
	body, err := req.readBody(t)
	if err != nil {
		return err
	}
	p, err := req.parsePayload(t, body)
	if err != nil {
		return err
	}
	var w store.Written
	err = req.write(func(tx *store.Tx) error {
		w, err = req.applyCreate(tx, p, nil)
		return err
	})
	if err != nil {
		return err
	}
	return req.writeWritten(t, w, plan, http.StatusCreated)
}

// applyCreate creates a payload's row and its deep-inserted and bound
// related rows, all in tx.
func (req *request) applyCreate(tx *store.Tx, p *payload, extra []store.Field) (store.Written, error) {
	ctx := req.ctx
	fields := append(append([]store.Field{}, p.fields...), extra...)
	for _, d := range p.deep {
		child, err := req.applyCreate(tx, d.row, nil)
		if err != nil {
			return store.Written{}, err
		}
		fields = append(fields, store.Field{Column: d.nav.Column, Value: store.Ref{Table: d.row.t.LogicalName, ID: child.ID}})
	}
	// An image given with the new row is stored with it, as an update stores it (files_patch.go):
	// without this the value would be dropped as a read-only column's.
	fields, images := splitImageFields(fields)
	w, err := tx.Create(ctx, req.p, p.t, fields)
	if err != nil {
		return store.Written{}, err
	}
	if len(images) > 0 {
		if err := req.writeImages(tx, p.t, w.ID, images); err != nil {
			return store.Written{}, err
		}
	}
	parent := store.Ref{Table: p.t.LogicalName, ID: w.ID}
	for _, link := range p.children {
		if err := req.linkChildren(ctx, tx, link, parent); err != nil {
			return store.Written{}, err
		}
	}
	return w, nil
}

// linkChildren creates or associates the rows of a collection-valued
// navigation property of a new row.
func (req *request) linkChildren(ctx context.Context, tx *store.Tx, link childLink, parent store.Ref) error {
	nav := link.nav
	if nav.IsManyToMany() {
		for _, row := range link.rows {
			child, err := req.applyCreate(tx, row, nil)
			if err != nil {
				return err
			}
			if err := tx.Associate(ctx, req.p, nav, parent.ID, child.ID); err != nil {
				return err
			}
		}
		for _, ref := range link.refs {
			if err := tx.Associate(ctx, req.p, nav, parent.ID, ref.ID); err != nil {
				return err
			}
		}
		return nil
	}
	setParent := []store.Field{{Column: nav.Column, Value: parent}}
	for _, row := range link.rows {
		if _, err := req.applyCreate(tx, row, setParent); err != nil {
			return err
		}
	}
	for _, ref := range link.refs {
		if _, err := tx.Update(ctx, req.p, nav.Target(), ref.ID, setParent, store.Match{}); err != nil {
			return err
		}
	}
	return nil
}

// writeWritten answers a successful create or update: 204 with
// OData-EntityId, or, under Prefer: return=representation, the row with
// createdStatus (201) or 200.
func (req *request) writeWritten(t *schema.Table, w store.Written, plan *readPlan, createdStatus int) error {
	if rec, ok := req.w.(*recorder); ok {
		// A $batch part: its Content-ID names this row, whatever the
		// response shows.
		rec.entityURL = req.entityURL(t, w.ID)
	}
	if !req.prefer.returnRepresentation {
		req.w.Header().Set("OData-EntityId", req.entityURL(t, w.ID))
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	row, err := req.data().Retrieve(req.ctx, req.p, t, w.ID, plan.fetch)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if w.Created {
		status = createdStatus
	}
	req.w.Header().Set("Preference-Applied", "return=representation")
	return req.writeEntity(t, plan, row, status)
}

func (req *request) writeEntity(t *schema.Table, plan *readPlan, row *store.Row, status int) error {
	rows := []store.Row{*row}
	if err := req.loadExpansions(plan, rows); err != nil {
		return err
	}
	ew, err := req.newEntityWriter(t, plan.fetch[:plan.out], rows)
	if err != nil {
		return err
	}
	ew.plan = plan
	req.w.Header().Set("ETag", etagHeader(row.Version))
	req.preferenceApplied()
	jw := req.startJSON(status)
	ew.write(jw, *row, req.entityContext(t, plan))
	return req.endJSON(jw)
}

// readableColumns are the columns returned without $select.
func readableColumns(t *schema.Table) []*schema.Column {
	cols := make([]*schema.Column, 0, len(t.Columns))
	for _, c := range t.Columns {
		if !c.Internal && c.ValidForRead {
			cols = append(cols, c)
		}
	}
	return cols
}

// retrieve answers GET <set>(<key>).
func (req *request) retrieve(t *schema.Table, key rowKey) error {
	plan, err := req.singleOptions(t, false)
	if err != nil {
		return err
	}
	id, err := req.existing(t, key)
	if err != nil {
		return err
	}
	row, err := req.data().Retrieve(req.ctx, req.p, t, id, plan.fetch)
	if err != nil {
		return err
	}
	// Conditional GET: never 304 with $expand or annotations.
	if _, notModified := parseMatch(req.r); len(notModified) > 0 && len(req.prefer.includeAnnotations) == 0 && len(plan.exps) == 0 {
		for _, v := range notModified {
			if v == row.Version {
				req.w.Header().Set("ETag", etagHeader(row.Version))
				req.w.WriteHeader(http.StatusNotModified)
				return nil
			}
		}
	}
	return req.writeEntity(t, plan, row, http.StatusOK)
}

// upsert answers PATCH <set>(<key>): update, or create when the row does
// not exist (unless If-Match forbids it).
func (req *request) upsert(t *schema.Table, key rowKey) error {
	plan, err := req.singleOptions(t, true)
	if err != nil {
		return err
	}
	body, err := req.readBody(t)
	if err != nil {
		return err
	}
	p, err := req.parsePayload(t, body)
	if err != nil {
		return err
	}
	if len(p.deep) > 0 || len(p.children) > 0 {
		return errPayload(t, "Deep update is not supported; update related rows with their own requests.")
	}
	m, _ := parseMatch(req.r)
	id, found, err := req.resolve(t, key)
	if err != nil {
		return err
	}
	fields := p.fields
	if !found {
		if m.IfMatchAny || len(m.IfMatch) > 0 {
			return errKeyNotFound(t)
		}
		// Upsert by alternate key: body values win; missing key columns
		// come from the URL.
		id = uuid.Nil
		for _, kf := range key.alt {
			given := false
			for _, f := range fields {
				given = given || f.Column == kf.Column
			}
			if !given {
				fields = append(fields, kf)
			}
		}
	} else if key.alt != nil {
		// The row exists: key columns in the body are dropped.
		kept := fields[:0:0]
		for _, f := range fields {
			isKey := false
			for _, kf := range key.alt {
				isKey = isKey || kf.Column == f.Column
			}
			if !isKey {
				kept = append(kept, f)
			}
		}
		fields = kept
	}
	fields, images := splitImageFields(fields)
	var w store.Written
	err = req.write(func(tx *store.Tx) error {
		if id == uuid.Nil {
			w, err = tx.Create(req.ctx, req.p, t, fields)
		} else {
			w, err = tx.Upsert(req.ctx, req.p, t, id, fields, m)
		}
		if err == nil && len(images) > 0 {
			err = req.writeImages(tx, t, w.ID, images)
		}
		return err
	})
	if err != nil {
		return err
	}
	return req.writeWritten(t, w, plan, http.StatusCreated)
}

// delete answers DELETE <set>(<key>).
func (req *request) delete(t *schema.Table, key rowKey) error {
	id, err := req.existing(t, key)
	if err != nil {
		return err
	}
	m, _ := parseMatch(req.r)
	if err := req.write(func(tx *store.Tx) error { return tx.Delete(req.ctx, req.p, t, id, m) }); err != nil {
		return err
	}
	req.w.WriteHeader(http.StatusNoContent)
	return nil
}

// property answers GET, PUT and DELETE on <set>(<key>)/<property>.
func (req *request) property(t *schema.Table, key rowKey, c *schema.Column) error {
	id, err := req.existing(t, key)
	if err != nil {
		return err
	}
	switch req.r.Method {
	case http.MethodGet:
		row, err := req.data().Retrieve(req.ctx, req.p, t, id, []*schema.Column{c})
		if err != nil {
			return err
		}
		if row.Values[0] == nil {
			// OData 4.0 part 1, 11.2.4.1: a single-valued property with the
			// null value is answered 204 No Content.
			req.w.WriteHeader(http.StatusNoContent)
			return nil
		}
		jw := req.startJSON(http.StatusOK)
		jw.raw(`{"@odata.context":`)
		jw.str(req.base + "/$metadata#" + t.EntitySetName + "(" + id.String() + ")/" + c.PropertyName())
		jw.raw(`,"value":`)
		jw.value(c, row.Values[0])
		jw.byte('}')
		return req.endJSON(jw)
	case http.MethodPut, http.MethodDelete:
		if c.IsLookup() {
			return newError(http.StatusBadRequest, dverr.CodeODataError, "The lookup property '%s' cannot be set directly; use the navigation property's $ref.", c.PropertyName())
		}
		var value any
		if req.r.Method == http.MethodPut {
			body, err := req.readBody(t)
			if err != nil {
				return err
			}
			members, err := readObject(t, body)
			if err != nil {
				return err
			}
			if len(members) != 1 || members[0].name != "value" {
				return errPayload(t, "The body of a property update must be {\"value\": …}.")
			}
			if value, err = jsonValue(c, members[0].value); err != nil {
				return errPayload(t, "%s", err.Error())
			}
		}
		m, _ := parseMatch(req.r)
		if err := req.write(func(tx *store.Tx) error {
			_, err := tx.Update(req.ctx, req.p, t, id, []store.Field{{Column: c, Value: value}}, m)
			return err
		}); err != nil {
			return err
		}
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return errMethodNotAllowed(req.r.Method)
}

// count answers GET <set>/$count: a plain-text number, capped at 5,000.
func (req *request) count(t *schema.Table) error {
	q, err := req.parseQuery()
	if err != nil {
		return err
	}
	if q.DeltaToken != "" {
		return req.countChanges(t, q)
	}
	b := &binder{req: req, q: q, table: t}
	var where store.Cond
	if q.Filter != nil && odata.CountConditions(q.Filter) > maxConditions {
		return errTooManyConditions()
	}
	if q.Filter != nil {
		if where, err = b.bindFilter(q.Filter); err != nil {
			return err
		}
	}
	n, err := req.data().Count(req.ctx, req.p, t, where, store.CountLimit)
	if err != nil {
		return err
	}
	req.w.Header().Set("Content-Type", "text/plain")
	req.w.WriteHeader(http.StatusOK)
	_, _ = req.w.Write([]byte(strconv.Itoa(n)))
	return nil
}
