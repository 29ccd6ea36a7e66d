package dataverse

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// preferTrackChanges is the preference that starts change tracking on a
// collection request; the service answers it with Preference-Applied.
const preferTrackChanges = "odata.track-changes"

// readPage reads one page of a sync: the full load's first request when
// link is "", else the page at link (a next link or a delta link). A
// tracked full load's pages ask for change tracking, so that its last
// page carries the delta link; a delta link's pages, and an untracked
// full load's, send only the page size, as Microsoft's example does.
func (s *Sync) readPage(ctx context.Context, link string, track bool) (page *Page[json.RawMessage], err error) {
	ctx, end := s.c.startSpan(ctx, "SyncPage")
	defer func() { end(err) }()
	var prefs []string
	if track {
		prefs = append(prefs, preferTrackChanges)
	}
	if s.opts.MaxPageSize > 0 {
		prefs = append(prefs, "odata.maxpagesize="+strconv.Itoa(s.opts.MaxPageSize))
	}
	r := &request{method: http.MethodGet, idempotent: true, opts: &s.opts.RequestOptions}
	if len(prefs) > 0 {
		r.setHeader("Prefer", strings.Join(prefs, ","))
	}
	if link == "" {
		q := Query{Select: s.opts.Select}
		if r.query, err = q.encode(); err != nil {
			return nil, err
		}
		r.path = s.entitySet
	} else {
		u, err := s.c.resolveLink(link)
		if err != nil {
			return nil, invalid(err)
		}
		r.absURL = u.String()
	}
	resp, err := s.c.send(ctx, r)
	if err != nil {
		return nil, err
	}
	defer closeBody(resp)
	if link == "" && track && !preferenceApplied(resp.Header, preferTrackChanges) {
		// Without it the last page would carry no delta link: refuse
		// before the consumer resets its copy.
		return nil, fmt.Errorf("dataverse: Sync %s: the service did not apply %s (no Preference-Applied: %s on the first page); check that change tracking is on for the table", s.entitySet, preferTrackChanges, preferTrackChanges)
	}
	var buf bytes.Buffer
	if resp.ContentLength > 0 && resp.ContentLength < maxPooledPageBuffer {
		buf.Grow(int(resp.ContentLength) + bytes.MinRead)
	}
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return nil, fmt.Errorf("dataverse: Sync %s: reading the response: %w", s.entitySet, err)
	}
	page = new(Page[json.RawMessage])
	// The rows are slices of the body, which is the page's alone: the
	// consumer may keep them.
	if err := decodeRawPage(bytes.TrimPrefix(buf.Bytes(), utf8BOM), page); err != nil {
		return nil, fmt.Errorf("dataverse: Sync %s: decoding the response: %w", s.entitySet, err)
	}
	for _, l := range []*string{&page.NextLink, &page.DeltaLink} {
		if *l == "" {
			continue
		}
		u, err := s.c.resolveLink(*l)
		if err != nil {
			return nil, fmt.Errorf("dataverse: Sync %s: the response's link: %w", s.entitySet, err)
		}
		*l = u.String()
	}
	return page, nil
}

// preferenceApplied reports whether h's Preference-Applied lists pref.
func preferenceApplied(h http.Header, pref string) bool {
	for _, v := range h.Values("Preference-Applied") {
		for p := range strings.SplitSeq(v, ",") {
			name, _, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(name), pref) {
				return true
			}
		}
	}
	return false
}

// pageChanges turns a page's rows into changes. The primary key is read
// from the table's metadata before the first upsert needs it, so that a
// failure comes before any change of the page is yielded.
func (s *Sync) pageChanges(ctx context.Context, page *Page[json.RawMessage]) ([]Change, error) {
	out := make([]Change, 0, len(page.Items))
	for i, row := range page.Items {
		ch, err := s.rowChange(ctx, row)
		if err != nil {
			return nil, fmt.Errorf("dataverse: Sync %s: row %d of the page: %w", s.entitySet, i+1, err)
		}
		out = append(out, ch)
	}
	return out, nil
}

