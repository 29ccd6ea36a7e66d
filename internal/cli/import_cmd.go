package cli

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/dataverse"
)

// importOptions are the settings of "d365 import".
type importOptions struct {
	IO      *IOStreams
	Session func() (*session, error)
	Context context.Context

	entitySet, input string

	format        string
	mode          string
	keys          []string
	batchSize     int
	concurrency   string
	checkpoint    string
	errorsFile    string
	bypassPlugins bool
	dryRun        bool
	emptyAsNull   bool
	skipReadOnly  bool
	skipCols      []string

	// progressEvery is the interval between progress lines when stderr is not a terminal
	// (hidden flag --progress-interval, for tests and logs).
	progressEvery time.Duration
}

// newCmdImport returns "d365 import". runF, when not nil, replaces importRun, so tests can
// check the options a command line produces without running an import.
func newCmdImport(f *Factory, runF func(*importOptions) error) *cobra.Command {
	o := &importOptions{IO: f.IOStreams, Session: f.Session}
	run := runOrDefault(runF, importRun)
	cmd := &cobra.Command{
		Use:   "import <entityset> <file|->",
		Short: "Write the rows of a CSV or JSON Lines file into a table, at volume",
		Long: `Writes every row of a file into a table with bulk requests (CreateMultiple, UpdateMultiple,
UpsertMultiple, or $batch), many at once, within the service-protection limits.

Before anything is written the whole file is checked against the table's metadata: an unknown
column, a value of the wrong type or a malformed line refuses the import with each problem and its
line (exit status 2), and nothing is written. --dry-run stops after this check.

CSV: the first line names the columns by logical name. Cells are typed from the metadata: whole
numbers, decimals and money as digits (1234.56, no separators), yes/no as true/false (or 1/0,
yes/no), dates as YYYY-MM-DD, dates and times as RFC 3339 (2024-01-31T09:30:00Z), choices as the
option's number, GUIDs. A lookup is a column named <navigation>@odata.bind holding accounts(<id>)
or an alternate key accounts(accountnumber='A1') (or a bare id when the lookup has one target); a
_<lookup>_value column of ids, as exports write it, works for lookups with one target.

A lookup with several target tables (customer, owner, regarding: contact's parentcustomerid points
to an account or a contact) is either one <navigation>@odata.bind column per target
(parentcustomerid_account@odata.bind, parentcustomerid_contact@odata.bind; fill one per row), or
one _<lookup>_value column whose cells name their table: account:<id>, or a reference with the
target's entity set, accounts(<id>) or accounts(accountnumber='A1'). A bare id in such a column is
refused with its line and column: it does not say which table it is in, unless the row's
_<lookup>_value@Microsoft.Dynamics.CRM.lookuplogicalname cell names it (the companion column
"d365 get -o csv" and "d365 export" write after each lookup column).

Moving rows between environments: the CSV of "d365 get <set> --all -o csv" or "d365 export" holds
the columns the service computes (createdon, modifiedon, versionnumber, _createdby_value, …).
A column the table has but this mode cannot write (IsValidForCreate or IsValidForUpdate false in
its metadata) is skipped, not sent, and named with the reason on stderr (--skip-read-only, on by
default; --skip-read-only=false refuses such a file instead). A column the table does not have is
always refused with its line and column. --skip leaves out columns that are writable but whose
values mean nothing in the target: the owner (_ownerid_value) is a user or team of the source
environment, which the target usually lacks, so "--skip _ownerid_value" makes the importing
application user the owner.

An empty cell leaves the column as it is (a create leaves it unset, an update does not change it).
With --empty-as-null an empty cell clears the column instead: the row sends null (for a lookup,
the binding is removed). Cells of the primary id and --key columns are never sent as null. A flag
rather than a marker such as NULL or \N in the cell: any marker is also a valid text value, so it
would make some texts impossible to import; a file that must clear some cells and keep others
is written as JSON Lines, where null and a missing member differ.

JSON Lines: one JSON object per line, as in a Web API body; checked against the same metadata.
Read-only annotations an export writes (@odata.etag, formatted values) are left out.

Rows the service refuses go to --errors FILE (JSON Lines: position, code, message, the row) and
every other row is written; the exit status is then 4. With --checkpoint FILE an interrupted or
killed import started again with the same file and checkpoint continues where it stopped and
writes every row once.

The file is read twice (check, then write), so memory stays flat; "-" reads stdin, which is first
copied to a temporary file (removed at the end).`,
		Example: `  d365 import contacts contacts.csv --dry-run
  d365 import contacts contacts.csv --errors failed.jsonl --checkpoint contacts.ckpt
  d365 import accounts accounts.jsonl --mode upsert --key accountnumber
  d365 export accounts --format jsonl | d365 import accounts - --format jsonl --mode upsert
  d365 get contacts --all -o csv > contacts.csv   # then, in the target environment:
  d365 import contacts contacts.csv --mode upsert --skip _ownerid_value`,
		Args: exactArgs(2, "an entity set and a file (or - for stdin)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.entitySet, o.input, o.Context = args[0], args[1], cmd.Context()
			return run(o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&o.format, "format", "", "input format: csv or jsonl (default: from the file's extension)")
	fs.StringVar(&o.mode, "mode", "create", "create, update or upsert")
	fs.StringSliceVar(&o.keys, "key", nil, "alternate key column(s) that identify rows to update or upsert (default: the primary id)")
	fs.IntVar(&o.batchSize, "batch-size", 0, "rows per request to start with (default: the engine's, adapted as it runs)")
	fs.StringVar(&o.concurrency, "concurrency", "auto", "requests in flight: auto (what the service recommends) or a number")
	fs.StringVar(&o.checkpoint, "checkpoint", "", "checkpoint file: resume an interrupted import of the same file")
	fs.StringVar(&o.errorsFile, "errors", "", "JSON Lines file that receives the rows the service refuses")
	fs.BoolVar(&o.bypassPlugins, "bypass-plugins", false, "skip custom synchronous plug-ins (needs the prvBypassCustomPlugins privilege)")
	fs.BoolVar(&o.emptyAsNull, "empty-as-null", false, "CSV: an empty cell clears the column (sends null) instead of leaving it as it is")
	fs.BoolVar(&o.skipReadOnly, "skip-read-only", true, "leave out, and report, columns the table has but this mode cannot write (createdon, …); false refuses them")
	fs.StringSliceVar(&o.skipCols, "skip", nil, "input columns to leave out, comma-separated, e.g. _ownerid_value when the source's users are not in the target")
	fs.BoolVar(&o.dryRun, "dry-run", false, "check the file against the table's metadata and stop; nothing is written")
	fs.DurationVar(&o.progressEvery, "progress-interval", defaultProgressLineInterval, "interval between progress lines when stderr is not a terminal")
	_ = fs.MarkHidden("progress-interval")
	return cmd
}

// validate checks the flags before anything is read or sent.
func (o *importOptions) validate() (concurrency int, err error) {
	switch o.mode {
	case "create", "update", "upsert":
	default:
		return 0, usageError(fmt.Errorf("--mode %q: use create, update or upsert", o.mode))
	}
	for i, k := range o.keys {
		o.keys[i] = strings.ToLower(strings.TrimSpace(k))
		if o.keys[i] == "" {
			return 0, usageError(errors.New("--key has an empty column name"))
		}
	}
	if len(o.keys) > 0 && o.mode == "create" {
		return 0, usageError(fmt.Errorf("--key %s names an alternate key, which only --mode update or upsert uses", strings.Join(o.keys, ",")))
	}
	if o.batchSize < 0 {
		return 0, usageError(fmt.Errorf("--batch-size %d: give a positive number, or leave it out", o.batchSize))
	}
	if o.batchSize > dataverse.MaxBatchOperations {
		return 0, usageError(fmt.Errorf("--batch-size %d: at most %d rows go in one request", o.batchSize, dataverse.MaxBatchOperations))
	}
	switch o.concurrency {
	case "auto", "":
		concurrency = 0
	default:
		n, err := strconv.Atoi(o.concurrency)
		if err != nil || n < 1 {
			return 0, usageError(fmt.Errorf("--concurrency %q: use auto or a positive number", o.concurrency))
		}
		concurrency = n
	}
	if _, err := importFormat(o.format, o.input); err != nil {
		return 0, err
	}
	return concurrency, nil
}

// importRun checks the input against the table's metadata and, unless --dry-run, writes it.
func importRun(o *importOptions) error {
	ctx := o.Context
	concurrency, err := o.validate()
	if err != nil {
		return err
	}
	format, _ := importFormat(o.format, o.input)
	in, err := openImportInput(o.input, o.IO.In)
	if err != nil {
		return err
	}
	defer in.close()

	s, err := o.Session()
	if err != nil {
		return err
	}
	md, err := s.client.TableMetadata(ctx, o.entitySet)
	if dataverse.IsNotFound(err) {
		return usageError(fmt.Errorf("no table has the entity set name %q (names are case-sensitive, such as contacts or accounts): %w", o.entitySet, err))
	}
	if err != nil {
		return err
	}
	table := newImportTable(md, o.mode, o.keys, func(logical string) (string, error) {
		t, err := s.client.TableMetadata(ctx, logical)
		if err != nil {
			return "", err
		}
		return t.EntitySetName, nil
	})
	table.emptyAsNull = o.emptyAsNull
	table.skipReadOnly = o.skipReadOnly
	table.skipNames = o.skipCols
	if err := table.checkKeys(); err != nil {
		return usageError(err)
	}

	start := time.Now()
	check, err := o.check(ctx, in, format, table)
	if err != nil {
		return err
	}
	o.printSkipped(table)
	if missing := table.unmatchedSkips(); len(missing) > 0 {
		return usageError(fmt.Errorf("--skip %s: %s has no such column; nothing was written (the file's columns are named in its header, or its JSON members)", strings.Join(missing, ","), o.input))
	}
	if check.problemCount > 0 {
		o.printProblems(check)
		return &exitError{code: ExitUsage, err: &refusal{check}}
	}
	if len(o.keys) > 0 && !md.KeysKnown && check.rows > 0 {
		first, err := firstRow(in, format, table)
		if err != nil {
			return err
		}
		if err := probeKey(ctx, s.client, md, o.keys, first); err != nil {
			return err
		}
	}
	if o.dryRun {
		fmt.Fprintf(o.IO.ErrOut, "import: %d rows checked against %s in %s: no problems; nothing was written (--dry-run)\n", check.rows, md.EntitySetName, time.Since(start).Round(time.Millisecond))
		return nil
	}
	return o.write(ctx, s.client, md, in, format, table, check, concurrency)
}

// check runs the check pass over the input.
func (o *importOptions) check(ctx context.Context, in *importInput, format string, table *importTable) (*checkResult, error) {
	f, err := in.open()
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return checkRows(ctx, f, format, table)
}

// printSkipped names the columns left out (this mode cannot write them, or --skip names them)
// and why.
func (o *importOptions) printSkipped(t *importTable) {
	if len(t.skipped) == 0 {
		return
	}
	fmt.Fprintf(o.IO.ErrOut, "import: skipped %d column(s), not sent (--skip-read-only, --skip):\n", len(t.skipped))
	for _, c := range t.skipped {
		fmt.Fprintf(o.IO.ErrOut, "  %s: %s\n", c.name, c.reason)
	}
}

// printProblems lists the problems of a refused file on stderr.
func (o *importOptions) printProblems(c *checkResult) {
	w := o.IO.ErrOut
	fmt.Fprintf(w, "import: refused: %d problem(s) in %s; nothing was written\n", c.problemCount, o.input)
	for _, p := range c.problems {
		fmt.Fprintln(w, "  "+p)
	}
	if more := c.problemCount - len(c.problems); more > 0 {
		fmt.Fprintf(w, "  … and %d more (fix these and run --dry-run again)\n", more)
	}
}

// write runs the bulk job over the checked input.
func (o *importOptions) write(ctx context.Context, client *dataverse.Client, md *dataverse.TableMetadata, in *importInput, format string, table *importTable, check *checkResult, concurrency int) error {
	opts := &dataverse.BulkJobOptions{
		Mode:               dataverse.BulkMode(o.mode),
		KeyColumns:         o.keys,
		LogicalName:        md.LogicalName,
		PrimaryIDAttribute: md.PrimaryIDAttribute,
		BatchSize:          o.batchSize,
		Concurrency:        concurrency,
		Checkpoint:         o.checkpoint,
	}
	opts.RequestOptions.BypassCustomPluginExecution = o.bypassPlugins
	var sink *dataverse.JSONLinesErrorSink
	if o.errorsFile != "" {
		var err error
		if sink, err = dataverse.OpenJSONLinesErrorFile(o.errorsFile); err != nil {
			return err
		}
		defer func() {
			if sink != nil {
				sink.Close()
			}
		}()
		opts.Errors = &lineSink{next: sink, lines: &check.lines}
	}
	progress := newJobProgress(o.IO.ErrOut, check.rows, o.progressEvery)
	opts.OnProgress = progress.update

	job, err := dataverse.NewBulkJob([]*dataverse.Client{client}, md.EntitySetName, opts)
	if err != nil {
		return usageError(err)
	}
	f, err := in.open()
	if err != nil {
		return err
	}
	defer f.Close()
	res, runErr := job.Run(ctx, rowsOf(f, format, table))
	if sink != nil {
		err := sink.Close()
		sink = nil
		if err != nil && runErr == nil {
			runErr = fmt.Errorf("writing %s: %w", o.errorsFile, err)
		}
	}
	o.printSummary(res)
	if runErr != nil {
		if o.checkpoint != "" {
			fmt.Fprintf(o.IO.ErrOut, "import: stopped; run the same command again to continue from %s\n", o.checkpoint)
		}
		return runErr
	}
	if res.Failed > 0 {
		if o.errorsFile == "" {
			for _, f := range res.Failures {
				fmt.Fprintf(o.IO.ErrOut, "  line %d: %s %s\n", check.lines.line(f.Position), f.Code, f.Message)
			}
			return &exitError{code: ExitService, err: fmt.Errorf("%d row(s) refused by the service (pass --errors FILE to keep them all)", res.Failed)}
		}
		return &exitError{code: ExitService, err: fmt.Errorf("%d row(s) refused by the service are in %s", res.Failed, o.errorsFile)}
	}
	return nil
}

// printSummary writes the summary line: written, failed, skipped, time.
func (o *importOptions) printSummary(res *dataverse.BulkResult) {
	line := fmt.Sprintf("import: %d written, %d failed, %d skipped in %s (%.0f rows/s, %d requests",
		res.Written, res.Failed, res.Skipped, res.Elapsed.Round(time.Millisecond), res.RowsPerSecond(), res.Requests)
	if res.Retries > 0 {
		line += fmt.Sprintf(", %d retried", res.Retries)
	}
	if res.ThrottleWait > 0 {
		line += ", throttled " + res.ThrottleWait.Round(time.Millisecond).String()
	}
	fmt.Fprintln(o.IO.ErrOut, line+")")
}

// lineSink adds the input line to each failure's message before passing it on, so the error
// file says where the row is: "line 12: <the service's message>".
type lineSink struct {
	next  *dataverse.JSONLinesErrorSink
	lines *lineMap
}

// WriteFailure implements dataverse.BulkErrorSink.
func (s *lineSink) WriteFailure(f dataverse.BulkFailure) error {
	if l := s.lines.line(f.Position); l > 0 {
		f.Message = fmt.Sprintf("line %d: %s", l, f.Message)
	}
	return s.next.WriteFailure(f)
}

// Sync passes the job's flush before each checkpoint on to the file.
func (s *lineSink) Sync() error { return s.next.Sync() }
