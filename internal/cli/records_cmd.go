package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
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
	JQ      string

	EntitySet string
	ByID      bool      // an id was given: retrieve that record instead of querying the table
	ID        uuid.UUID // the record's id, when ByID
	// ByKey is the alternate key of the record to retrieve (the second argument in the Web API's
	// syntax, or --key flags), or nil.
	ByKey     dataverse.AlternateKey
	Keys      []string // --key column=value
	Select    []string
	Filter    string
	OrderBy   []string
	Expand    []dataverse.Expand
	Top       int
	PageSize  int
	All       bool
	Count     bool
	Formatted bool
}

// newCmdGet returns "d365 get". runF, when not nil, replaces getRun (tests).
func newCmdGet(f *Factory, runF func(*getOptions) error) *cobra.Command {
	opts := &getOptions{IO: f.IOStreams, Session: f.Session}
	run := runOrDefault(runF, getRun)
	var expand []string
	cmd := &cobra.Command{
		Use:   "get <entityset> [id | key]",
		Short: "Retrieve one record by id or alternate key, or query a table's records",
		Long: `With an id, retrieves that record; with an alternate key (column=value pairs as in a Web API URL,
strings in single quotes, or --key column=value), the record with that key. Without either,
queries the table and prints the first page (up to 5,000 rows; --top limits it, --all reads every
page); --count prints the number of matching rows instead (capped at 5,000 by the service).
The entity set name is the plural, case-sensitive name in the Web API URL: contacts, accounts,
systemusers. Functions and actions (WhoAmI, …) are not entity sets: call them with "d365 api".

-o table without --select shows the table's primary name and id columns (from its metadata);
-o csv is what "d365 import" reads back. Without --select the file also holds the columns the
service computes (createdon, versionnumber, …), which import skips and names. After each
polymorphic lookup column (_parentcustomerid_value, _ownerid_value: ids of more than one table)
comes the column <column>@Microsoft.Dynamics.CRM.lookuplogicalname with the table of each id
(account, contact, systemuser, …), which import reads to bind the id to the right table. --formatted asks for formatted values (choice labels, lookup names, currency):
JSON shows them as annotations, tables show them instead of the raw values, CSV adds a
"<column>@formatted" column after each column.`,
		Example: `  d365 get contacts --select fullname,emailaddress1 --top 10 -o table
  d365 get contacts --filter "lastname eq 'O''Brien'" --orderby "createdon desc"
  d365 get accounts 00000000-0000-0000-0000-000000000001 --select name
  d365 get contacts "emailaddress1='ada@example.com'" --select fullname
  d365 get contacts --key emailaddress1=ada@example.com
  d365 get accounts --select name --expand "primarycontactid($select=fullname)" -o yaml
  d365 get contacts --filter "statecode eq 0" --count
  d365 get contacts --all -o csv > contacts.csv
  d365 get contacts --select fullname --jq '.[].fullname'`,
		Args: rangeArgs(1, 2, "an entity set and an optional id or alternate key"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context, opts.Output, opts.EntitySet = cmd.Context(), f.OutputFormat(), args[0]
			opts.JQ = f.jqExpr()
			for _, e := range expand {
				parsed, err := parseExpand(e)
				if err != nil {
					return usageError(err)
				}
				opts.Expand = append(opts.Expand, parsed...)
			}
			if err := opts.validate(args[1:]); err != nil {
				return err
			}
			return run(opts)
		},
	}
	cmd.Flags().StringSliceVar(&opts.Select, "select", nil, "columns to return, comma-separated ($select)")
	cmd.Flags().StringVar(&opts.Filter, "filter", "", "OData filter expression ($filter), e.g. \"lastname eq 'Smith'\"")
	cmd.Flags().StringSliceVar(&opts.OrderBy, "orderby", nil, "sort keys, e.g. \"createdon desc\" ($orderby)")
	cmd.Flags().StringArrayVar(&expand, "expand", nil, "join related rows ($expand), e.g. \"primarycontactid($select=fullname)\"; repeatable")
	cmd.Flags().StringArrayVar(&opts.Keys, "key", nil, "retrieve by alternate key column=value (the value as a string); repeat for a key of several columns")
	cmd.Flags().IntVar(&opts.Top, "top", 0, "return at most N rows ($top)")
	cmd.Flags().IntVar(&opts.PageSize, "page-size", 0, "rows per page, 1-5000 (Prefer: odata.maxpagesize; default 5,000)")
	cmd.Flags().BoolVar(&opts.All, "all", false, "read every page, following @odata.nextLink")
	cmd.Flags().BoolVar(&opts.Count, "count", false, "print the number of matching rows (at most 5,000) instead of the rows")
	cmd.Flags().BoolVar(&opts.Formatted, "formatted", false, "include formatted values (choice labels, lookup names, currency)")
	return withJQ(cmd)
}

