package dataverse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/google/uuid"
)

// Change-tracking error codes (the "code" of the error envelope) that a
// Sync handles by starting over with a full load.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/reference/web-service-error-codes
const (
	// CodeExpiredVersionStamp: "Version stamp associated with the client
	// has expired. Please perform a full sync." The delta token is older
	// than the environment keeps deleted-row records
	// (organization.expirechangetrackingindays, 7 days by default).
	CodeExpiredVersionStamp = "0x80044352"
	// CodeChangeTrackingNotEnabled: "Entity {0} isn't enabled for change
	// tracking." Turn on "Track changes" in the table's advanced options.
	CodeChangeTrackingNotEnabled = "0x80072491"
)

// ChangeOp is what a Change asks the consumer to do.
type ChangeOp string

// The kinds of Change.
const (
	// ChangeUpsert: the row was created or updated since the last sync
	// (the service does not say which); store Record under ID.
	ChangeUpsert ChangeOp = "upsert"
	// ChangeDelete: the row with ID was deleted, directly or by a cascade.
	// It may be a row the consumer never saw (created and deleted between
	// two syncs); ignore those.
	ChangeDelete ChangeOp = "delete"
	// ChangeReset: a full load starts; drop every row of the consumer's
	// copy. The upserts that follow are the whole table.
	ChangeReset ChangeOp = "reset"
)

// ResetReason says why a full load started.
type ResetReason string

// The reasons for a ChangeReset.
const (
	// ResetInitial: there was no saved position (the first sync).
	ResetInitial ResetReason = "initial"
	// ResetExpired: the service refused the saved delta link with
	// CodeExpiredVersionStamp.
	ResetExpired ResetReason = "expired"
	// ResetSelectChanged: SyncOptions.Select differs from the select of
	// the saved position, whose delta link would return the old columns.
	ResetSelectChanged ResetReason = "select-changed"
	// ResetTrackingRefused: the service refused change tracking for the
	// table (CodeChangeTrackingNotEnabled): on the saved delta link
	// (tracking was switched off, and maybe on again), or on the last
	// run's full load. The full load that follows asks for tracking; when
	// the service refuses that too, the table is read without it
	// (SyncStats.Untracked) and no delta link is saved, so every later
	// run starts over the same way until tracking is on again.
	ResetTrackingRefused ResetReason = "tracking-refused"
)

// Change is one entry of a Sync's stream: an upsert, a delete, or a reset
// that begins a full load.
type Change struct {
	// Op is the kind of change.
	Op ChangeOp
	// ID is the row's primary key (uuid.Nil for a reset).
	ID uuid.UUID
	// Record is the row as the service sent it (its @odata.etag, the
	// selected columns and the primary key), for an upsert only. It is the
	// consumer's to keep.
	Record json.RawMessage
	// Reason says why a reset happened, for a reset only.
	Reason ResetReason
}

// AppendJSON appends the change as one JSON object:
// {"op":"upsert","id":"…","record":{…}}, {"op":"delete","id":"…"} or
// {"op":"reset","reason":"…"}.
func (ch Change) AppendJSON(b []byte) []byte {
	b = append(b, `{"op":`...)
	b = appendMarshalString(b, string(ch.Op))
	if ch.Op == ChangeReset {
		if ch.Reason != "" {
			b = append(b, `,"reason":`...)
			b = appendMarshalString(b, string(ch.Reason))
		}
		return append(b, '}')
	}
	b = append(b, `,"id":"`...)
	b = appendUUID(b, ch.ID)
	b = append(b, '"')
	if ch.Op == ChangeUpsert && len(ch.Record) > 0 {
		b = append(b, `,"record":`...)
		b = append(b, ch.Record...)
	}
	return append(b, '}')
}

// MarshalJSON encodes the change as AppendJSON does.
func (ch Change) MarshalJSON() ([]byte, error) { return ch.AppendJSON(nil), nil }

// SyncOptions are the options of Client.NewSync.
type SyncOptions struct {
	RequestOptions
	// Select lists the columns to read ($select); empty reads every
	// column. A select that differs from the saved position's (as a set
	// of names) starts a full load with ResetSelectChanged.
	Select []string
	// MaxPageSize is the page size (Prefer: odata.maxpagesize), 1 to
	// 5,000; 0 leaves the service default (5,000). The position is saved
	// after each page.
	MaxPageSize int
	// PrimaryKey is the table's primary id column, e.g. "contactid", that
	// gives each upsert its ID; empty means the PrimaryIdAttribute read
	// from the table's metadata (once per client, on the first upsert).
	PrimaryKey string
	// Progress, when set, is called after each page's position is saved.
	Progress func(SyncStats)
}

// SyncStats is what a sync has done so far.
type SyncStats struct {
	// Upserts and Deletes count the changes yielded; Resets the resets.
	Upserts, Deletes, Resets int64
	// Pages counts the pages read and saved.
	Pages int64
	// FullLoad reports that this sync read (part of) a full load rather
	// than only changes; Reason is the last reset's reason.
	FullLoad bool
	Reason   ResetReason
	// Untracked reports that the full load was read without change
	// tracking, which the service refused for the table: it saved no
	// delta link, so the next run loads the whole table again (see
	// ResetTrackingRefused).
	Untracked bool
	// Elapsed is the time since Changes started.
	Elapsed time.Duration
}

