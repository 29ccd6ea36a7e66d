package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/dataverse"
)

// syncOptions are the inputs of "d365 sync".
type syncOptions struct {
	IO      *IOStreams
	Session func() (*session, error)
	Context context.Context
	Output  string

	entitySet  string
	state      string
	selectCols []string
	format     string
	pageSize   int
	primaryKey string

	// now and progressEvery are the clock and the period of progress lines, for tests.
	now           func() time.Time
	progressEvery time.Duration
}

// newCmdSync returns "d365 sync". runF, when not nil, replaces syncRun (tests).
func newCmdSync(f *Factory, runF func(*syncOptions) error) *cobra.Command {
	o := &syncOptions{IO: f.IOStreams, Session: f.Session, now: time.Now, progressEvery: 5 * time.Second}
	run := runOrDefault(runF, syncRun)
	cmd := &cobra.Command{
		Use:   "sync <entityset>",
		Short: "Print what changed in a table since the last run (Dataverse change tracking)",
		Long: `Reads a table through Dataverse change tracking and prints one JSON line per change on stdout:
  {"op":"upsert","id":"…","record":{…}}   a row created or updated (the row as the service sent it)
  {"op":"delete","id":"…"}                a row deleted, directly or by a cascade
  {"op":"reset","reason":"…"}             a full load starts: drop your copy, every row follows
The first run (no --state file yet) is a full load; each later run prints only the changes since
the run before. --state FILE keeps the position (the delta link, the table and the select); it is
replaced atomically after each page, once that page's lines are written out.

A full load starts again, after a reset line, when the saved position cannot be used: --select
differs from the state's ("select-changed"), the service says the position expired ("expired",
after the environment's change-tracking retention, 7 days by default), or it refuses the saved
link as not tracked ("tracking-refused"). When change tracking was switched off for the table
since the last run, the new full load is read without it: a "tracking-refused" reset, every row,
and no delta link saved, so each later run loads the whole table again (the summary says so)
until "Track changes" is on again. The reset line comes only once the new load's first page has
arrived: a refused request leaves your copy as it was. A first run on a table without change
tracking is refused (exit 4, code 0x80072491): turn on "Track changes" in the table's properties.

Delivery is at least once: a run killed after printing a page but before saving the position
prints that page again next time. Apply upserts by id and ignore deletes of unknown ids.

A long run writes a progress line to stderr every few seconds, and a summary ends it. Exit codes: 0 done, 2 refused before anything was sent (flags, an
unusable state file), 4 the service refused a request, 1 any other failure, 130 interrupted.`,
		Example: `  d365 sync contacts --state contacts.sync --select fullname,emailaddress1 > changes.jsonl
  d365 sync accounts --state accounts.sync | jq -c 'select(.op=="delete")'`,
		Args: exactArgs(1, "an entity set"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.entitySet, o.Context, o.Output = args[0], cmd.Context(), f.OutputFormat()
			if err := o.validate(); err != nil {
				return err
			}
			return run(o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.state, "state", "", "file that keeps the sync's position between runs (required)")
	fs.StringSliceVar(&o.selectCols, "select", nil, "columns to read, comma-separated ($select); a change starts a full load")
	fs.StringVar(&o.format, "format", "jsonl", "output format: jsonl (one JSON object per change)")
	fs.IntVar(&o.pageSize, "page-size", 0, "rows per page, 1-5000 (default 5,000); the position is saved after each page")
	fs.StringVar(&o.primaryKey, "primary-key", "", "primary id column of the table (default: from the table's metadata)")
	return cmd
}

// validate checks the flags before anything is read or sent.
func (o *syncOptions) validate() error {
	if o.state == "" {
		return usageError(errors.New("--state FILE is required: it keeps the position between runs (a missing file means a first, full load)"))
	}
	if o.format != "jsonl" {
		return usageError(fmt.Errorf("--format %q is unknown: use jsonl", o.format))
	}
	if o.Output != outputJSON {
		return usageError(errors.New("-o does not apply to d365 sync; it writes JSON Lines (--format jsonl)"))
	}
	if o.pageSize < 0 || o.pageSize > dataverse.MaxPageSizeLimit {
		return usageError(fmt.Errorf("--page-size %d is out of range: Dataverse pages hold 1 to 5,000 rows", o.pageSize))
	}
	return nil
}

// syncOutputBuffer is the size of the buffer in front of stdout: lines are written in blocks,
// and the buffer is flushed before each save of the position.
const syncOutputBuffer = 64 << 10

// syncRun runs one sync as the options say.
func syncRun(o *syncOptions) error {
	cp, err := dataverse.OpenFileSyncCheckpoint(o.state)
	if err != nil {
		// Locked, unreadable or in a missing directory: nothing was sent, fix --state.
		return usageError(err)
	}
	defer cp.Close()
	s, err := o.Session()
	if err != nil {
		return err
	}
	out := bufio.NewWriterSize(o.IO.Out, syncOutputBuffer)
	sy := s.client.NewSync(o.entitySet, &flushingCheckpoint{FileSyncCheckpoint: cp, out: out}, &dataverse.SyncOptions{
		Select: o.selectCols, MaxPageSize: o.pageSize, PrimaryKey: o.primaryKey,
		Progress: syncProgress(o),
	})
	var line []byte
	for ch, err := range sy.Changes(o.Context) {
		if err != nil {
			// Lines of a page whose position was not saved are printed again next run; flush
			// them anyway, so that what was printed is whole lines.
			_ = out.Flush()
			st := sy.Stats()
			if st.Upserts+st.Deletes+st.Resets > 0 {
				fmt.Fprintf(o.IO.ErrOut, "d365: sync of %s stopped after %d changes (%d pages saved); %s keeps the last saved position: run the same command again to continue\n",
					o.entitySet, st.Upserts+st.Deletes+st.Resets, st.Pages, o.state)
			}
			return syncStateError(err)
		}
		line = append(ch.AppendJSON(line[:0]), '\n')
		if _, err := out.Write(line); err != nil {
			return fmt.Errorf("writing the changes: %w", err)
		}
	}
	if err := out.Flush(); err != nil {
		return fmt.Errorf("writing the changes: %w", err)
	}
	st := sy.Stats()
	fmt.Fprintln(o.IO.ErrOut, syncSummary(o.entitySet, o.state, st))
	if st.Untracked {
		fmt.Fprintf(o.IO.ErrOut, "d365: change tracking is off for %s, so no delta link was saved: the next run loads the whole table again; turn on \"Track changes\" in the table's properties\n", o.entitySet)
	}
	return nil
}

// syncSummary is the line that ends a sync.
func syncSummary(entitySet, state string, st dataverse.SyncStats) string {
	kind := "changes"
	if st.FullLoad {
		kind = "full load"
		if st.Reason != "" {
			kind += " (reset: " + string(st.Reason) + ")"
		}
		if st.Untracked {
			kind += " without change tracking"
		}
	}
	pages := "pages"
	if st.Pages == 1 {
		pages = "page"
	}
	return fmt.Sprintf("d365: synced %s, %s: %d upserts, %d deletes in %d %s; position saved in %s (%.2fs)",
		entitySet, kind, st.Upserts, st.Deletes, st.Pages, pages, state, st.Elapsed.Seconds())
}

// syncProgress returns the SyncOptions.Progress of a run: a line on stderr at most every
// progressEvery, after a page was saved, so that a long full load shows it is moving.
func syncProgress(o *syncOptions) func(dataverse.SyncStats) {
	last := o.now()
	return func(st dataverse.SyncStats) {
		if now := o.now(); now.Sub(last) >= o.progressEvery {
			last = now
			fmt.Fprintf(o.IO.ErrOut, "d365: syncing %s: %d upserts, %d deletes, %d pages saved (%.0fs)\n",
				o.entitySet, st.Upserts, st.Deletes, st.Pages, st.Elapsed.Seconds())
		}
	}
}

// syncStateError makes an unusable state file a usage error (nothing was sent; the file must be
// fixed or removed).
func syncStateError(err error) error {
	var ce *dataverse.CheckpointError
	if errors.As(err, &ce) {
		return usageError(err)
	}
	return err
}

// flushingCheckpoint flushes the output before the position is saved: a line still in the buffer
// when the position moves past it would be lost to a kill.
// It keeps the file checkpoint's Path, by which refusals of the state file name it.
type flushingCheckpoint struct {
	*dataverse.FileSyncCheckpoint
	out interface{ Flush() error }
}

// Save implements dataverse.SyncCheckpoint.
func (c *flushingCheckpoint) Save(ctx context.Context, st *dataverse.SyncState) error {
	if err := c.out.Flush(); err != nil {
		return fmt.Errorf("writing the changes: %w", err)
	}
	return c.FileSyncCheckpoint.Save(ctx, st)
}
