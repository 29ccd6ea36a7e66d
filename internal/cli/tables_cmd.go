package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/dataverse"
)

// tablesOptions are the inputs of "d365 tables".
type tablesOptions struct {
	browseOutput
	Session func() (*session, error)
	Context context.Context

	Custom bool
	Filter string
}

// newCmdTables returns "d365 tables". runF, when not nil, replaces tablesRun (tests).
func newCmdTables(f *Factory, runF func(*tablesOptions) error) *cobra.Command {
	opts := &tablesOptions{Session: f.Session}
	run := runOrDefault(runF, tablesRun)
	cmd := &cobra.Command{
		Use:   "tables",
		Short: "List the tables: logical name, entity set, display name, primary columns",
		Long: `Lists the environment's tables from EntityDefinitions, sorted by logical name. The entity set
name is what "d365 get", "create", "export" and "import" take; "d365 columns <table>" shows a
table's columns.`,
		Example: `  d365 tables -o table
  d365 tables --custom
  d365 tables --filter "IsActivity eq true" -o table`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Context, opts.browseOutput = cmd.Context(), newBrowseOutput(f)
			opts.Filter = strings.TrimSpace(opts.Filter)
			return run(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Custom, "custom", false, "only custom tables (IsCustomEntity eq true)")
	cmd.Flags().StringVar(&opts.Filter, "filter", "", "OData filter over EntityMetadata properties, e.g. \"IsActivity eq true\"")
	return withJQ(cmd)
}

// tablesColumns are the columns of "d365 tables -o table".
var tablesColumns = []string{"logicalName", "entitySetName", "displayName", "primaryIdAttribute", "primaryNameAttribute", "isCustom"}

// tablesRun lists the tables.
func tablesRun(opts *tablesOptions) error {
	s, err := opts.Session()
	if err != nil {
		return err
	}
	tables, err := s.client.ListTables(opts.Context, &dataverse.ListTablesOptions{CustomOnly: opts.Custom, Filter: opts.Filter})
	if err != nil {
		return err
	}
	rows := make([]orderedObject, 0, len(tables))
	for _, t := range tables {
		rows = append(rows, row(
			"logicalName", t.LogicalName, "schemaName", t.SchemaName, "entitySetName", t.EntitySetName,
			"displayName", t.DisplayName, "primaryIdAttribute", t.PrimaryIDAttribute,
			"primaryNameAttribute", t.PrimaryNameAttribute, "isCustom", t.IsCustomEntity))
	}
	if len(rows) == 0 {
		fmt.Fprintln(opts.IO.ErrOut, "d365: no table matches")
	}
	return opts.printRows(opts.Context, rows, tablesColumns)
}

// tableArgOptions are the inputs shared by "d365 columns", "keys" and "relationships": one table.
type tableArgOptions struct {
	browseOutput
	Session func() (*session, error)
	Context context.Context

	Table string // entity set or logical name
}

// newTableArgCmd builds a command that takes one table, with the shared Long text and arguments.
func newTableArgCmd(f *Factory, opts *tableArgOptions, use, short, long, example string, run func() error) *cobra.Command {
	return withJQ(&cobra.Command{
		Use:     use + " <table>",
		Short:   short,
		Long:    long + "\n\n<table> is the entity set name (contacts) or the logical name (contact).",
		Example: example,
		Args:    exactArgs(1, "a table (entity set or logical name)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context, opts.browseOutput = cmd.Context(), newBrowseOutput(f)
			opts.Table = strings.TrimSpace(args[0])
			if opts.Table == "" {
				return usageError(fmt.Errorf("%s: the table name is empty", cmd.CommandPath()))
			}
			return run()
		},
	})
}
