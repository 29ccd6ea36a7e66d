package cli

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/dataverse"
)

// fetchOptions are the inputs of "d365 fetch".
type fetchOptions struct {
	IO      *IOStreams
	Session func() (*session, error)
	Context context.Context
	Output  string
	JQ      string

	Source    string // the FetchXML file, or - for stdin
	EntitySet string // --entity-set; "" means the one of the query's <entity name>
	PageSize  int
	All       bool
	Formatted bool
}

// newCmdFetch returns "d365 fetch". runF, when not nil, replaces fetchRun (tests).
func newCmdFetch(f *Factory, runF func(*fetchOptions) error) *cobra.Command {
	opts := &fetchOptions{IO: f.IOStreams, Session: f.Session}
	run := runOrDefault(runF, fetchRun)
	cmd := &cobra.Command{
		Use:   "fetch <file | ->",
		Short: "Run a FetchXML query from a file or stdin and print its rows",
		Long: `Runs a FetchXML query and prints the first page of rows (the query's count attribute, or
--page-size, else up to 5,000); --all reads every page, following the paging cookie Dataverse
returns. The query is sent on the entity set of its <entity name="…"> table, looked up in the
table's metadata (--entity-set names it instead).

Rows print in the -o format and through --jq; --formatted asks for formatted values (choice
labels, lookup names).`,
		Example: `  d365 fetch active-contacts.xml -o table
  d365 fetch query.xml --all -o csv > rows.csv
  echo '<fetch top="5"><entity name="account"><attribute name="name"/></entity></fetch>' | d365 fetch -`,
		Args: exactArgs(1, "a FetchXML file, or - for stdin"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context, opts.Output, opts.JQ, opts.Source = cmd.Context(), f.OutputFormat(), f.jqExpr(), args[0]
			if opts.PageSize < 0 || opts.PageSize > dataverse.MaxPageSizeLimit {
				return usageError(fmt.Errorf("--page-size %d is out of range: Dataverse pages hold 1 to 5,000 rows", opts.PageSize))
			}
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.EntitySet, "entity-set", "", "the entity set to query (default: from the <entity name> table's metadata)")
	cmd.Flags().IntVar(&opts.PageSize, "page-size", 0, "rows per page, 1-5000 (sets the fetch element's count)")
	cmd.Flags().BoolVar(&opts.All, "all", false, "read every page, following the paging cookie")
	cmd.Flags().BoolVar(&opts.Formatted, "formatted", false, "include formatted values (choice labels, lookup names, currency)")
	return withJQ(cmd)
}

// fetchRun reads the query, finds its entity set and prints its rows.
func fetchRun(opts *fetchOptions) error {
	query, where, err := opts.read()
	if err != nil {
		return err
	}
	table, err := fetchEntityName(query)
	if err != nil {
		return usageError(fmt.Errorf("%s: %v", where, err))
	}
	s, err := opts.Session()
	if err != nil {
		return err
	}
	set := opts.EntitySet
	if set == "" {
		md, err := s.client.TableMetadata(opts.Context, table)
		if err != nil {
			return fmt.Errorf("find the entity set of table %q (%s): %w; name it with --entity-set", table, where, err)
		}
		set = md.EntitySetName
	}
	fo := &dataverse.FetchOptions{PageSize: opts.PageSize}
	if opts.Formatted {
		fo.Annotations = []string{dataverse.AnnotationFormattedValue}
	}
	pager := dataverse.NewFetchPager[json.RawMessage](s.client, set, query, fo)
	p := printer{IO: opts.IO, Format: opts.Output, JQ: opts.JQ, Formatted: opts.Formatted}
	return printPages(opts.Context, p, pager, opts.All, func(page *dataverse.Page[json.RawMessage], _ bool) error {
		if !opts.All && page.NextLink != "" {
			fmt.Fprintln(opts.IO.ErrOut, "d365: more rows exist; use --all to read every page")
		}
		return nil
	})
}

// read returns the FetchXML of the file or stdin, and a name for it in messages.
func (o *fetchOptions) read() (string, string, error) {
	var (
		b   []byte
		err error
	)
	where := o.Source
	if o.Source == "-" {
		where = "stdin"
		b, err = io.ReadAll(io.LimitReader(o.IO.In, maxDataBytes+1))
	} else {
		b, err = os.ReadFile(o.Source)
		if err != nil {
			return "", where, usageError(fmt.Errorf("read the FetchXML: %w", err))
		}
	}
	if err != nil {
		return "", where, fmt.Errorf("read the FetchXML from %s: %w", where, err)
	}
	if len(b) > maxDataBytes {
		return "", where, usageError(fmt.Errorf("%s is larger than %d MiB", where, maxDataBytes>>20))
	}
	return string(b), where, nil
}

// fetchEntityName returns the name attribute of a FetchXML query's <entity> element, checking
// on the way that the whole document is well-formed XML rooted at <fetch>.
func fetchEntityName(query string) (string, error) {
	dec := xml.NewDecoder(strings.NewReader(query))
	root, entity := "", ""
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			switch {
			case root == "":
				return "", errors.New("no <fetch> element: a FetchXML query looks like <fetch><entity name=\"contact\">…</entity></fetch>")
			case entity == "":
				return "", errors.New("no <entity name=\"…\"> inside <fetch>")
			}
			return entity, nil
		}
		if err != nil {
			return "", fmt.Errorf("not well-formed XML: %v", err)
		}
		se, ok := tok.(xml.StartElement)
		if !ok {
			continue
		}
		switch {
		case root == "":
			root = se.Name.Local
			if root != "fetch" {
				return "", fmt.Errorf("the root element is <%s>, not <fetch>", root)
			}
		case se.Name.Local == "entity" && entity == "":
			for _, a := range se.Attr {
				if a.Name.Local == "name" {
					entity = a.Value
				}
			}
			if entity == "" {
				return "", errors.New("<entity> has no name attribute")
			}
		}
	}
}
