package dataverse

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"
)

// ExportOptions are the options of Client.Export.
type ExportOptions struct {
	RequestOptions
	// Query selects the rows: Select, Filter, OrderBy, Top, MaxPageSize,
	// Expand and Annotations as for a Pager. Ignored when FetchXML is set.
	Query Query
	// FetchXML, when set, is the query instead (its <entity> must be the
	// entity set's table); PageSize is then FetchOptions.PageSize.
	FetchXML string
	// Format is the output format; "" means FormatJSONLines.
	Format ExportFormat
	// Columns are the CSV columns; empty means Query.Select, else the
	// table's columns (see ExportOptions.Format and RowWriterOptions).
	Columns []string
	// FormattedValues asks the service for formatted values (choice
	// labels, lookup names, currency) and, in CSV, adds a column
	// "<column>@formatted" after each column.
	FormattedValues bool
	// LookupTables, for CSV, asks the service for the table of each
	// lookup's id (AnnotationLookupLogicalName) and adds after each
	// polymorphic lookup column (TableMetadata.PolymorphicLookups:
	// parentcustomerid, ownerid, …) the column "<column>"+LookupTableSuffix
	// holding it, so that an import can tell account ids from contact ids.
	// It reads the table's metadata. Ignored with FetchXML and by the JSON
	// formats.
	LookupTables bool
	// Indent indents the rows of a FormatJSON array (see RowWriterOptions).
	Indent string
	// Parallel, above 1, splits the table into that many ranges of its
	// primary key and reads them concurrently (see "Partitioned export" on
	// Client.Export). 0 or 1 reads one pager.
	Parallel int
	// PartitionKey is the primary id column the ranges split, e.g.
	// "contactid"; empty means the table's PrimaryIdAttribute, read from
	// its metadata.
	PartitionKey string
	// Progress, when set, is called after each page is written.
	Progress func(ExportProgress)
	// Checkpoint, when set, is called after each page is written and the
	// output flushed, with the state to resume from (Resume).
	Checkpoint func(ExportState) error
	// Resume continues an export from a state Checkpoint reported. The
	// caller must give a writer positioned after ExportState.Bytes bytes
	// of the earlier output (truncate the file to that size and append).
	Resume *ExportState
}

// ExportProgress is what an export has written so far.
type ExportProgress struct {
	Rows, Pages, Bytes int64
	Elapsed            time.Duration
}

// ExportResult reports what an export wrote.
type ExportResult struct {
	// Rows, Pages and Bytes are the totals written, resumed work included.
	Rows, Pages, Bytes int64
	// Columns is the CSV header; nil for the JSON formats.
	Columns []string
	// Dropped lists members that rows carried and no CSV column holds.
	Dropped []string
	// Partitions is the number of key ranges read (1 without Parallel).
	Partitions int
	// Elapsed is the time Export took.
	Elapsed time.Duration
}

// ExportState is an export's position after a page: enough to resume it
// in another process. Save it as JSON.
type ExportState struct {
	// Format and Columns are those of the output being written.
	Format  ExportFormat `json:"format"`
	Columns []string     `json:"columns,omitempty"`
	// Rows, Pages and Bytes are written so far; Bytes is the output's
	// length at this state.
	Rows  int64 `json:"rows"`
	Pages int64 `json:"pages"`
	Bytes int64 `json:"bytes"`
	// Partitions are the positions of the key ranges (one without
	// Parallel), in range order.
	Partitions []PartitionState `json:"partitions"`
	// Turn is the partition whose page is written next.
	Turn int `json:"turn"`
}

// PartitionState is one key range's position.
type PartitionState struct {
	// Filter is the range's $filter (the query's own filter included).
	Filter string `json:"filter,omitempty"`
	// Next is the link of the range's next page; "" with Done false means
	// the range has not started.
	Next string `json:"next,omitempty"`
	// Done reports that the range was read to its end.
	Done bool `json:"done,omitempty"`
}