// rowChange classifies one row of a page: a deleted-row entry
// ({"@odata.context":"…$metadata#<set>/$deletedEntity","id":"<guid>",
// "reason":"deleted"}) is a delete, any other row an upsert of the row.
func (s *Sync) rowChange(ctx context.Context, row json.RawMessage) (Change, error) {
	kind, id, err := classifyRow(row, s.pk)
	if err != nil {
		return Change{}, err
	}
	if kind == ChangeUpsert && s.pk == "" {
		if s.pk, err = s.primaryKey(ctx); err != nil {
			return Change{}, err
		}
		if kind, id, err = classifyRow(row, s.pk); err != nil {
			return Change{}, err
		}
	}
	if kind == ChangeDelete {
		return Change{Op: ChangeDelete, ID: id}, nil
	}
	return Change{Op: ChangeUpsert, ID: id, Record: row}, nil
}

// primaryKey reads the table's primary id column from its metadata.
func (s *Sync) primaryKey(ctx context.Context) (string, error) {
	md, err := s.c.TableMetadata(ctx, s.entitySet)
	if err != nil {
		return "", fmt.Errorf("reading the primary key of %s from its metadata (set SyncOptions.PrimaryKey to skip this): %w", s.entitySet, err)
	}
	if md.PrimaryIDAttribute == "" {
		return "", fmt.Errorf("the metadata of %s names no PrimaryIdAttribute; set SyncOptions.PrimaryKey", s.entitySet)
	}
	return md.PrimaryIDAttribute, nil
}

// deletedEntitySuffix ends the @odata.context of a deleted-row entry.
const deletedEntitySuffix = "/$deletedEntity"

// classifyRow says whether row is a deleted-row entry (ChangeDelete, with
// its id) or a row (ChangeUpsert, with the value of pk; uuid.Nil when pk
// is ""). It reads the row's members once, without decoding the row.
func classifyRow(row []byte, pk string) (ChangeOp, uuid.UUID, error) {
	var deleted bool
	var idValue, pkValue []byte
	err := scanObject(row, func(name, value []byte) error {
		switch {
		case string(name) == "@odata.context":
			ctx, err := jsonStringValue(value)
			if err != nil {
				return fmt.Errorf("@odata.context: %w", err)
			}
			deleted = strings.HasSuffix(ctx, deletedEntitySuffix)
		case string(name) == "id":
			idValue = value
		case pk != "" && string(name) == pk:
			pkValue = value
		}
		return nil
	})
	if err != nil {
		return "", uuid.Nil, err
	}
	if deleted {
		if idValue == nil {
			return "", uuid.Nil, fmt.Errorf("a deleted-row entry has no id")
		}
		id, err := entryID(idValue)
		if err != nil {
			return "", uuid.Nil, fmt.Errorf("a deleted-row entry's id: %w", err)
		}
		return ChangeDelete, id, nil
	}
	if pk == "" {
		return ChangeUpsert, uuid.Nil, nil
	}
	if pkValue == nil {
		return "", uuid.Nil, fmt.Errorf("the row has no %s (the primary key); set SyncOptions.PrimaryKey to the table's primary id column", pk)
	}
	s, err := jsonStringValue(pkValue)
	if err != nil {
		return "", uuid.Nil, fmt.Errorf("%s: %w", pk, err)
	}
	id, err := uuid.Parse(s)
	if err != nil {
		return "", uuid.Nil, fmt.Errorf("%s %q is not a GUID", pk, truncate(s, 60))
	}
	return ChangeUpsert, id, nil
}

// entryID reads the id of a deleted-row entry: a bare GUID as Dataverse
// sends it, or an entity-id URL ending in "(<guid>)" as OData 4.0 defines
// it.
func entryID(value []byte) (uuid.UUID, error) {
	s, err := jsonStringValue(value)
	if err != nil {
		return uuid.Nil, err
	}
	if id, err := uuid.Parse(s); err == nil && len(s) == 36 {
		return id, nil
	}
	if strings.HasSuffix(s, ")") {
		if open := strings.LastIndexByte(s, '('); open >= 0 {
			if id, err := uuid.Parse(s[open+1 : len(s)-1]); err == nil && len(s)-open-2 == 36 {
				return id, nil
			}
		}
	}
	return uuid.Nil, fmt.Errorf("%q is not a GUID", truncate(s, 60))
}

// jsonStringValue decodes a raw JSON value that must be a string.
func jsonStringValue(value []byte) (string, error) {
	if len(value) < 2 || value[0] != '"' {
		return "", fmt.Errorf("%s is not a string", truncate(string(value), 60))
	}
	if bytes.IndexByte(value, '\\') < 0 {
		return string(value[1 : len(value)-1]), nil
	}
	var s string
	if err := json.Unmarshal(value, &s); err != nil {
		return "", err
	}
	return s, nil
}
