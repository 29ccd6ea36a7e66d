package webapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// The bound actions on entity sets the emulator implements.
const (
	actionCreateMultiple = "CreateMultiple"
	actionUpdateMultiple = "UpdateMultiple"
	actionUpsertMultiple = "UpsertMultiple"
	actionDeleteMultiple = "DeleteMultiple"
)

// bulkAction answers POST <set>/Microsoft.Dynamics.CRM.<name>, one of the
// bulk messages (operations.go routes it).
func (req *request) bulkAction(t *schema.Table, name string) error {
	if name == actionDeleteMultiple {
		// Standard tables do not support DeleteMultiple [status unverified].
		return newError(http.StatusBadRequest, dverr.CodeODataError, "DeleteMultiple has not yet been implemented.")
	}
	body, err := req.readBody(t)
	if err != nil {
		return err
	}
	targets, err := req.bulkTargets(t, body, name == actionUpsertMultiple)
	if err != nil {
		return err
	}
	ids := make([]uuid.UUID, 0, len(targets))
	err = req.write(func(tx *store.Tx) error {
		err := req.applyTargets(tx, t, name, targets, &ids)
		// The rows CreateBatched left waiting are inserted before the transaction goes on
		// (the request may be part of a changeset); a failure of theirs came first.
		if ferr := tx.FlushCreates(req.ctx); ferr != nil {
			return ferr
		}
		return err
	})
	if err != nil {
		return err
	}
	if name != actionCreateMultiple {
		req.w.WriteHeader(http.StatusNoContent)
		return nil
	}
	jw := req.startJSON(http.StatusOK)
	jw.raw(`{"@odata.context":`)
	jw.str(req.base + "/$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse")
	jw.raw(`,"Ids":[`)
	for i, id := range ids {
		if i > 0 {
			jw.byte(',')
		}
		jw.guid(id)
	}
	jw.raw("]}")
	return req.endJSON(jw)
}

// applyTargets writes the targets of bulk message name in tx, one after the other, appending
// the id of each row written to ids; it stops at the first error. A CreateMultiple target
// that is only columns (no deep insert, no related rows, no image) is created with
// CreateBatched, whose INSERT may wait to run with the next targets' in one statement; before
// any other kind of write the waiting rows are inserted.
func (req *request) applyTargets(tx *store.Tx, t *schema.Table, name string, targets []bulkTarget, ids *[]uuid.UUID) error {
	for _, target := range targets {
		var w store.Written
		var err error
		switch name {
		case actionCreateMultiple:
			if target.payload.onlyColumns() {
				w, err = tx.CreateBatched(req.ctx, req.p, t, target.payload.fields)
				break
			}
			if err := tx.FlushCreates(req.ctx); err != nil {
				return err
			}
			w, err = req.applyCreate(tx, target.payload, nil)
		case actionUpdateMultiple:
			if target.key.id == uuid.Nil && target.key.alt == nil {
				return errPayload(t, "Each target of UpdateMultiple must include the primary key '%s'.", t.PrimaryID().LogicalName)
			}
			id, found, rerr := req.resolveIn(tx, t, target.key)
			if rerr != nil {
				return rerr
			}
			if !found && target.key.alt == nil {
				return errBulkIDsNotFound(t, id)
			}
			if !found {
				return errKeyNotFound(t)
			}
			fields, images := splitImageFields(target.payload.fields)
			w, err = tx.Update(req.ctx, req.p, t, id, fields, store.Match{})
			if err == nil && len(images) > 0 {
				err = req.writeImages(tx, t, w.ID, images)
			}
		case actionUpsertMultiple:
			id, found, rerr := req.resolveIn(tx, t, target.key)
			if rerr != nil {
				return rerr
			}
			fields := target.payload.fields
			if !found {
				fields = append(fields, target.key.alt...)
			}
			fields, images := splitImageFields(fields)
			if !found && id == uuid.Nil {
				w, err = tx.Create(req.ctx, req.p, t, fields)
			} else {
				w, err = tx.Upsert(req.ctx, req.p, t, id, fields, store.Match{})
			}
			if err == nil && len(images) > 0 {
				err = req.writeImages(tx, t, w.ID, images)
			}
		}
		if err != nil {
			return err
		}
		*ids = append(*ids, w.ID)
	}
	return nil
}

// bulkIDsNotFoundFormat is the ObjectDoesNotExist message of a bulk
// message whose target names a missing row by primary key ("<Entity> With
// Ids = <guid> Do Not Exist", reference §7) [unverified: whether <Entity>
// is the logical name, as in the single-row message, and the status, 404
// as for a single row].
const bulkIDsNotFoundFormat = "%s With Ids = %s Do Not Exist"

func errBulkIDsNotFound(t *schema.Table, id uuid.UUID) *apiError {
	return newError(http.StatusNotFound, dverr.CodeObjectDoesNotExist, bulkIDsNotFoundFormat, t.LogicalName, id)
}

