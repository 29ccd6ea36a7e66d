package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// maxBatchRows is the most rows one multi-row INSERT of a bulk create
// carries. A statement costs a fixed amount besides its rows (database/sql
// and the driver, opening and closing a cursor per index, a goroutine that
// watches the context), and within one statement the cursors stay where the
// last row left them, so an index whose keys only grow (rowid, version
// number, the caller's lookups) takes the next entry without a search from
// its root. 64 rows make the fixed cost a small part of each row's while a
// statement stays a few kilobytes of SQL, prepared once per transaction for
// each size (see insertSQL); 32 and 128 measured the same
// (docs/benchmarks.md).
const maxBatchRows = 64

// maxBatchParams keeps a multi-row INSERT under SQLite's limit on bound
// parameters (SQLITE_MAX_VARIABLE_NUMBER, 32,766 in the build the store
// uses).
const maxBatchParams = 32766

// insertBatch is the insert state of a transaction: a row to build the
// next one in, and the rows CreateBatched has built but not inserted yet. Waiting rows are all of one table and one
// shape (the same columns with a value), so that they go in one statement.
type insertBatch struct {
	// row is the rowState the next row is built in, nil while one is
	// being built (takeRow).
	row *rowState

	// rowCols and rowArgs are the row being built: its columns with a
	// value and those values as SQL arguments. Reused from row to row.
	rowCols []*schema.Column
	rowArgs []any

	// t, cols, args and rows are the waiting rows: their table, shape, the
	// values of all of them in order, and how many there are.
	t    *schema.Table
	cols []*schema.Column
	args []any
	rows int

	// refs and times memoise the SQL text of recent lookup and time
	// values (see sqlValue).
	refs     [4]memoText[uuid.UUID]
	times    [4]memoText[memoTime]
	nextRef  int
	nextTime int

	// boxedRefs and boxedNow memoise recent Refs and the last time as
	// interface values (see boxRef).
	boxedRefs    [4]memoBox[Ref]
	nextBoxedRef int
	boxedNow     memoBox[time.Time]

	// err is the failure of the last flush, kept until FlushCreates
	// returns it: it belongs to a row before any that fails later in the
	// same transaction, so it is the error to report whatever comes after.
	err error
}

// takeRow returns an empty row of t, reusing the transaction's last one;
// putRow gives it back.
func (b *insertBatch) takeRow(t *schema.Table) *rowState {
	r := b.row
	if r == nil {
		return newRowState(t)
	}
	b.row = nil
	r.reset(t)
	return r
}

// putRow keeps r for the next row; its values are cleared then, by reset.
func (b *insertBatch) putRow(r *rowState) { b.row = r }

// CreateBatched is [Tx.Create] for a bulk create: the row's INSERT may wait
// and run later with the rows after it of the same table and shape, as one
// multi-row statement, so that many rows share one statement's fixed cost.
// The row's id and version are final when it returns. A waiting row is
// inserted when maxBatchRows rows wait, when a row of another shape comes,
// when the store runs any other statement in the transaction through its
// statement helpers, and at FlushCreates.
//
// Errors come in the order the rows came, as with Create: when a row fails,
// the rows waiting before it are inserted first, and their failure (a
// duplicate key, say) is the error returned. A caller that uses the
// transaction for anything but CreateBatched calls FlushCreates first, and
// calls it at the end, before the transaction commits; a bulk message stops
// at its first error, which rolls the whole transaction back.
func (tx *Tx) CreateBatched(ctx context.Context, p *Principal, t *schema.Table, fields []Field) (Written, error) {
	if tx.ins.err != nil {
		return Written{}, tx.ins.err
	}
	if _, err := tx.s.Require(p, VerbCreate, t); err != nil {
		return Written{}, tx.failAfterWaiting(ctx, err)
	}
	w, err := tx.insertRow(ctx, p, t, uuid.Nil, fields, true)
	if err != nil {
		return Written{}, tx.failAfterWaiting(ctx, err)
	}
	return w, nil
}

// FlushCreates inserts the rows CreateBatched left waiting and returns the
// first failure of a waiting row since the last FlushCreates, if any.
func (tx *Tx) FlushCreates(ctx context.Context) error {
	err := tx.flushInserts(ctx)
	tx.ins.err = nil
	return err
}

// failAfterWaiting returns the error of a row that failed: the failure of
// the rows waiting before it when inserting them fails, else err.
func (tx *Tx) failAfterWaiting(ctx context.Context, err error) error {
	if ferr := tx.flushInserts(ctx); ferr != nil {
		return ferr
	}
	return err
}

// queueInsert adds the row built in tx.ins.rowCols and rowArgs to the
// waiting rows, inserting those first when the row's table or shape
// differs from theirs, and inserting all of them when a statement is full.
func (tx *Tx) queueInsert(ctx context.Context, t *schema.Table) error {
	b := &tx.ins
	if b.rows > 0 && (b.t != t || !slices.Equal(b.cols, b.rowCols)) {
		if err := tx.flushInserts(ctx); err != nil {
			return err
		}
	}
	if b.rows == 0 {
		b.t = t
		b.cols = append(b.cols[:0], b.rowCols...)
	}
	b.args = append(b.args, b.rowArgs...)
	b.rows++
	if b.rows >= batchRows(len(b.cols)) {
		return tx.flushInserts(ctx)
	}
	return nil
}

