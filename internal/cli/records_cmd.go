package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/dataverse"
)

// getOptions are the inputs of "d365 get".
type getOptions struct {
	IO      *IOStreams
	Session func() (*session, error)
	Context context.Context
	Output  string

	EntitySet string
	ByID      bool      // an id was given: retrieve that record instead of querying the table
	ID        uuid.UUID // the record's id, when ByID
	Select    []string
	Filter    string
	OrderBy   []string
	Top       int
	PageSize  int
	All       bool
	Formatted bool
}

// newCmdGet returns "d365 get". runF, when not nil, replaces getRun (tests).
func newCmdGet(f *Factory, runF func(*getOptions) error) *cobra.Command {
	opts := &getOptions{IO: f.IOStreams, Session: f.Session}
	run := runOrDefault(runF, getRun)
	cmd := &cobra.Command{
		Use:   "get <entityset> [id]",
		Short: "Retrieve one record by id, or query a table's records",
		Long: `With an id, retrieves that record. Without, queries the table and prints the first page
(up to 5,000 rows; --top limits it, --all reads every page). The entity set name is the plural,
case-sensitive name in the Web API URL: contacts, accounts, systemusers.`,
		Example: `  d365 get contacts --select fullname,emailaddress1 --top 10 -o table
  d365 get contacts --filter "lastname eq 'O''Brien'" --orderby "createdon desc"
  d365 get accounts 00000000-0000-0000-0000-000000000001 --select name`,
		Args: rangeArgs(1, 2, "an entity set and an optional id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context, opts.Output, opts.EntitySet = cmd.Context(), f.OutputFormat(), args[0]
			if err := opts.validate(args[1:]); err != nil {
				return err
			}
			return run(opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Select, "select", nil, "columns to return, comma-separated ($select)")
	cmd.Flags().StringVar(&opts.Filter, "filter", "", "OData filter expression ($filter), e.g. \"lastname eq 'Smith'\"")
	cmd.Flags().StringSliceVar(&opts.OrderBy, "orderby", nil, "sort keys, e.g. \"createdon desc\" ($orderby)")
	cmd.Flags().IntVar(&opts.Top, "top", 0, "return at most N rows ($top)")
	cmd.Flags().IntVar(&opts.PageSize, "page-size", 0, "rows per page, 1-5000 (Prefer: odata.maxpagesize; default 5,000)")
	cmd.Flags().BoolVar(&opts.All, "all", false, "read every page, following @odata.nextLink")
	cmd.Flags().BoolVar(&opts.Formatted, "formatted", false, "include formatted values (choice labels, lookup names, currency)")
	return cmd
}

// validate checks the flags and the optional id (id holds it, or nothing) before anything is
// sent.
func (o *getOptions) validate(id []string) error {
	if len(id) == 1 {
		if o.Filter != "" || o.Top != 0 || o.All || o.PageSize != 0 || len(o.OrderBy) > 0 {
			return usageError(errors.New("--filter, --orderby, --top, --page-size and --all query a table; drop them or the id"))
		}
		parsed, err := parseID(id[0])
		if err != nil {
			return err
		}
		o.ByID, o.ID = true, parsed
		return nil
	}
	if o.Top < 0 {
		return usageError(fmt.Errorf("--top %d is negative", o.Top))
	}
	if o.PageSize < 0 || o.PageSize > 5000 {
		return usageError(fmt.Errorf("--page-size %d is out of range: Dataverse pages hold 1 to 5,000 rows", o.PageSize))
	}
	return nil
}

// getRun retrieves the record with an id, else queries the table.
func getRun(opts *getOptions) error {
	if opts.ByID {
		return opts.retrieve()
	}
	return opts.list()
}

func (o *getOptions) annotations() []string {
	if o.Formatted {
		return []string{dataverse.AnnotationFormattedValue}
	}
	return nil
}

func (o *getOptions) retrieve() error {
	s, err := o.Session()
	if err != nil {
		return err
	}
	var rec orderedObject
	err = s.client.Retrieve(o.Context, o.EntitySet, o.ID, &rec, &dataverse.RetrieveOptions{
		Select: o.Select, Annotations: o.annotations(),
	})
	if err != nil {
		return err
	}
	if o.Output == outputTable {
		return writeTable(o.IO.Out, []orderedObject{rec}, o.Select)
	}
	return writeJSON(o.IO.Out, rec)
}

func (o *getOptions) list() error {
	s, err := o.Session()
	if err != nil {
		return err
	}
	q := dataverse.Query{
		Select: o.Select, Filter: o.Filter, OrderBy: o.OrderBy, Top: o.Top, Annotations: o.annotations(),
		MaxPageSize: o.PageSize,
	}
	if o.Output == outputTable {
		return o.listTable(s, q)
	}
	if o.All {
		// The export writer: rows pass through as the service sent them, indented as -o json
		// prints, into a buffered writer.
		_, err := s.client.Export(o.Context, o.IO.Out, o.EntitySet, &dataverse.ExportOptions{
			Query: q, Format: dataverse.FormatJSON, Indent: getIndent,
		})
		return err
	}
	page, err := dataverse.NewPager[json.RawMessage](s.client, o.EntitySet, &dataverse.ListOptions{Query: q}).NextPage(o.Context)
	if err != nil {
		return err
	}
	out, err := dataverse.NewRowWriter(o.IO.Out, &dataverse.RowWriterOptions{Format: dataverse.FormatJSON, Indent: getIndent})
	if err != nil {
		return err
	}
	if err := out.WritePage(page.Items); err != nil {
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	o.noteMoreRows(page.NextLink)
	return nil
}

// getIndent is the indentation of the rows "d365 get" prints in its JSON array.
const getIndent = "  "

// noteMoreRows tells the user that the query has more pages than were printed.
func (o *getOptions) noteMoreRows(nextLink string) {
	if nextLink != "" {
		fmt.Fprintln(o.IO.ErrOut, "d365: more rows exist; use --all to read every page, or --top/--filter to narrow the query")
	}
}

// listTable prints the rows as a table, which needs every row to align its columns.
func (o *getOptions) listTable(s *session, q dataverse.Query) error {
	pager := dataverse.NewPager[orderedObject](s.client, o.EntitySet, &dataverse.ListOptions{Query: q})
	var rows []orderedObject
	for pager.More() {
		page, err := pager.NextPage(o.Context)
		if err != nil {
			return err
		}
		rows = append(rows, page.Items...)
		if !o.All {
			o.noteMoreRows(page.NextLink)
			break
		}
	}
	return writeTable(o.IO.Out, rows, o.Select)
}

// writeOptions are the inputs of "d365 create" and "d365 update" (ID is uuid.Nil for create).
type writeOptions struct {
	IO      *IOStreams
	Session func() (*session, error)
	Context context.Context

	EntitySet string
	ID        uuid.UUID
	Data      string // the --data flag: JSON, @FILE or -
}

// newCmdCreate returns "d365 create". runF, when not nil, replaces createRun (tests).
func newCmdCreate(f *Factory, runF func(*writeOptions) error) *cobra.Command {
	opts := &writeOptions{IO: f.IOStreams, Session: f.Session}
	run := runOrDefault(runF, createRun)
	cmd := &cobra.Command{
		Use:   "create <entityset> --data JSON",
		Short: "Create a record and print its id",
		Long: `Creates a record from a JSON object and prints the new record's id on stdout.
--data takes the JSON itself, @FILE to read it from a file, or - to read it from stdin. Set lookups
with "<navigation property>@odata.bind": "/accounts(<id>)".`,
		Example: `  d365 create contacts --data '{"firstname":"Ada","lastname":"Lovelace"}'
  id=$(d365 create accounts --data @account.json)`,
		Args: exactArgs(1, "an entity set"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context, opts.EntitySet = cmd.Context(), args[0]
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Data, "data", "", "the record as a JSON object, @FILE, or - for stdin")
	return cmd
}

// createRun reads --data, creates the record and prints its id.
func createRun(opts *writeOptions) error {
	body, err := opts.readData()
	if err != nil {
		return err
	}
	s, err := opts.Session()
	if err != nil {
		return err
	}
	res, err := s.client.Create(opts.Context, opts.EntitySet, body, nil)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(opts.IO.Out, res.ID)
	return err
}

// newCmdUpdate returns "d365 update". runF, when not nil, replaces updateRun (tests).
func newCmdUpdate(f *Factory, runF func(*writeOptions) error) *cobra.Command {
	opts := &writeOptions{IO: f.IOStreams, Session: f.Session}
	run := runOrDefault(runF, updateRun)
	cmd := &cobra.Command{
		Use:   "update <entityset> <id> --data JSON",
		Short: "Update columns of an existing record",
		Long: `Updates the columns given in a JSON object. The record must exist: update never creates one
(it sends If-Match: *, so a missing record is a 404). --data takes the JSON, @FILE or - for stdin.`,
		Example: `  d365 update contacts 5f2c…-… --data '{"jobtitle":"Analyst"}'`,
		Args:    exactArgs(2, "an entity set and an id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[1])
			if err != nil {
				return err
			}
			opts.Context, opts.EntitySet, opts.ID = cmd.Context(), args[0], id
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Data, "data", "", "the changed columns as a JSON object, @FILE, or - for stdin")
	return cmd
}

// updateRun reads --data and updates the record.
func updateRun(opts *writeOptions) error {
	body, err := opts.readData()
	if err != nil {
		return err
	}
	s, err := opts.Session()
	if err != nil {
		return err
	}
	if _, err := s.client.Update(opts.Context, opts.EntitySet, opts.ID, body, nil); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "d365: updated %s(%s)\n", opts.EntitySet, opts.ID)
	return nil
}

// deleteOptions are the inputs of "d365 delete".
type deleteOptions struct {
	IO      *IOStreams
	Session func() (*session, error)
	Context context.Context

	EntitySet string
	ID        uuid.UUID
}

// newCmdDelete returns "d365 delete". runF, when not nil, replaces deleteRun (tests).
func newCmdDelete(f *Factory, runF func(*deleteOptions) error) *cobra.Command {
	opts := &deleteOptions{IO: f.IOStreams, Session: f.Session}
	run := runOrDefault(runF, deleteRun)
	return &cobra.Command{
		Use:   "delete <entityset> <id>",
		Short: "Delete a record",
		Args:  exactArgs(2, "an entity set and an id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[1])
			if err != nil {
				return err
			}
			opts.Context, opts.EntitySet, opts.ID = cmd.Context(), args[0], id
			return run(opts)
		},
	}
}

// deleteRun deletes the record.
func deleteRun(opts *deleteOptions) error {
	s, err := opts.Session()
	if err != nil {
		return err
	}
	if err := s.client.Delete(opts.Context, opts.EntitySet, opts.ID, nil); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "d365: deleted %s(%s)\n", opts.EntitySet, opts.ID)
	return nil
}

// readData returns the --data JSON object, read from the flag, a file (@FILE) or stdin (-).
func (o *writeOptions) readData() (json.RawMessage, error) {
	var (
		data  []byte
		where = "--data"
	)
	switch {
	case o.Data == "":
		return nil, usageError(errors.New("--data is required: give the record as a JSON object, @FILE or - for stdin"))
	case o.Data == "-":
		where = "--data - (stdin)"
		b, err := io.ReadAll(io.LimitReader(o.IO.In, maxDataBytes+1))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", where, err)
		}
		data = b
	case strings.HasPrefix(o.Data, "@"):
		where = "--data " + o.Data
		b, err := os.ReadFile(o.Data[1:])
		if err != nil {
			return nil, usageError(fmt.Errorf("read %s: %w", where, err))
		}
		data = b
	default:
		data = []byte(o.Data)
	}
	if len(data) > maxDataBytes {
		return nil, usageError(fmt.Errorf("%s is larger than %d MiB", where, maxDataBytes>>20))
	}
	return checkJSONObject(data, where)
}

// maxDataBytes bounds --data: far above any single record, far below what would hurt.
const maxDataBytes = 32 << 20

// checkJSONObject returns data when it is one JSON object, else an error that says where it broke.
func checkJSONObject(data []byte, where string) (json.RawMessage, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return nil, usageError(fmt.Errorf("%s must be a JSON object like {\"name\":\"value\"}", where))
	}
	var v map[string]json.RawMessage
	if err := json.Unmarshal(trimmed, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, usageError(fmt.Errorf("%s is not valid JSON at byte %d: %v", where, se.Offset, err))
		}
		return nil, usageError(fmt.Errorf("%s is not a JSON object: %v", where, err))
	}
	return json.RawMessage(trimmed), nil
}

// parseID parses a record id, with a message that says what an id looks like.
func parseID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(strings.Trim(s, "{}"))
	if err != nil || len(strings.Trim(s, "{}")) != 36 {
		return uuid.Nil, usageError(fmt.Errorf("%q is not a record id: ids are GUIDs like 00000000-0000-0000-0000-000000000000", s))
	}
	return id, nil
}

func jsonString(s string) json.RawMessage {
	b, _ := json.Marshal(s)
	return b
}