// Sync keeps a copy of one table in step with Dataverse through change
// tracking: each run of Changes yields what changed since the position
// saved by the run before, and saves the new position. Make one with
// Client.NewSync. A Sync is not safe for concurrent use; run one Changes
// at a time per checkpoint.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems
type Sync struct {
	c         *Client
	entitySet string
	cp        SyncCheckpoint
	opts      SyncOptions
	sel       []string // opts.Select, sorted, without duplicates
	pk        string
	stats     SyncStats
	start     time.Time
	err       error // found by NewSync
}

// NewSync returns a Sync of entitySet whose position is kept by cp (a
// FileSyncCheckpoint, say). Nothing is read or sent until Changes.
func (c *Client) NewSync(entitySet string, cp SyncCheckpoint, opts *SyncOptions) *Sync {
	s := &Sync{c: c, entitySet: entitySet, cp: cp}
	if opts != nil {
		s.opts = *opts
	}
	s.opts.Select = slices.Clone(s.opts.Select)
	s.sel = normalizeSelect(s.opts.Select)
	s.pk = s.opts.PrimaryKey
	switch {
	case cp == nil:
		s.err = invalidf("dataverse: NewSync: the checkpoint is nil; pass a SyncCheckpoint such as OpenFileSyncCheckpoint's")
	default:
		if _, err := entitySetPath(entitySet); err != nil {
			s.err = err
		} else if err := checkNames("$select", s.opts.Select); err != nil {
			s.err = err
		} else if _, err := (&Query{MaxPageSize: s.opts.MaxPageSize}).preferences(); err != nil {
			s.err = err
		}
	}
	return s
}

// Stats returns what the last (or the running) Changes has done.
func (s *Sync) Stats() SyncStats {
	st := s.stats
	if !s.start.IsZero() {
		st.Elapsed = time.Since(s.start)
	}
	return st
}

// maxSyncRestarts bounds the full loads one Changes starts after a
// refusal (an expired token, tracking refused): a service that refuses
// every fresh load too must not keep a sync looping.
const maxSyncRestarts = 2

// Changes reads what changed in the table since the saved position and
// yields it in order, then returns; run it again (every few minutes, say)
// for the next changes. Without a saved position, with a changed Select,
// or when the service refuses the saved delta link as expired
// (CodeExpiredVersionStamp) or not tracked (CodeChangeTrackingNotEnabled),
// it yields a ChangeReset first and then every row of the table as an
// upsert (a full load), then saves the delta link that later runs read.
// Within one delta, upserts come first in the order the rows changed,
// then deletes.
//
// # Change tracking switched off
//
// When the saved delta link is refused as not tracked
// (CodeChangeTrackingNotEnabled) and the new full load that asks for
// change tracking is refused the same way, change tracking is off for the
// table: the run reads the whole table without it (a plain paged read),
// yields a ChangeReset with ResetTrackingRefused and every row, and saves
// a position without a delta link (SyncState.Untracked,
// SyncStats.Untracked). Every later run starts over the same way, asking
// for change tracking first, until it is switched on again; then the full
// load saves a delta link and later runs read only changes. A first sync
// (no saved position) of an untracked table returns the refusal instead.
// In every case the reset is yielded only once the first page of the
// replacement load has arrived, so a refused request never leaves the
// consumer's copy reset with nothing to replace it.
//
// # At least once
//
// The position is saved (SyncCheckpoint.Save) after the last change of
// each page was yielded and the loop body returned for it: a consumer
// that applied every change it was given before asking for the next one
// never misses a change. A process killed between receiving changes and
// that save sees those changes again on the next run (from the start of
// their page), never skips them, so apply changes idempotently (an upsert
// by ID; a delete of a missing row is a no-op). A consumer that buffers
// its output must flush it in Save, before the position moves: wrap the
// checkpoint. Breaking out of the loop stops reading without saving the
// page being read.
//
// A full load that was interrupted continues at its next page without a
// new reset. Errors (after the client's retries of throttling and
// transient failures) are yielded once, with a zero Change, and end the
// run with the saved position where it was; an error yielded before the
// first reset of a full load means the consumer's copy is untouched.
func (s *Sync) Changes(ctx context.Context) iter.Seq2[Change, error] {
	return func(yield func(Change, error) bool) {
		if s.err != nil {
			yield(Change{}, s.err)
			return
		}
		s.start = time.Now()
		s.stats = SyncStats{}
		ctx, end := s.c.startSpan(ctx, "Sync")
		err := s.run(ctx, yield)
		end(err)
		if err != nil && !errors.Is(err, errStopped) {
			yield(Change{}, err)
		}
	}
}

// errStopped ends a run whose consumer broke out of the loop.
var errStopped = errors.New("dataverse: the sync's consumer stopped")