// validate checks the flags and the optional id or key (ref holds it, or nothing) before
// anything is sent.
func (o *getOptions) validate(ref []string) error {
	if strings.ContainsAny(o.EntitySet, "$?()/") {
		// $metadata, EntityDefinitions(…), contacts?$top=1: a Web API path, which "d365 api" sends.
		return usageError(fmt.Errorf("%q is a Web API path, not an entity set: get takes an entity set name such as contacts, with --filter, --select, --top, …; send any request with \"d365 api '%s'\"", o.EntitySet, o.EntitySet))
	}
	if len(o.Keys) > 0 {
		if len(ref) == 1 {
			return usageError(errors.New("give the record as an argument or with --key, not both"))
		}
		key, err := parseKeyFlags(o.Keys)
		if err != nil {
			return usageError(err)
		}
		o.ByKey = key
	}
	if len(ref) == 1 {
		if id, err := parseID(ref[0]); err == nil {
			o.ByID, o.ID = true, id
		} else if strings.Contains(ref[0], "=") {
			key, err := parseKeyLiteral(ref[0])
			if err != nil {
				return usageError(err)
			}
			o.ByKey = key
		} else {
			return usageError(fmt.Errorf("%q is not a record id (a GUID like 00000000-0000-0000-0000-000000000000) or an alternate key (column='value')", ref[0]))
		}
	}
	if o.ByID || o.ByKey != nil {
		if o.Filter != "" || o.Top != 0 || o.All || o.PageSize != 0 || len(o.OrderBy) > 0 || o.Count {
			return usageError(errors.New("--filter, --orderby, --top, --page-size, --all and --count query a table; drop them or the id/key"))
		}
		return nil
	}
	if o.Count && (o.Top != 0 || o.All || o.PageSize != 0 || len(o.OrderBy) > 0 || len(o.Expand) > 0 || len(o.Select) > 0) {
		return usageError(errors.New("--count prints only the number of rows matching --filter: drop --select, --orderby, --expand, --top, --page-size and --all"))
	}
	if o.Top < 0 {
		return usageError(fmt.Errorf("--top %d is negative", o.Top))
	}
	if o.PageSize < 0 || o.PageSize > 5000 {
		return usageError(fmt.Errorf("--page-size %d is out of range: Dataverse pages hold 1 to 5,000 rows", o.PageSize))
	}
	return nil
}

// getRun retrieves the record with an id or key, else counts or queries the table.
func getRun(opts *getOptions) error {
	s, err := opts.Session()
	if err != nil {
		return err
	}
	switch {
	case opts.ByID || opts.ByKey != nil:
		err = opts.retrieve(s)
	case opts.Count:
		err = opts.count(s)
	default:
		err = opts.list(s)
	}
	return explainNotASet(opts.Context, s.client, opts.EntitySet, err)
}

func (o *getOptions) annotations() []string {
	if o.Formatted {
		return []string{dataverse.AnnotationFormattedValue}
	}
	return nil
}

// lookupTables prepares a CSV of rows for "d365 import": after each polymorphic lookup column
// (_parentcustomerid_value, _ownerid_value: ids of more than one table) p gets the column
// "<column>@Microsoft.Dynamics.CRM.lookuplogicalname", the table each id is in, and the returned
// annotations ask the service for it. Other outputs, or a table whose metadata cannot be read,
// keep annotations as they are.
func (o *getOptions) lookupTables(s *session, p *printer, annotations []string) []string {
	if o.Output != outputCSV || o.JQ != "" {
		return annotations
	}
	if len(o.Select) > 0 && !slices.ContainsFunc(o.Select, func(c string) bool { return strings.HasPrefix(c, "_") }) {
		return annotations // no lookup column selected: spare the metadata request
	}
	md, err := s.client.TableMetadata(o.Context, o.EntitySet)
	if err != nil {
		return annotations
	}
	if p.LookupTables = md.PolymorphicLookups(); len(p.LookupTables) == 0 {
		return annotations
	}
	return append(annotations, dataverse.AnnotationLookupLogicalName)
}

// printer returns the printer of the command's output.
func (o *getOptions) printer() printer {
	return printer{IO: o.IO, Format: o.Output, JQ: o.JQ, Columns: o.Select, Formatted: o.Formatted}
}

// defaultColumns returns the columns -o table shows when --select is not given: the table's
// primary name and id, from its metadata. When the metadata cannot be read it returns nil and
// sets p.Prefer to the columns the naming rules point at (see namingRuleColumns): all of them are
// read, and those the rows hold are shown.
func (o *getOptions) defaultColumns(s *session, p *printer) []string {
	if o.Output != outputTable || len(o.Select) > 0 || o.JQ != "" {
		return nil
	}
	md, err := s.client.TableMetadata(o.Context, o.EntitySet)
	if err != nil || md.PrimaryIDAttribute == "" {
		p.Prefer = o.withExpanded(namingRuleColumns(o.EntitySet))
		return nil
	}
	if md.PrimaryNameAttribute == "" {
		return []string{md.PrimaryIDAttribute}
	}
	return []string{md.PrimaryNameAttribute, md.PrimaryIDAttribute}
}

