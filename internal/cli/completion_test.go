package cli

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryTableCommandCompletes walks d365's real command tree: every command whose first
// argument is a table completes it, its --select and --orderby complete columns, every --table
// flag completes tables, and -o, --auth-method and fault add's --action complete their values.
// A command added later with "<entityset>" in its Use is covered without touching completion.go.
func TestEveryTableCommandCompletes(t *testing.T) {
	root := newRootCmd(&globalOptions{streams: &IOStreams{In: strings.NewReader("")}})
	var tableCmds []string
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if takesTableArg(c) {
			tableCmds = append(tableCmds, c.CommandPath())
			if c.ValidArgsFunction == nil {
				t.Errorf("%s takes a table but does not complete it", c.CommandPath())
			}
			for _, flag := range []string{"select", "orderby"} {
				if c.LocalNonPersistentFlags().Lookup(flag) == nil {
					continue
				}
				if _, ok := c.GetFlagCompletionFunc(flag); !ok {
					t.Errorf("%s --%s does not complete columns", c.CommandPath(), flag)
				}
			}
		}
		if c.LocalNonPersistentFlags().Lookup("table") != nil {
			if _, ok := c.GetFlagCompletionFunc("table"); !ok {
				t.Errorf("%s --table does not complete tables", c.CommandPath())
			}
		}
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(root)
	for _, want := range []string{"d365 get", "d365 create", "d365 update", "d365 delete", "d365 export", "d365 import",
		"d365 columns", "d365 keys", "d365 relationships"} {
		if !slices.Contains(tableCmds, want) {
			t.Errorf("%s is not recognised as taking a table (Use changed?); found %q", want, tableCmds)
		}
	}

	complete := func(c *cobra.Command, flag, prefix string) []string {
		fn, ok := c.GetFlagCompletionFunc(flag)
		if !ok {
			t.Fatalf("%s --%s has no completion", c.CommandPath(), flag)
		}
		got, directive := fn(c, nil, prefix)
		if directive&cobra.ShellCompDirectiveNoFileComp == 0 {
			t.Errorf("%s --%s offers files too", c.CommandPath(), flag)
		}
		return got
	}
	if got := complete(root, "output", ""); !slices.Equal(got, outputFormats) {
		t.Errorf("-o completes %q, want %q", got, outputFormats)
	}
	if got := complete(root, flagMethod, "m"); !slices.Equal(got, []string{"managed-identity"}) {
		t.Errorf("--auth-method m completes %q", got)
	}
	add, _, err := root.Find([]string{"emulator", "fault", "add"})
	if err != nil {
		t.Fatal(err)
	}
	got := complete(add, "action", "")
	for name, kind := range actionKinds {
		alias := false // "tokenendpointdown" beside "token-endpoint-down"
		for other, k := range actionKinds {
			alias = alias || (k == kind && len(other) > len(name))
		}
		if slices.Contains(got, name) == alias {
			t.Errorf("--action: %q offered = %v, want %v (an alias is not offered); got %q", name, alias, !alias, got)
		}
	}
	if !slices.Contains(got, "token-endpoint-down") || slices.Contains(got, "tokenendpointdown") {
		t.Errorf("--action completes %q, want token-endpoint-down and not its alias", got)
	}
}
