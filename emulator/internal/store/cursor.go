package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// Cursor is a position in a query's order: the stored values of the
// query's sort keys ([Query.SortKeys]) at a row, primary key last. It is
// opaque to callers, who pass it back in Query.After or carry it as text:
// MarshalText/UnmarshalText, or one text value per key (Keys, NewCursor,
// SortKeyFromText) for formats that name each key, such as FetchXML
// paging cookies.
type Cursor struct {
	keys []any
}

// ErrCursorMismatch is the error of a query whose After cursor does not fit
// its sort keys (a $skiptoken or paging cookie from another query, or
// tampered with). It is deliberately not an *Error: callers translate it to
// their own message (the Web API's invalid $skiptoken or paging cookie).
var ErrCursorMismatch = errors.New("store: the cursor does not belong to this query")

// MarshalText encodes the cursor as JSON text.
func (c *Cursor) MarshalText() ([]byte, error) { return json.Marshal(c.keys) }

// UnmarshalText decodes a cursor from MarshalText's output. The values are
// checked against the query when it runs.
func (c *Cursor) UnmarshalText(text []byte) error {
	dec := json.NewDecoder(strings.NewReader(string(text)))
	dec.UseNumber()
	var keys []any
	if err := dec.Decode(&keys); err != nil {
		return fmt.Errorf("store: malformed cursor: %w", err)
	}
	if dec.More() {
		return errors.New("store: malformed cursor: trailing data")
	}
	c.keys = keys
	return nil
}

// Keys returns the cursor's values, one per sort key: string, int64,
// float64 or nil (null), as the store keeps them.
func (c *Cursor) Keys() []any { return append([]any(nil), c.keys...) }

// NewCursor returns the cursor at the given sort-key values, as
// [Cursor.Keys] returns them or [SortKeyFromText] reads them. They are
// checked against the query when it runs.
func NewCursor(keys []any) *Cursor { return &Cursor{keys: append([]any(nil), keys...)} }

// SortKeyFromText reads the value of sort key o (one of
// [Query.SortKeys]) written as text (the decimal digits of a number, the
// stored text otherwise, the text itself for a [Order.Derived] key): the
// inverse of formatting a [Cursor.Keys] value. GUIDs may be braced and in
// either case, as Dataverse writes them in paging cookies.
func SortKeyFromText(o Order, text string) (any, error) {
	if o.Derived() {
		return text, nil
	}
	col := o.Column
	typ, _ := sqlColumnType(col)
	switch typ {
	case "INTEGER":
		n, err := strconv.ParseInt(text, 10, 64)
		if err != nil {
			return nil, ErrCursorMismatch
		}
		return n, nil
	case "REAL":
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, ErrCursorMismatch
		}
		return f, nil
	}
	if col.Type == schema.TypeUniqueidentifier || col.Type.IsLookup() {
		id, err := uuid.Parse(text)
		if err != nil {
			return nil, ErrCursorMismatch
		}
		return id.String(), nil
	}
	return text, nil
}

// cursorValue converts a decoded cursor value of sort key o back to the
// SQL type of the key (the stored type of its column, or text for a
// derived key), refusing anything else.
func cursorValue(o Order, k any) (any, error) {
	if k == nil {
		return nil, nil
	}
	typ, _ := sqlColumnType(o.Column)
	if o.Derived() {
		typ = "TEXT"
	}
	switch x := k.(type) {
	case json.Number:
		switch typ {
		case "INTEGER":
			n, err := x.Int64()
			if err != nil {
				return nil, ErrCursorMismatch
			}
			return n, nil
		case "REAL":
			f, err := x.Float64()
			if err != nil {
				return nil, ErrCursorMismatch
			}
			return f, nil
		}
	case string:
		if typ == "TEXT" {
			return x, nil
		}
	case int64:
		if typ == "INTEGER" {
			return x, nil
		}
	case float64:
		if typ == "REAL" {
			return x, nil
		}
	}
	return nil, ErrCursorMismatch
}
