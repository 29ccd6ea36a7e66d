package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/dataverse"
)

// exportOptions are the inputs of "d365 export".
type exportOptions struct {
	IO      *IOStreams
	Session func() (*session, error)
	Context context.Context
	Output  string

	entitySet    string
	selectCols   []string
	filter       string
	orderBy      []string
	top          int
	pageSize     int
	fetchXMLFile string
	format       string
	out          string
	parallel     int
	partitionKey string
	checkpoint   string
	formatted    bool
	progress     string // auto, bar, lines, off

	// now and progressEvery are the clock and the period of progress lines, for tests.
	now           func() time.Time
	progressEvery time.Duration
}

// newCmdExport returns "d365 export". runF, when not nil, replaces exportRun (tests).
func newCmdExport(f *Factory, runF func(*exportOptions) error) *cobra.Command {
	o := &exportOptions{IO: f.IOStreams, Session: f.Session, now: time.Now, progressEvery: 5 * time.Second}
	run := runOrDefault(runF, exportRun)
	cmd := &cobra.Command{
		Use:   "export <entityset>",
		Short: "Write every row of a query to a file as JSON Lines, CSV or a JSON array",
		Long: `Reads every page of a query (or a FetchXML query) and writes the rows as they arrive, with flat
memory however many rows there are: JSON Lines (one row per line, as the service sent it), CSV or
one JSON array. Data goes to stdout, or to --out FILE, which is written to a temporary file in the
same directory and renamed only when the export is complete: a failed export leaves nothing.

CSV columns are --select in order, else every column the table's metadata says a record carries
(with --fetchxml: the columns of the first page's rows, without annotations). Lookups are "_name_value" columns; --formatted adds "<column>@formatted"
after each column (choice labels, lookup names, currency). Numbers and booleans are written as
sent; null is an empty cell. After each polymorphic lookup column (_parentcustomerid_value,
_ownerid_value: ids of more than one table) comes <column>@Microsoft.Dynamics.CRM.lookuplogicalname,
the table of each id (account, contact, systemuser, team), so that "d365 import" binds each id to
its table when the file moves rows to another environment; other readers can ignore the column.

--parallel N splits the table into N ranges of its primary key and reads them at once; pages are
written whole, never mixing rows, in rounds over the ranges, so each row appears once but the
output is not in --orderby order as a whole.

--checkpoint FILE records after each page where the export stands (the next page of each range and
the length of the output so far). Run the same command again after a failure or a kill and it goes
on from there; the partial output is kept as FILE's "<out>.partial" until the export completes.

Progress goes to stderr: a bar on a terminal, else a line every few seconds; a summary line ends
the export. Exit codes: 0 done, 2 refused before anything was sent, 4 the service refused a request,
1 any other failure (network, disk), 130 interrupted.`,
		Example: `  d365 export contacts --select fullname,emailaddress1,_parentcustomerid_value --format csv --out contacts.csv
  d365 export accounts --filter "statecode eq 0" --out accounts.jsonl --parallel 4
  d365 export contacts --fetchxml active.xml --format json --out active.json
  d365 export contacts --out contacts.jsonl --checkpoint contacts.ckpt   # run again to resume`,
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
	fs.StringSliceVar(&o.selectCols, "select", nil, "columns to export, comma-separated ($select); also the CSV header")
	fs.StringVar(&o.filter, "filter", "", "OData filter expression ($filter)")
	fs.StringSliceVar(&o.orderBy, "orderby", nil, "sort keys, e.g. \"createdon desc\" ($orderby)")
	fs.IntVar(&o.top, "top", 0, "export at most N rows")
	fs.IntVar(&o.pageSize, "page-size", 0, "rows per page, 1-5000 (default 5,000)")
	fs.StringVar(&o.fetchXMLFile, "fetchxml", "", "read the query from a FetchXML file instead (- for stdin)")
	fs.StringVar(&o.format, "format", "jsonl", "output format: jsonl, csv or json")
	fs.StringVar(&o.out, "out", "", "write to FILE (atomically: a temporary file renamed when complete) instead of stdout")
	fs.IntVar(&o.parallel, "parallel", 0, "read N ranges of the primary key at once (2-256)")
	fs.StringVar(&o.partitionKey, "partition-key", "", "primary id column for --parallel (default: from the table's metadata)")
	fs.StringVar(&o.checkpoint, "checkpoint", "", "record progress in FILE and resume from it when it exists (needs --out)")
	fs.BoolVar(&o.formatted, "formatted", false, "include formatted values (CSV: a <column>@formatted column after each column)")
	fs.StringVar(&o.progress, "progress", "auto", "progress on stderr: auto (a bar on a terminal, else lines), bar, lines or off")
	return cmd
}

// validate checks the flags before anything is read or sent.
func (o *exportOptions) validate() error {
	switch o.format {
	case "jsonl", "csv", "json":
	default:
		return usageError(fmt.Errorf("--format %q is unknown: use jsonl, csv or json", o.format))
	}
	switch o.progress {
	case "auto", "bar", "lines", "off":
	default:
		return usageError(fmt.Errorf("--progress %q is unknown: use auto, bar, lines or off", o.progress))
	}
	if o.Output != outputJSON {
		return usageError(errors.New("-o does not apply to d365 export; use --format"))
	}
	if o.top < 0 {
		return usageError(fmt.Errorf("--top %d is negative", o.top))
	}
	if o.pageSize < 0 || o.pageSize > dataverse.MaxPageSizeLimit {
		return usageError(fmt.Errorf("--page-size %d is out of range: Dataverse pages hold 1 to 5,000 rows", o.pageSize))
	}
	if o.parallel < 0 || o.parallel > 256 {
		return usageError(fmt.Errorf("--parallel %d is out of range: use 2 to 256 ranges, or leave it out", o.parallel))
	}
	if o.fetchXMLFile != "" {
		if len(o.selectCols) > 0 || o.filter != "" || len(o.orderBy) > 0 || o.top != 0 {
			return usageError(errors.New("--fetchxml holds the whole query: drop --select, --filter, --orderby and --top (put them in the FetchXML)"))
		}
		if o.parallel > 1 {
			return usageError(errors.New("--parallel cannot split a FetchXML query; drop one of them"))
		}
	}
	if o.parallel > 1 && o.top > 0 {
		return usageError(errors.New("--parallel cannot split a query with --top; drop one of them"))
	}
	if o.checkpoint != "" && o.out == "" {
		return usageError(errors.New("--checkpoint needs --out FILE: output on stdout cannot be resumed"))
	}
	return nil
}

// exportGCPercent is the garbage collector's GOGC during an export, unless GOGC is set: the
// live heap is one page buffer (two per key range with --parallel) and little else, so a heap
// allowed to grow to 1.5x that, instead of Go's default 2x, keeps the peak RSS low for the cost of
// a few more collections of a heap that makes little garbage.
const exportGCPercent = 50

// exportRun runs an export as the options say.
func exportRun(o *exportOptions) error {
	ctx := o.Context
	if _, set := o.IO.lookupEnv("GOGC"); !set {
		defer debug.SetGCPercent(debug.SetGCPercent(exportGCPercent))
	}
	var fetchXML string
	if o.fetchXMLFile != "" {
		var data []byte
		var err error
		if o.fetchXMLFile == "-" {
			data, err = io.ReadAll(io.LimitReader(o.IO.In, maxDataBytes))
		} else {
			data, err = os.ReadFile(o.fetchXMLFile)
		}
		if err != nil {
			return usageError(fmt.Errorf("read --fetchxml %s: %w", o.fetchXMLFile, err))
		}
		if fetchXML = strings.TrimSpace(string(data)); fetchXML == "" {
			return usageError(fmt.Errorf("--fetchxml %s is empty", o.fetchXMLFile))
		}
	}
	eo := &dataverse.ExportOptions{
		Query: dataverse.Query{
			Select: o.selectCols, Filter: o.filter, OrderBy: o.orderBy, Top: o.top, MaxPageSize: o.pageSize,
		},
		FetchXML:        fetchXML,
		Format:          dataverse.ExportFormat(o.format),
		FormattedValues: o.formatted,
		LookupTables:    o.format == "csv" && fetchXML == "",
		Parallel:        o.parallel,
		PartitionKey:    o.partitionKey,
	}
	dest, err := openExportDestination(o, eo)
	if err != nil {
		return err
	}
	defer dest.abort() // no-op once committed
	s, err := o.Session()
	if err != nil {
		return err
	}
	prog := newExportProgress(o)
	eo.Progress = prog.update
	if dest.ckpt != nil {
		eo.Resume = dest.ckpt.resume
		eo.Checkpoint = dest.saveCheckpoint
		if eo.Resume != nil {
			fmt.Fprintf(o.IO.ErrOut, "d365: resuming %s from %s: %d rows already written\n", o.entitySet, o.checkpoint, eo.Resume.Rows)
		}
	}
	res, err := s.client.Export(ctx, dest.w, o.entitySet, eo)
	prog.finish()
	if err != nil {
		if res != nil && res.Rows > 0 {
			fmt.Fprintf(o.IO.ErrOut, "d365: export of %s stopped after %d rows: %s\n", o.entitySet, res.Rows, dest.failureNote())
		}
		return err
	}
	if err := dest.commit(); err != nil {
		return err
	}
	fmt.Fprintln(o.IO.ErrOut, exportSummary(o.entitySet, dest.name, res))
	if len(res.Dropped) > 0 {
		fmt.Fprintf(o.IO.ErrOut, "d365: warning: rows had columns the CSV header does not hold, left out: %s (name them with --select)\n", strings.Join(res.Dropped, ", "))
	}
	return nil
}

// exportSummary is the line that ends an export.
func exportSummary(entitySet, dest string, res *dataverse.ExportResult) string {
	secs := res.Elapsed.Seconds()
	rate := 0.0
	if secs > 0 {
		rate = float64(res.Rows) / secs
	}
	return fmt.Sprintf("d365: exported %d rows of %s (%d pages, %s, %d key ranges) to %s in %.2fs: %.0f rows/s",
		res.Rows, entitySet, res.Pages, formatBytes(res.Bytes), res.Partitions, dest, secs, rate)
}

// formatBytes writes n as B, KB, MB or GB (powers of 1,000).
func formatBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f KB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}
