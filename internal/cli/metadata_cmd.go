package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"go.yaml.in/yaml/v3"

	"github.com/d365s2s/d365/emulator"
)

// newCmdMetadata returns "d365 metadata", the group of table-metadata commands.
func newCmdMetadata(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "metadata",
		Short: "Read table metadata (tables, columns, choices, keys, relationships)",
	}
	cmd.AddCommand(newCmdMetadataPull(f, nil))
	return cmd
}

// metadataPullOptions are the inputs of "d365 metadata pull".
type metadataPullOptions struct {
	IO      *IOStreams
	Session func() (*session, error)
	Context context.Context

	Tables []string
	Out    string
}

// newCmdMetadataPull returns "d365 metadata pull". runF, when not nil, replaces
// metadataPullRun (tests).
func newCmdMetadataPull(f *Factory, runF func(*metadataPullOptions) error) *cobra.Command {
	o := &metadataPullOptions{IO: f.IOStreams, Session: f.Session}
	run := runOrDefault(runF, metadataPullRun)
	var tables string
	cmd := &cobra.Command{
		Use:   "pull --tables a,b[,...] [--out FILE]",
		Short: "Write tables of any environment (real or emulated) as an emulator schema file",
		Long: `Reads the named tables from the environment through the Web API metadata endpoints
(EntityDefinitions with Attributes, the choice casts with OptionSet, Keys and the three kinds of
relationships) and writes them in the emulator's schema file format, for
"d365 emulator --schema FILE" or emulator.Options.Schema.

Tables the emulator has built in (account, contact, ...) contribute only the columns and keys it
lacks. A lookup keeps the targets that are pulled or built in, and a relationship is written when
every table it joins is; what is left out is listed on stderr with the reason.

The file is YAML, or JSON when FILE ends in .json; without --out it goes to stdout. It is written
only when every table was read.`,
		Example: `  d365 metadata pull --tables new_project,new_milestone --out tables.yaml
  d365 emulator --schema tables.yaml`,
		Args: exactArgs(0, "no arguments (name the tables with --tables)"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			names, err := parseTableList(tables)
			if err != nil {
				return usageError(err)
			}
			o.Tables, o.Context = names, cmd.Context()
			return run(o)
		},
	}
	cmd.Flags().StringVar(&tables, "tables", "", "comma-separated logical names of the tables to pull (required)")
	cmd.Flags().StringVar(&o.Out, "out", "", "file to write (YAML, or JSON for .json); default stdout")
	return cmd
}

var logicalNamePattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// parseTableList reads --tables: logical names, comma-separated, each once.
func parseTableList(s string) ([]string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("--tables is required: name the tables by logical name, e.g. --tables new_project,new_milestone")
	}
	var names []string
	seen := map[string]bool{}
	for i, part := range strings.Split(s, ",") {
		name := strings.TrimSpace(part)
		if !logicalNamePattern.MatchString(name) {
			return nil, fmt.Errorf("--tables: item %d %q is not a table logical name (lowercase letters, digits and underscores, starting with a letter, e.g. new_project)", i+1, name)
		}
		if seen[name] {
			return nil, fmt.Errorf("--tables: %s is named twice", name)
		}
		seen[name] = true
		names = append(names, name)
	}
	return names, nil
}

// metadataPullRun reads the tables and writes the schema file.
func metadataPullRun(o *metadataPullOptions) error {
	if o.Out != "" {
		if err := checkWritableDir(filepath.Dir(o.Out)); err != nil {
			return usageError(fmt.Errorf("--out %s: %w", o.Out, err))
		}
	}
	s, err := o.Session()
	if err != nil {
		return err
	}
	get := clientMetadataGetter(s.client)
	var pulled []*pulledTable
	for _, name := range o.Tables {
		p, err := pullTable(o.Context, get, name)
		if err != nil {
			return err
		}
		pulled = append(pulled, p)
	}
	def, report := toSchemaDefinition(pulled, emulator.BuiltinSchema())
	data, err := encodeSchemaFile(def, o.Out, s.client.OrgURL(), o.Tables)
	if err != nil {
		return err
	}
	if o.Out == "" {
		if _, err := o.IO.Out.Write(data); err != nil {
			return err
		}
	} else if err := writeFileAtomically(o.Out, data); err != nil {
		return err
	}
	for _, line := range report.Skipped {
		fmt.Fprintf(o.IO.ErrOut, "skipped %s\n", line)
	}
	dest := "stdout"
	if o.Out != "" {
		dest = o.Out
	}
	fmt.Fprintf(o.IO.ErrOut, "pulled %d table(s): %d column(s), %d choice(s), %d key(s), %d relationship(s) to %s; %d item(s) skipped\n",
		report.Tables, report.Columns, report.Choices, report.Keys, report.Relationships, dest, len(report.Skipped))
	return nil
}

// encodeSchemaFile writes def as YAML with a comment saying where it came from, or as JSON when
// the file name ends in .json.
func encodeSchemaFile(def *emulator.SchemaDefinition, out, orgURL string, tables []string) ([]byte, error) {
	if strings.EqualFold(filepath.Ext(out), ".json") {
		data, err := json.MarshalIndent(def, "", "  ")
		if err != nil {
			return nil, err
		}
		return append(data, '\n'), nil
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# Pulled by `d365 metadata pull --tables %s` from %s.\n", strings.Join(tables, ","), orgURL)
	buf.WriteString("# Start an emulator with these tables: d365 emulator --schema <this file>\n")
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(def); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeFileAtomically replaces path with data, or leaves it as it was.
func writeFileAtomically(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