// Export streams the rows of a query on entitySet to w as JSON Lines,
// CSV or a JSON array (ExportOptions.Format), and returns the totals.
// Memory stays flat whatever the row count: one page is held at a time
// (one per partition with Parallel), rows pass through as the raw JSON
// the service sent (no decoding into maps and re-encoding) and output is
// buffered. w is not closed.
//
// # CSV columns
//
// The header is ExportOptions.Columns, else Query.Select, else the
// table's columns from its metadata (every column a record carries, see
// ColumnMetadata.Property), or for FetchXML the columns of the first page
// (InferColumns: the members of its rows that are not annotations, in the
// service's order). Lookups are their
// "_name_value" columns. Numbers and booleans are written as the service
// sent them, strings as their text, null as an empty cell, objects and
// arrays (an $expand) as compact JSON.
//
// # Partitioned export
//
// With Parallel N > 1 the table is split into N ranges of its primary key
// (PartitionKey) and each range is read by its own pager, concurrently;
// every request passes the client's governor as usual. Pages are
// written whole, never interleaving rows, in a fixed round: the next page
// of range 1, then of range 2, … of range N, then range 1 again, skipping
// ranges that are done. Every row is written exactly once; within a range
// rows keep the query's order, but the output as a whole is not ordered
// by Query.OrderBy. FetchXML and Top cannot be partitioned.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results
func (c *Client) Export(ctx context.Context, w io.Writer, entitySet string, opts *ExportOptions) (res *ExportResult, err error) {
	ctx, end := c.startSpan(ctx, "Export")
	defer func() { end(err) }()
	start := time.Now()
	if opts == nil {
		opts = &ExportOptions{}
	}
	o := *opts
	o.Query = opts.Query.clone()
	if _, err := entitySetPath(entitySet); err != nil {
		return nil, err
	}
	if o.Parallel < 0 || o.Parallel > maxExportPartitions {
		return nil, invalidf("dataverse: Export: Parallel %d is outside 0..%d", o.Parallel, maxExportPartitions)
	}
	if o.FormattedValues && !slices.Contains(o.Query.Annotations, AnnotationFormattedValue) && !slices.Contains(o.Query.Annotations, AnnotationsAll) {
		o.Query.Annotations = append(o.Query.Annotations, AnnotationFormattedValue)
	}
	wopts := &RowWriterOptions{Format: o.Format, Columns: o.Columns, FormattedValues: o.FormattedValues, Indent: o.Indent}
	if len(wopts.Columns) == 0 && o.FetchXML == "" {
		wopts.Columns = o.Query.Select
	}
	if wopts.Format == FormatCSV && len(wopts.Columns) == 0 && o.FetchXML == "" {
		cols, err := c.exportColumnsFromMetadata(ctx, entitySet)
		if err != nil {
			return nil, err
		}
		wopts.Columns = cols
	}
	if o.LookupTables && wopts.Format == FormatCSV && o.FetchXML == "" {
		md, err := c.TableMetadata(ctx, entitySet)
		if err != nil {
			return nil, fmt.Errorf("dataverse: Export: reading the lookups of %s from its metadata (LookupTables): %w", entitySet, err)
		}
		wopts.LookupTables = md.PolymorphicLookups()
		if len(wopts.LookupTables) > 0 && !slices.Contains(o.Query.Annotations, AnnotationLookupLogicalName) && !slices.Contains(o.Query.Annotations, AnnotationsAll) {
			o.Query.Annotations = append(o.Query.Annotations, AnnotationLookupLogicalName)
		}
	}
	var rw *RowWriter
	if o.Resume != nil && o.Resume.Bytes == 0 && o.Resume.Rows == 0 {
		// Nothing was written yet: start the output afresh, at the
		// saved positions.
		rw, err = NewRowWriter(w, wopts)
	} else if o.Resume != nil {
		if o.Resume.Format != "" && wopts.Format != "" && o.Resume.Format != wopts.Format {
			return nil, invalidf("dataverse: Export: the resumed export was %s, not %s", o.Resume.Format, wopts.Format)
		}
		if len(o.Resume.Columns) > 0 {
			wopts.Columns = o.Resume.Columns
			wopts.FormattedValues = false // the saved header has them already
			wopts.LookupTables = nil
		}
		rw, err = resumeRowWriter(w, wopts, o.Resume.Rows, o.Resume.Bytes)
	} else {
		rw, err = NewRowWriter(w, wopts)
	}
	if err != nil {
		return nil, err
	}
	run := &exportRun{c: c, entitySet: entitySet, opts: &o, rw: rw, start: start}
	if o.Resume != nil {
		run.pages = o.Resume.Pages
	}
	if o.Parallel > 1 || (o.Resume != nil && len(o.Resume.Partitions) > 1) {
		err = run.partitioned(ctx)
	} else {
		err = run.sequential(ctx)
	}
	if err != nil {
		// What was written stays written; flush it for the caller to see
		// (a file is then complete up to the last whole row).
		_ = rw.Flush()
		return run.result(), err
	}
	if err := rw.Close(); err != nil {
		return run.result(), err
	}
	return run.result(), nil
}

