package webapi

import (
	"net/http"
	"slices"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
	"github.com/google/uuid"
)

// errKeySyntax is a key predicate Dataverse cannot read.
func errKeySyntax() *apiError {
	return newError(http.StatusBadRequest, dverr.CodeQuerySyntax, "Bad Request - Error in query syntax.")
}

// splitKeySegment splits "contacts(<key>)" into the entity set and the
// key text.
func splitKeySegment(seg string) (set, key string, hasKey bool, err error) {
	open := strings.IndexByte(seg, '(')
	if open < 0 {
		return seg, "", false, nil
	}
	if !strings.HasSuffix(seg, ")") {
		return "", "", false, errKeySyntax()
	}
	return seg[:open], seg[open+1 : len(seg)-1], true, nil
}

// rowKey identifies a row by primary key or by alternate key values.
type rowKey struct {
	id  uuid.UUID
	alt []store.Field // alternate key columns and values, when id is Nil
}

// parseKey reads a key predicate: a GUID (any case), the primary key by
// name (`contactid=<guid>`), or an alternate key `name='value',other=2`
// whose names are exactly the columns of one of the table's keys (lookups
// by their _x_value property).
func parseKey(t *schema.Table, text string) (rowKey, error) {
	if id, err := uuid.Parse(text); err == nil && len(text) == 36 {
		return rowKey{id: id}, nil
	}
	pairs := splitOutsideQuotes(text, ',', '\'')
	if len(pairs) == 0 || !strings.Contains(text, "=") {
		return rowKey{}, errKeySyntax()
	}
	var k rowKey
	var names []string
	for _, pair := range pairs {
		name, lit, ok := strings.Cut(pair, "=")
		name = strings.TrimSpace(name)
		if !ok || name == "" {
			return rowKey{}, errKeySyntax()
		}
		col, found := t.Property(name)
		if !found {
			return rowKey{}, errPropertyNotFound(name, t)
		}
		expr, err := odata.ParseAliasValue(strings.TrimSpace(lit))
		if err != nil {
			return rowKey{}, err
		}
		v, err := literalValue(col, expr, odata.OpEq)
		if err != nil {
			return rowKey{}, err
		}
		if col == t.PrimaryID() && len(pairs) == 1 {
			// contacts(contactid=<guid>): the primary key by name.
			if id, ok := v.(uuid.UUID); ok {
				return rowKey{id: id}, nil
			}
		}
		k.alt = append(k.alt, store.Field{Column: col, Value: v})
		names = append(names, col.LogicalName)
	}
	slices.Sort(names)
	for _, key := range t.Keys {
		var want []string
		for _, c := range key.Columns {
			want = append(want, c.LogicalName)
		}
		slices.Sort(want)
		if slices.Equal(want, names) {
			return k, nil
		}
	}
	return rowKey{}, newError(http.StatusBadRequest, dverr.CodeQuerySyntax,
		"The key '%s' does not match any alternate key defined for entity '%s'.", text, t.LogicalName)
}

// existing is resolve for a row that must exist: an alternate key that
// matches no row is the Dataverse 404 for the table.
func (req *request) existing(t *schema.Table, k rowKey) (uuid.UUID, error) {
	id, found, err := req.resolve(t, k)
	if err != nil {
		return uuid.Nil, err
	}
	if !found {
		return uuid.Nil, errKeyNotFound(t)
	}
	return id, nil
}

// resolve finds the id of the row a key names. found is false when an
// alternate key matches no row.
func (req *request) resolve(t *schema.Table, k rowKey) (id uuid.UUID, found bool, err error) {
	if k.alt == nil {
		return k.id, true, nil
	}
	conds := make([]store.Cond, len(k.alt))
	for i, f := range k.alt {
		conds[i] = store.Compare(f.Column, store.OpEq, f.Value)
	}
	page, err := req.data().Query(req.ctx, req.p, store.Query{Table: t, Columns: []*schema.Column{}, Where: store.And(conds...), Limit: 1})
	if err != nil {
		return uuid.Nil, false, err
	}
	if len(page.Rows) == 0 {
		return uuid.Nil, false, nil
	}
	return page.Rows[0].ID, true, nil
}

func errKeyNotFound(t *schema.Table) *apiError {
	return newError(http.StatusNotFound, dverr.CodeObjectDoesNotExist,
		"A record with the specified key values does not exist in %s entity", t.LogicalName)
}