// bulkTarget is one item of Targets.
type bulkTarget struct {
	payload *payload
	key     rowKey // the primary key (or alternate key) the item names, if any
}

// bulkTargets reads {"Targets":[…]}: every item needs @odata.type naming
// the set's table; the primary key or, for upserts, @odata.id identify
// existing rows.
func (req *request) bulkTargets(t *schema.Table, body []byte, allowODataID bool) ([]bulkTarget, error) {
	members, err := readBulkObject(t, body)
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	for _, m := range members {
		if m.name == "Targets" {
			raw = m.value
		} else {
			return nil, errPayload(t, "The parameter '%s' is not a parameter of the action; it takes 'Targets'.", m.name)
		}
	}
	if raw == nil {
		return nil, errPayload(t, "The action needs a 'Targets' array of %s records.", t.LogicalName)
	}
	// readObject validated the whole body, so the items are split by a scanner that only
	// finds where each value ends (jsonsplit.go), not decoded token by token.
	items, ok := splitValidArray(raw)
	if !ok {
		if string(raw) == "null" { // "Targets": null, read as no targets
			return nil, nil
		}
		return nil, errPayload(t, "The action needs a 'Targets' array of %s records.", t.LogicalName)
	}
	out := make([]bulkTarget, 0, len(items))
	for i, item := range items {
		ms, err := splitValidObject(item)
		var dup *duplicateMember
		if errors.As(err, &dup) {
			return nil, errPayload(t, "Duplicate property named '%s' is not allowed.", dup.name)
		}
		if errors.Is(err, errNotObject) {
			return nil, errPayload(t, "Invalid JSON. The request body must be a JSON object.")
		}
		if err != nil {
			return nil, errPayload(t, "Invalid JSON. %s", jsonProblem(err))
		}
		var target bulkTarget
		hasType := false
		kept := ms[:0] // filtered in place: each member is read before its slot is written
		for _, m := range ms {
			switch {
			case m.name == "@odata.type":
				hasType = true
				kept = append(kept, m)
			case m.name == "@odata.id" && allowODataID:
				var uri string
				if err := json.Unmarshal(m.value, &uri); err != nil {
					return nil, errPayload(t, "@odata.id of target %d must be a string.", i)
				}
				key, err := req.keyFromURI(t, uri)
				if err != nil {
					return nil, err
				}
				target.key = key
			case m.name == t.PrimaryID().LogicalName:
				var s string
				id, perr := uuid.Nil, decodeString(m.value, &s)
				if perr == nil {
					id, perr = uuid.Parse(s)
				}
				if perr != nil {
					return nil, errPayload(t, "Cannot convert the literal '%s' to the expected type 'Edm.Guid'.", strings.Trim(string(m.value), `"`))
				}
				target.key = rowKey{id: id}
				kept = append(kept, m)
			default:
				kept = append(kept, m)
			}
		}
		if !hasType {
			return nil, errPayload(t, "The '@odata.type' annotation is required on every target; add \"@odata.type\": \"%s\" to target %d.", t.EntityTypeName(), i)
		}
		if target.payload, err = req.bindMembers(t, kept, 0); err != nil {
			return nil, err
		}
		out = append(out, target)
	}
	return out, nil
}

// keyFromURI reads "set(key)" from an @odata.id of the set's table.
func (req *request) keyFromURI(t *schema.Table, uri string) (rowKey, error) {
	s := uri
	if i := strings.Index(s, "/api/data/"); i >= 0 {
		s = s[i+len("/api/data/"):]
		_, s, _ = strings.Cut(s, "/")
	}
	s = strings.TrimPrefix(s, "/")
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	set, keyText, hasKey, err := splitKeySegment(s)
	if err != nil || !hasKey || set != t.EntitySetName {
		return rowKey{}, errPayload(t, "The @odata.id '%s' does not identify a row of '%s'.", uri, t.EntitySetName)
	}
	return parseKey(t, keyText)
}

// resolveIn is resolve inside a transaction.
func (req *request) resolveIn(tx *store.Tx, t *schema.Table, k rowKey) (uuid.UUID, bool, error) {
	saved := req.tx
	req.tx = tx
	defer func() { req.tx = saved }()
	if k.alt == nil && k.id == uuid.Nil {
		return uuid.Nil, false, nil
	}
	if k.alt == nil {
		_, err := tx.Retrieve(req.ctx, req.p, t, k.id, []*schema.Column{})
		if store.KindOf(err) == store.KindNotFound {
			return k.id, false, nil
		}
		return k.id, err == nil, err
	}
	return req.resolve(t, k)
}

// onlyColumns reports whether p writes columns of its row and nothing else: no deep insert,
// no related rows, no image (which is stored apart from the row, once the row exists).
func (p *payload) onlyColumns() bool {
	if len(p.deep) > 0 || len(p.children) > 0 {
		return false
	}
	return !slices.ContainsFunc(p.fields, isImageField)
}
