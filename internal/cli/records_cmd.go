package cli

import (
	"bytes"
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

type getOptions struct {
	*globalOptions
	selectCols []string
	filter     string
	orderBy    []string
	top        int
	pageSize   int
	all        bool
	formatted  bool
}

func newGetCmd(g *globalOptions) *cobra.Command {
	o := &getOptions{globalOptions: g}
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
			if len(args) == 2 {
				if o.filter != "" || o.top != 0 || o.all || o.pageSize != 0 || len(o.orderBy) > 0 {
					return usageError(errors.New("--filter, --orderby, --top, --page-size and --all query a table; drop them or the id"))
				}
				id, err := parseID(args[1])
				if err != nil {
					return err
				}
				return o.retrieve(cmd, args[0], id)
			}
			return o.list(cmd, args[0])
		},
	}
	cmd.Flags().StringSliceVar(&o.selectCols, "select", nil, "columns to return, comma-separated ($select)")
	cmd.Flags().StringVar(&o.filter, "filter", "", "OData filter expression ($filter), e.g. \"lastname eq 'Smith'\"")
	cmd.Flags().StringSliceVar(&o.orderBy, "orderby", nil, "sort keys, e.g. \"createdon desc\" ($orderby)")
	cmd.Flags().IntVar(&o.top, "top", 0, "return at most N rows ($top)")
	cmd.Flags().IntVar(&o.pageSize, "page-size", 0, "rows per page, 1-5000 (Prefer: odata.maxpagesize; default 5,000)")
	cmd.Flags().BoolVar(&o.all, "all", false, "read every page, following @odata.nextLink")
	cmd.Flags().BoolVar(&o.formatted, "formatted", false, "include formatted values (choice labels, lookup names, currency)")
	return cmd
}

func (o *getOptions) annotations() []string {
	if o.formatted {
		return []string{dataverse.AnnotationFormattedValue}
	}
	return nil
}

func (o *getOptions) retrieve(cmd *cobra.Command, entitySet string, id uuid.UUID) error {
	s, err := o.connect()
	if err != nil {
		return err
	}
	var rec orderedObject
	err = s.client.Retrieve(cmd.Context(), entitySet, id, &rec, &dataverse.RetrieveOptions{
		Select: o.selectCols, Annotations: o.annotations(),
	})
	if err != nil {
		return err
	}
	if o.output == outputTable {
		return writeTable(o.streams.Out, []orderedObject{rec}, o.selectCols)
	}
	return writeJSON(o.streams.Out, rec)
}

func (o *getOptions) list(cmd *cobra.Command, entitySet string) error {
	if o.top < 0 {
		return usageError(fmt.Errorf("--top %d is negative", o.top))
	}
	if o.pageSize < 0 || o.pageSize > 5000 {
		return usageError(fmt.Errorf("--page-size %d is out of range: Dataverse pages hold 1 to 5,000 rows", o.pageSize))
	}
	s, err := o.connect()
	if err != nil {
		return err
	}
	q := dataverse.Query{
		Select: o.selectCols, Filter: o.filter, OrderBy: o.orderBy, Top: o.top, Annotations: o.annotations(),
		MaxPageSize: o.pageSize,
	}
	if o.output == outputTable {
		return o.listTable(cmd, s, entitySet, q)
	}
	if o.all {
		// The export writer: rows pass through as the service sent them, indented as -o json
		// prints, into a buffered writer.
		_, err := s.client.Export(cmd.Context(), o.streams.Out, entitySet, &dataverse.ExportOptions{
			Query: q, Format: dataverse.FormatJSON, Indent: getIndent,
		})
		return err
	}
	page, err := dataverse.NewPager[json.RawMessage](s.client, entitySet, &dataverse.ListOptions{Query: q}).NextPage(cmd.Context())
	if err != nil {
		return err
	}
	out, err := dataverse.NewRowWriter(o.streams.Out, &dataverse.RowWriterOptions{Format: dataverse.FormatJSON, Indent: getIndent})
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
		fmt.Fprintln(o.streams.ErrOut, "d365: more rows exist; use --all to read every page, or --top/--filter to narrow the query")
	}
}

// listTable prints the rows as a table, which needs every row to align its columns.
func (o *getOptions) listTable(cmd *cobra.Command, s *session, entitySet string, q dataverse.Query) error {
	pager := dataverse.NewPager[orderedObject](s.client, entitySet, &dataverse.ListOptions{Query: q})
	var rows []orderedObject
	for pager.More() {
		page, err := pager.NextPage(cmd.Context())
		if err != nil {
			return err
		}
		rows = append(rows, page.Items...)
		if !o.all {
			o.noteMoreRows(page.NextLink)
			break
		}
	}
	return writeTable(o.streams.Out, rows, o.selectCols)
}

type writeOptions struct {
	*globalOptions
	data string
}

func newCreateCmd(g *globalOptions) *cobra.Command {
	o := &writeOptions{globalOptions: g}
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
			body, err := o.readData()
			if err != nil {
				return err
			}
			s, err := o.connect()
			if err != nil {
				return err
			}
			res, err := s.client.Create(cmd.Context(), args[0], body, nil)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(o.streams.Out, res.ID)
			return err
		},
	}
	cmd.Flags().StringVar(&o.data, "data", "", "the record as a JSON object, @FILE, or - for stdin")
	return cmd
}

func newUpdateCmd(g *globalOptions) *cobra.Command {
	o := &writeOptions{globalOptions: g}
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
			body, err := o.readData()
			if err != nil {
				return err
			}
			s, err := o.connect()
			if err != nil {
				return err
			}
			if _, err := s.client.Update(cmd.Context(), args[0], id, body, nil); err != nil {
				return err
			}
			fmt.Fprintf(o.streams.ErrOut, "d365: updated %s(%s)\n", args[0], id)
			return nil
		},
	}
	cmd.Flags().StringVar(&o.data, "data", "", "the changed columns as a JSON object, @FILE, or - for stdin")
	return cmd
}

func newDeleteCmd(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "delete <entityset> <id>",
		Short: "Delete a record",
		Args:  exactArgs(2, "an entity set and an id"),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, err := parseID(args[1])
			if err != nil {
				return err
			}
			s, err := g.connect()
			if err != nil {
				return err
			}
			if err := s.client.Delete(cmd.Context(), args[0], id, nil); err != nil {
				return err
			}
			fmt.Fprintf(g.streams.ErrOut, "d365: deleted %s(%s)\n", args[0], id)
			return nil
		},
	}
}

// readData returns the --data JSON object, read from the flag, a file (@FILE) or stdin (-).
func (o *writeOptions) readData() (json.RawMessage, error) {
	var (
		data  []byte
		where = "--data"
	)
	switch {
	case o.data == "":
		return nil, usageError(errors.New("--data is required: give the record as a JSON object, @FILE or - for stdin"))
	case o.data == "-":
		where = "--data - (stdin)"
		b, err := io.ReadAll(io.LimitReader(o.streams.In, maxDataBytes+1))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", where, err)
		}
		data = b
	case strings.HasPrefix(o.data, "@"):
		where = "--data " + o.data
		b, err := os.ReadFile(o.data[1:])
		if err != nil {
			return nil, usageError(fmt.Errorf("read %s: %w", where, err))
		}
		data = b
	default:
		data = []byte(o.data)
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
