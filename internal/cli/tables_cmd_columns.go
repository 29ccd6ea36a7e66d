package cli

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/dataverse"
)

// columnsOptions are the inputs of "d365 columns".
type columnsOptions struct {
	tableArgOptions
	All bool // include the columns that are part of another (AttributeOf)
}

// newCmdColumns returns "d365 columns". runF, when not nil, replaces columnsRun (tests).
func newCmdColumns(f *Factory, runF func(*columnsOptions) error) *cobra.Command {
	opts := &columnsOptions{tableArgOptions: tableArgOptions{Session: f.Session}}
	run := runOrDefault(runF, columnsRun)
	cmd := newTableArgCmd(f, &opts.tableArgOptions, "columns",
		"List a table's columns: type, required level, max length, choice values, lookup targets",
		`Lists the table's columns from its EntityDefinition: the type, the required level (None,
Recommended, ApplicationRequired, SystemRequired), the maximum length of text, whether a create, an
update or a read may carry it, a lookup's target tables and a choice's values with their labels.`,
		`  d365 columns contacts -o table
  d365 columns account --all`,
		func() error { return run(opts) })
	cmd.Flags().BoolVar(&opts.All, "all", false, "include the columns that belong to another (AttributeOf), such as a lookup's name")
	return cmd
}

// columnsTableColumns are the columns of "d365 columns -o table".
var columnsTableColumns = []string{"logicalName", "type", "requiredLevel", "maxLength", "displayName", "values"}

// choiceValue is one option in "d365 columns" JSON.
type choiceValue struct {
	Value int    `json:"value"`
	Label string `json:"label"`
	State *int   `json:"state,omitempty"`
}

// columnsRun reads the table's metadata and the options of its choice columns.
func columnsRun(opts *columnsOptions) error {
	s, err := opts.Session()
	if err != nil {
		return err
	}
	md, err := s.client.TableMetadata(opts.Context, opts.Table)
	if err != nil {
		return err
	}
	choices, err := s.client.TableChoices(opts.Context, md.LogicalName)
	if err != nil {
		return err
	}
	noteUnavailableChoices(opts.IO, choices.Unavailable)
	rows := make([]orderedObject, 0, len(md.Columns))
	for i := range md.Columns {
		c := &md.Columns[i]
		if c.AttributeOf != "" && !opts.All {
			continue
		}
		rows = append(rows, columnRow(c, choices.Options[c.LogicalName], opts.flat()))
	}
	columns := columnsTableColumns
	if !opts.flat() {
		columns = nil
	}
	return opts.printRows(opts.Context, rows, columns)
}

// columnType is the column's type as a user names it: the AttributeType, or the finer name of a
// Virtual column that is a multi-select choice.
func columnType(c *dataverse.ColumnMetadata) string {
	if c.AttributeType == "Virtual" && c.AttributeTypeName != "" {
		return strings.TrimSuffix(c.AttributeTypeName, "Type")
	}
	return c.AttributeType
}

// columnRow is one column as "d365 columns" prints it. For a table or CSV (flat), targets and
// options are folded into one "values" cell; JSON and YAML keep them structured.
func columnRow(c *dataverse.ColumnMetadata, options []dataverse.ChoiceOption, flat bool) orderedObject {
	var validFor []string
	for _, v := range []struct {
		ok   bool
		name string
	}{{c.IsValidForCreate, "create"}, {c.IsValidForUpdate, "update"}, {c.IsValidForRead, "read"}} {
		if v.ok {
			validFor = append(validFor, v.name)
		}
	}
	if flat {
		values := strings.Join(c.Targets, ", ")
		if len(options) > 0 {
			parts := make([]string, len(options))
			for i, o := range options {
				parts[i] = strconv.Itoa(o.Value) + " " + o.Label
			}
			values = strings.Join(parts, "; ")
		}
		return row("logicalName", c.LogicalName, "type", columnType(c), "requiredLevel", c.RequiredLevel,
			"maxLength", c.MaxLength, "displayName", c.DisplayName, "values", values)
	}
	var choices []choiceValue
	for _, o := range options {
		choices = append(choices, choiceValue{Value: o.Value, Label: o.Label, State: o.State})
	}
	var targets any
	if len(c.Targets) > 0 {
		targets = c.Targets
	}
	var optionsValue any
	if len(choices) > 0 {
		optionsValue = choices
	}
	var validForValue any
	if len(validFor) > 0 {
		validForValue = validFor
	}
	return row("logicalName", c.LogicalName, "schemaName", c.SchemaName, "displayName", c.DisplayName,
		"type", columnType(c), "requiredLevel", c.RequiredLevel, "maxLength", c.MaxLength,
		"isPrimaryId", c.IsPrimaryID, "isPrimaryName", c.IsPrimaryName, "validFor", validForValue,
		"attributeOf", c.AttributeOf, "targets", targets, "options", optionsValue,
		"dateTimeBehavior", c.DateTimeBehavior)
}

// noteUnavailableChoices says on stderr which column types are listed without their values, and
// why (the service's message, once when every type got the same).
func noteUnavailableChoices(io *IOStreams, unavailable []string) {
	if len(unavailable) == 0 {
		return
	}
	var types, messages []string
	for _, u := range unavailable {
		cast, msg, _ := strings.Cut(u, ": ")
		types = append(types, strings.TrimSuffix(cast, "AttributeMetadata"))
		if !slices.Contains(messages, msg) {
			messages = append(messages, msg)
		}
	}
	fmt.Fprintf(io.ErrOut, "d365: %s columns are listed without their values: the service did not serve their option sets (%s)\n",
		strings.Join(types, ", "), strings.Join(messages, "; "))
}