// batchRows is how many rows of cols columns one statement carries at most.
func batchRows(cols int) int {
	n := maxBatchRows
	for n > 1 && n*cols > maxBatchParams {
		n /= 2
	}
	return n
}

// flushInserts inserts the waiting rows, in statements of a power of two
// rows each (so that a transaction prepares at most a few sizes of
// statement per shape), in order. On failure the waiting rows are dropped
// (the transaction is to be rolled back) and the failure is kept in
// tx.ins.err.
func (tx *Tx) flushInserts(ctx context.Context) error {
	b := &tx.ins
	if b.err != nil {
		return b.err
	}
	if b.rows == 0 {
		return nil
	}
	t, cols, args, rows := b.t, b.cols, b.args, b.rows
	b.rows, b.args, b.t = 0, b.args[:0], nil
	for done := 0; done < rows; {
		n := batchRows(len(cols))
		for n > rows-done {
			n /= 2
		}
		part := args[done*len(cols) : (done+n)*len(cols)]
		if _, err := tx.execPrepared(ctx, insertSQL(t, cols, n), part...); err != nil {
			b.err = insertError(t, err)
			clear(args) // no row's values outlive the failure
			return b.err
		}
		done += n
	}
	clear(args)
	return nil
}

// insertError words the failure of an INSERT into t.
func insertError(t *schema.Table, err error) error {
	if isUniqueViolation(err) {
		return duplicateError()
	}
	return fmt.Errorf("store: insert into %s: %w", t.LogicalName, err)
}

// insertSQL is the INSERT of rows rows of t with values in cols.
func insertSQL(t *schema.Table, cols []*schema.Column, rows int) string {
	var b strings.Builder
	b.Grow(32 + 24*len(cols) + rows*(3*len(cols)+4))
	b.WriteString("INSERT INTO ")
	b.WriteString(quoteIdent(t.LogicalName))
	b.WriteString(" (")
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(quoteIdent(c.LogicalName))
	}
	b.WriteString(") VALUES ")
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for i := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('?')
		}
		b.WriteByte(')')
	}
	return b.String()
}

// memoBox is a value and the same value as an interface.
type memoBox[K comparable] struct {
	key K
	box any // nil for an empty slot
}

// boxRef returns ref as an interface value, reusing the box of a recent
// equal Ref: every row a caller creates names the caller as its owner,
// owning user, creator and modifier, and the caller's business unit, and
// each would otherwise be boxed, an allocation, again for every row.
func (b *insertBatch) boxRef(ref Ref) any {
	for i := range b.boxedRefs {
		if b.boxedRefs[i].box != nil && b.boxedRefs[i].key == ref {
			return b.boxedRefs[i].box
		}
	}
	box := any(ref)
	b.boxedRefs[b.nextBoxedRef] = memoBox[Ref]{ref, box}
	b.nextBoxedRef = (b.nextBoxedRef + 1) % len(b.boxedRefs)
	return box
}

// boxTime returns t as an interface value, reusing the box of the last
// time boxed when it is the same: the rows of a bulk create mostly share
// their createdon and modifiedon.
func (b *insertBatch) boxTime(t time.Time) any {
	if b.boxedNow.box != nil && b.boxedNow.key == t {
		return b.boxedNow.box
	}
	b.boxedNow = memoBox[time.Time]{t, t}
	return b.boxedNow.box
}

// memoText is a value and its SQL text.
type memoText[K comparable] struct {
	key  K
	text any // a string; nil for an empty slot
}

// memoTime is a time value as the store writes it: the instant, and
// whether the column keeps only the date.
type memoTime struct {
	unix, nano int64
	dateOnly   bool
}

// sqlValue is the package's sqlValue for a row being inserted, with the
// text of recent lookups and times kept: the rows of a bulk create repeat
// the caller's id in five lookups (owner, owning user, creator, modifier,
// business unit is another) and the same second in createdon and
// modifiedon, which would otherwise be formatted, and allocated, again for
// every row.
func (b *insertBatch) sqlValue(c *schema.Column, v any) (any, error) {
	switch x := v.(type) {
	case Ref:
		for i := range b.refs {
			if b.refs[i].text != nil && b.refs[i].key == x.ID {
				return b.refs[i].text, nil
			}
		}
		text := any(x.ID.String())
		b.refs[b.nextRef] = memoText[uuid.UUID]{x.ID, text}
		b.nextRef = (b.nextRef + 1) % len(b.refs)
		return text, nil
	case time.Time:
		key := memoTime{x.Unix(), int64(x.Nanosecond()), c.Behavior == schema.BehaviorDateOnly}
		for i := range b.times {
			if b.times[i].text != nil && b.times[i].key == key {
				return b.times[i].text, nil
			}
		}
		text, err := sqlValue(c, v)
		if err != nil {
			return nil, err
		}
		b.times[b.nextTime] = memoText[memoTime]{key, text}
		b.nextTime = (b.nextTime + 1) % len(b.times)
		return text, nil
	}
	return sqlValue(c, v)
}
