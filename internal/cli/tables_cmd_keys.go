package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
)

// newCmdKeys returns "d365 keys". runF, when not nil, replaces keysRun (tests).
func newCmdKeys(f *Factory, runF func(*tableArgOptions) error) *cobra.Command {
	opts := &tableArgOptions{Session: f.Session}
	run := runOrDefault(runF, keysRun)
	return newTableArgCmd(f, opts, "keys",
		"List a table's alternate keys: name, columns and index status",
		`Lists the table's alternate keys. A key whose index status is Active can address rows:
"d365 get contacts \"emailaddress1='a@b.c'\"", "d365 import --mode upsert" with the key's columns,
lookups bound as accounts(accountnumber='A1').`,
		`  d365 keys contacts -o table`,
		func() error { return run(opts) })
}

// keysTableColumns are the columns of "d365 keys -o table".
var keysTableColumns = []string{"name", "columns", "indexStatus"}

// keysRun prints the alternate keys from the table's metadata.
func keysRun(opts *tableArgOptions) error {
	s, err := opts.Session()
	if err != nil {
		return err
	}
	md, err := s.client.TableMetadata(opts.Context, opts.Table)
	if err != nil {
		return err
	}
	if !md.KeysKnown {
		return &exitError{code: ExitService, err: fmt.Errorf(
			"the service did not list the alternate keys of %s: it refused to expand Keys on EntityDefinitions (Dataverse lists them; an emulator without key metadata does not)", md.LogicalName)}
	}
	rows := make([]orderedObject, 0, len(md.Keys))
	for _, k := range md.Keys {
		cols := any(k.KeyAttributes)
		if opts.flat() {
			cols = strings.Join(k.KeyAttributes, ",")
		}
		rows = append(rows, row("name", k.Name, "logicalName", k.LogicalName, "columns", cols, "indexStatus", k.IndexStatus))
	}
	if len(rows) == 0 {
		fmt.Fprintf(opts.IO.ErrOut, "d365: %s has no alternate keys\n", md.LogicalName)
	}
	return opts.printRows(opts.Context, rows, keysTableColumns)
}