// run is one Changes: read pages from the saved position on, yield their
// changes and save the position after each.
func (s *Sync) run(ctx context.Context, yield func(Change, error) bool) error {
	st, err := s.cp.Load(ctx)
	if err != nil {
		return err
	}
	if st != nil {
		if err := st.validate(); err != nil {
			return &CheckpointError{Path: checkpointName(s.cp), Problem: err.Error()}
		}
		if st.EntitySet != s.entitySet {
			return &CheckpointError{Path: checkpointName(s.cp), Problem: fmt.Sprintf("it holds the position of a sync of %s, not %s; give this sync another state file", st.EntitySet, s.entitySet)}
		}
	}
	var reset ResetReason
	switch {
	case st == nil:
		reset = ResetInitial
	case !slices.Equal(normalizeSelect(st.Select), s.sel):
		reset = ResetSelectChanged
	case st.Untracked && st.NextLink == "":
		// The last full load was read without change tracking, which the
		// service refused: start over, asking for it again.
		reset = ResetTrackingRefused
	}
	untracked := false
	for restarts := 0; ; restarts++ {
		var link string
		full := reset != ""
		if !full {
			if link = st.NextLink; link != "" {
				full, untracked = st.FullLoad, st.Untracked
			} else {
				link = st.DeltaLink
			}
			if _, err := s.c.resolveLink(link); err != nil {
				return &CheckpointError{Path: checkpointName(s.cp), Problem: fmt.Sprintf("its link is not one of this client's environment (%v); it was written for another environment: give this sync another state file", err)}
			}
		}
		err := s.readChain(ctx, link, full, untracked, reset, yield)
		if err == nil || errors.Is(err, errStopped) || restarts >= maxSyncRestarts {
			return err
		}
		switch {
		case HasCode(err, CodeExpiredVersionStamp):
			reset = ResetExpired
		case HasCode(err, CodeChangeTrackingNotEnabled) && reset == "":
			// A refused saved link: try a full load, which the service
			// refuses as well unless tracking is on again.
			reset = ResetTrackingRefused
		case HasCode(err, CodeChangeTrackingNotEnabled) && st != nil && !untracked:
			// The fresh full load was refused too: change tracking is off
			// for a table the consumer keeps a copy of. Replace the copy
			// with a plain read and save no delta link, so that the next
			// run starts over (asking for tracking first). A first sync
			// (st == nil) returns the refusal instead: there is no copy
			// to keep, and the table needs tracking switched on.
			reset, untracked = ResetTrackingRefused, true
		default:
			return err
		}
	}
}

// readChain reads pages from link (a full load's first request when link
// is "") until a page carries a delta link (or, for an untracked full
// load, has no next link), yielding and saving each. reset, when not "",
// is yielded before the first page's changes, once that page has arrived:
// a refusal of the first request leaves the consumer's copy as it was.
func (s *Sync) readChain(ctx context.Context, link string, full, untracked bool, reset ResetReason, yield func(Change, error) bool) error {
	for {
		page, err := s.readPage(ctx, link, full && !untracked)
		if err != nil {
			return err
		}
		changes, err := s.pageChanges(ctx, page)
		if err != nil {
			return err
		}
		if reset != "" {
			s.stats.Resets++
			s.stats.FullLoad, s.stats.Reason = true, reset
			if !yield(Change{Op: ChangeReset, Reason: reset}, nil) {
				return errStopped
			}
			reset = ""
		} else if full {
			s.stats.FullLoad = true
		}
		s.stats.Untracked = untracked
		for _, ch := range changes {
			if ch.Op == ChangeUpsert {
				s.stats.Upserts++
			} else {
				s.stats.Deletes++
			}
			if !yield(ch, nil) {
				return errStopped
			}
		}
		next := &SyncState{EntitySet: s.entitySet, Select: slices.Clone(s.opts.Select), Updated: time.Now().UTC()}
		switch {
		case page.NextLink != "":
			next.NextLink, next.FullLoad, next.Untracked = page.NextLink, full, untracked
		case untracked:
			next.Untracked = true
		case page.DeltaLink != "":
			next.DeltaLink = page.DeltaLink
		default:
			return fmt.Errorf("dataverse: Sync %s: the last page carries neither @odata.nextLink nor @odata.deltaLink, so the position cannot be kept; the changes of this page will be read again", s.entitySet)
		}
		if err := s.cp.Save(ctx, next); err != nil {
			return fmt.Errorf("dataverse: Sync %s: saving the position: %w", s.entitySet, err)
		}
		s.stats.Pages++
		if s.opts.Progress != nil {
			s.opts.Progress(s.Stats())
		}
		if page.NextLink == "" {
			return nil
		}
		link = page.NextLink
	}
}

// normalizeSelect returns the names of sel sorted and without duplicates:
// the columns a select reads, whatever their order.
func normalizeSelect(sel []string) []string {
	out := slices.Clone(sel)
	slices.Sort(out)
	return slices.Compact(out)
}