// exportRun is one Export call's state.
type exportRun struct {
	c          *Client
	entitySet  string
	opts       *ExportOptions
	rw         *RowWriter
	start      time.Time
	pages      int64
	partitions []PartitionState
	turn       int
}

func (r *exportRun) result() *ExportResult {
	return &ExportResult{
		Rows: r.rw.Rows(), Pages: r.pages, Bytes: r.rw.Bytes(), Columns: r.rw.Columns(),
		Dropped: r.rw.DroppedMembers(), Partitions: max(1, len(r.partitions)), Elapsed: time.Since(r.start),
	}
}

// pager returns the pager of one range: filter replaces the query's
// filter, next resumes at a saved link.
func (r *exportRun) pager(filter, next string) (*Pager[json.RawMessage], error) {
	o := r.opts
	if o.FetchXML != "" {
		fo := &FetchOptions{RequestOptions: o.RequestOptions, PageSize: o.Query.MaxPageSize, Annotations: o.Query.Annotations}
		if next != "" {
			return ResumePager[json.RawMessage](r.c, next, &ListOptions{Query: Query{Annotations: fo.Annotations}, RequestOptions: o.RequestOptions})
		}
		return NewFetchPager[json.RawMessage](r.c, r.entitySet, o.FetchXML, fo), nil
	}
	q := o.Query
	q.Filter = filter
	lo := &ListOptions{Query: q, RequestOptions: o.RequestOptions}
	if next != "" {
		lo.Query.Top = 0 // a resumed export reads its range to the end
		return ResumePager[json.RawMessage](r.c, next, lo)
	}
	return NewPager[json.RawMessage](r.c, r.entitySet, lo), nil
}

// sequential reads one pager and writes each page as it arrives.
func (r *exportRun) sequential(ctx context.Context) error {
	part := PartitionState{Filter: r.opts.Query.Filter}
	if rs := r.opts.Resume; rs != nil && len(rs.Partitions) == 1 {
		part = rs.Partitions[0]
		if part.Done {
			return nil
		}
	}
	r.partitions = []PartitionState{part}
	p, err := r.pager(part.Filter, part.Next)
	if err != nil {
		return err
	}
	buf := new(pageBuffer) // every page is read into it: one page on the heap
	for p.More() {
		page, err := p.nextPage(ctx, buf)
		if err != nil {
			return err
		}
		r.partitions[0] = PartitionState{Filter: part.Filter, Next: page.NextLink, Done: page.NextLink == ""}
		if err := r.writePage(page.Items); err != nil {
			return err
		}
	}
	return nil
}

// writePage writes one page and reports progress and the checkpoint.
func (r *exportRun) writePage(rows []json.RawMessage) error {
	if err := r.rw.WritePage(rows); err != nil {
		return err
	}
	r.pages++
	if r.opts.Checkpoint != nil {
		if err := r.rw.Flush(); err != nil {
			return err
		}
		st := ExportState{
			Format: r.rw.format, Columns: r.rw.Columns(), Rows: r.rw.Rows(), Pages: r.pages, Bytes: r.rw.Bytes(),
			Partitions: slices.Clone(r.partitions), Turn: r.turn,
		}
		if err := r.opts.Checkpoint(st); err != nil {
			return err
		}
	}
	if r.opts.Progress != nil {
		r.opts.Progress(ExportProgress{Rows: r.rw.Rows(), Pages: r.pages, Bytes: r.rw.Bytes() + int64(r.rw.out.Buffered()), Elapsed: time.Since(r.start)})
	}
	return nil
}