// namingRuleColumns guesses a table's primary name and id columns from its entity set name when
// its metadata cannot be read: the common primary name columns, then "<logical name>id", the
// logical name being the set's singular (contacts -> contactid, opportunities -> opportunityid,
// addresses -> addressid).
func namingRuleColumns(entitySet string) []string {
	cols := []string{"name", "fullname", "subject", "title"}
	for _, rule := range []struct{ plural, singular string }{{"ies", "y"}, {"es", ""}, {"s", ""}} {
		if stem, ok := strings.CutSuffix(strings.ToLower(entitySet), rule.plural); ok && stem != "" {
			cols = append(cols, stem+rule.singular+"id")
		}
	}
	return cols
}

// withExpanded returns the table columns cols followed by the --expand navigation properties,
// whose cells show the related rows.
func (o *getOptions) withExpanded(cols []string) []string {
	out := slices.Clone(cols)
	for _, e := range o.Expand {
		out = append(out, e.Property)
	}
	return out
}

func (o *getOptions) retrieve(s *session) error {
	p := o.printer()
	sel := o.Select
	if cols := o.defaultColumns(s, &p); cols != nil {
		sel, p.Columns = cols, o.withExpanded(cols)
	}
	var rec json.RawMessage
	ro := &dataverse.RetrieveOptions{Select: sel, Expand: o.Expand, Annotations: o.lookupTables(s, &p, o.annotations())}
	var err error
	if o.ByID {
		err = s.client.Retrieve(o.Context, o.EntitySet, o.ID, &rec, ro)
	} else {
		err = s.client.RetrieveByKey(o.Context, o.EntitySet, o.ByKey, &rec, ro)
	}
	if err != nil {
		return err
	}
	return p.print(o.Context, rec)
}

// count prints the number of rows matching --filter.
func (o *getOptions) count(s *session) error {
	n, err := s.client.Count(o.Context, o.EntitySet, &dataverse.CountOptions{Filter: o.Filter})
	if err != nil {
		return err
	}
	return o.printer().print(o.Context, []byte(strconv.FormatInt(n, 10)))
}

func (o *getOptions) list(s *session) error {
	p := o.printer()
	q := dataverse.Query{
		Select: o.Select, Filter: o.Filter, OrderBy: o.OrderBy, Top: o.Top, Expand: o.Expand,
		Annotations: o.lookupTables(s, &p, o.annotations()), MaxPageSize: o.PageSize,
	}
	if cols := o.defaultColumns(s, &p); cols != nil {
		q.Select, p.Columns = cols, o.withExpanded(cols)
	}
	pager := dataverse.NewPager[json.RawMessage](s.client, o.EntitySet, &dataverse.ListOptions{Query: q})
	return printPages(o.Context, p, pager, o.All, func(page *dataverse.Page[json.RawMessage], first bool) error {
		if first && !isCollectionContext(page.Context, o.EntitySet) {
			return operationHint(o.EntitySet, "function")
		}
		if !o.All {
			o.noteMoreRows(page.NextLink)
		}
		return nil
	})
}

// joinRows returns rows as one JSON array.
func joinRows(rows []json.RawMessage) []byte {
	var b bytes.Buffer
	b.WriteByte('[')
	for i, r := range rows {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(r)
	}
	b.WriteByte(']')
	return b.Bytes()
}

// getIndent is the indentation of the rows "d365 get" prints in its JSON array.
const getIndent = "  "

// noteMoreRows tells the user that the query has more pages than were printed.
func (o *getOptions) noteMoreRows(nextLink string) {
	if nextLink != "" {
		fmt.Fprintln(o.IO.ErrOut, "d365: more rows exist; use --all to read every page, or --top/--filter to narrow the query")
	}
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
	data, where, err := readDataFlag(o.IO.In, o.Data)
	if err != nil {
		return nil, err
	}
	return checkJSONObject(data, where)
}

// readDataFlag returns the bytes a --data flag names: the value itself, a file (@FILE) or stdin
// (-), with where they came from for error messages.
func readDataFlag(in io.Reader, flag string) (data []byte, where string, err error) {
	where = "--data"
	switch {
	case flag == "":
		return nil, where, usageError(errors.New("--data is required: give the record as a JSON object, @FILE or - for stdin"))
	case flag == "-":
		where = "--data - (stdin)"
		b, err := io.ReadAll(io.LimitReader(in, maxDataBytes+1))
		if err != nil {
			return nil, where, fmt.Errorf("read %s: %w", where, err)
		}
		data = b
	case strings.HasPrefix(flag, "@"):
		where = "--data " + flag
		b, err := os.ReadFile(flag[1:])
		if err != nil {
			return nil, where, usageError(fmt.Errorf("read %s: %w", where, err))
		}
		data = b
	default:
		data = []byte(flag)
	}
	if len(data) > maxDataBytes {
		return nil, where, usageError(fmt.Errorf("%s is larger than %d MiB", where, maxDataBytes>>20))
	}
	return data, where, nil
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
