package cli

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/auth"
)

// completionTimeout bounds the metadata request a Tab may send when the cache is stale: a shell
// waiting longer than this feels hung, and no completion is better than a hang.
const completionTimeout = 10 * time.Second

// authMethods are the --auth-method values (auth.Method).
var authMethods = []string{
	string(auth.MethodAuto), string(auth.MethodSecret), string(auth.MethodCertificate),
	string(auth.MethodManagedIdentity), string(auth.MethodWorkloadIdentity), string(auth.MethodAzureCLI),
}

// completer answers dynamic completions from the metadata cache, asking the service when the
// cache is missing or stale.
type completer struct {
	f        *Factory
	cacheDir func() (string, error)
	now      func() time.Time
}

// registerCompletions gives the command tree its dynamic completion: table arguments
// ("<entityset>" or "<table>" first in Use) and --table flags complete entity set names, --select
// and --orderby complete the table's columns, and -o, --auth-method and --action complete their
// values. It walks the finished tree, so commands added later get the same completion.
func registerCompletions(root *cobra.Command, f *Factory) {
	c := &completer{f: f, cacheDir: completionCacheDir, now: time.Now}
	registerFlagCompletion(root, "output", fixedCompletion(outputFormats))
	registerFlagCompletion(root, flagMethod, fixedCompletion(authMethods))
	var walk func(*cobra.Command)
	walk = func(cmd *cobra.Command) {
		if cmd.ValidArgsFunction == nil && takesTableArg(cmd) {
			cmd.ValidArgsFunction = c.completeTableArg
		}
		if cmd.LocalNonPersistentFlags().Lookup("table") != nil {
			registerFlagCompletion(cmd, "table", c.completeTableFlag)
		}
		for _, name := range []string{"select", "orderby"} {
			if cmd.LocalNonPersistentFlags().Lookup(name) != nil && takesTableArg(cmd) {
				registerFlagCompletion(cmd, name, c.completeColumnList)
			}
		}
		if cmd.LocalNonPersistentFlags().Lookup("action") != nil && cmd.Name() == "add" && cmd.Parent() != nil && cmd.Parent().Name() == "fault" {
			registerFlagCompletion(cmd, "action", fixedCompletion(faultActionNames()))
		}
		for _, sub := range cmd.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// registerFlagCompletion registers fn for the flag unless the command has its own already.
func registerFlagCompletion(cmd *cobra.Command, flag string, fn cobra.CompletionFunc) {
	if _, ok := cmd.GetFlagCompletionFunc(flag); ok {
		return
	}
	_ = cmd.RegisterFlagCompletionFunc(flag, fn) // the flag exists: looked up by the caller
}

// takesTableArg reports whether the command's first argument is a table.
func takesTableArg(cmd *cobra.Command) bool {
	fields := strings.Fields(cmd.Use)
	return len(fields) > 1 && (fields[1] == "<entityset>" || fields[1] == "<table>")
}

// faultActionNames are the --action values of "d365 emulator fault add". Of two names for one
// action the longer is offered: the other ("tokenendpointdown") is an accepted alias.
func faultActionNames() []string {
	var names []string
	for name, kind := range actionKinds {
		alias := false
		for other, k := range actionKinds {
			if other != name && k == kind && len(other) > len(name) {
				alias = true
			}
		}
		if !alias {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// fixedCompletion offers the values that start with what was typed.
func fixedCompletion(values []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return withPrefix(values, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// withPrefix keeps the names that start with prefix.
func withPrefix(names []string, prefix string) []string {
	var out []string
	for _, n := range names {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// completeTableArg completes the first argument with entity set names.
func (c *completer) completeTableArg(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return c.completeTableFlag(cmd, args, toComplete)
}

// completeTableFlag completes entity set names.
func (c *completer) completeTableFlag(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	names, err := c.entitySets(cmd.Context())
	if err != nil {
		cobra.CompDebugln("d365: completing a table: "+err.Error(), false)
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return withPrefix(names, toComplete), cobra.ShellCompDirectiveNoFileComp
}

// completeColumnList completes the last item of a comma-separated column list (--select a,b,…)
// with the columns of the table in the first argument.
func (c *completer) completeColumnList(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) == 0 {
		cobra.CompDebugln("d365: completing columns needs the table first", false)
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	names, err := c.columns(cmd.Context(), args[0])
	if err != nil {
		cobra.CompDebugln("d365: completing a column: "+err.Error(), false)
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	done, last := "", toComplete
	if i := strings.LastIndexByte(toComplete, ','); i >= 0 {
		done, last = toComplete[:i+1], toComplete[i+1:]
	}
	already := strings.Split(done, ",")
	var out []string
	for _, n := range withPrefix(names, last) {
		if !slices.Contains(already, n) {
			out = append(out, done+n)
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}

// entitySets returns every table's entity set name, from the cache when fresh.
func (c *completer) entitySets(ctx context.Context) ([]string, error) {
	s, cache, err := c.open()
	if err != nil {
		return nil, err
	}
	if names, ok := cache.entitySets(); ok {
		return names, nil
	}
	ctx, cancel := completionContext(ctx)
	defer cancel()
	tables, err := s.client.ListTables(ctx, nil)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, t := range tables {
		if t.EntitySetName != "" {
			names = append(names, t.EntitySetName)
		}
	}
	slices.Sort(names)
	cache.setEntitySets(names)
	c.save(cache)
	return names, nil
}

// columns returns the properties a $select may name on table (lookups as _<name>_value), from
// the cache when fresh.
func (c *completer) columns(ctx context.Context, table string) ([]string, error) {
	s, cache, err := c.open()
	if err != nil {
		return nil, err
	}
	if names, ok := cache.columns(table); ok {
		return names, nil
	}
	ctx, cancel := completionContext(ctx)
	defer cancel()
	md, err := s.client.TableMetadata(ctx, table)
	if err != nil {
		return nil, err
	}
	var names []string
	for i := range md.Columns {
		if p := md.Columns[i].Property(); p != "" {
			names = append(names, p)
		}
	}
	slices.Sort(names)
	cache.setColumns(names, table, md.EntitySetName, md.LogicalName)
	c.save(cache)
	return names, nil
}

// open connects (nothing is sent) and reads the cache of the organization.
func (c *completer) open() (*session, *completionCache, error) {
	s, err := c.f.Session()
	if err != nil {
		return nil, nil, err
	}
	dir, err := c.cacheDir()
	if err != nil {
		// No cache directory: every Tab asks the service, which still completes.
		cobra.CompDebugln("d365: no metadata cache: "+err.Error(), false)
		dir = ""
	}
	return s, openCompletionCache(dir, s.cfg.OrgURL, c.now), nil
}

// save writes the cache, if it has a directory; a failure only costs a request next time.
func (c *completer) save(cache *completionCache) {
	if cache.path == "" {
		return
	}
	if err := cache.save(); err != nil {
		cobra.CompDebugln("d365: saving the metadata cache: "+err.Error(), false)
	}
}

// completionContext bounds a completion's request by completionTimeout.
func completionContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	return context.WithTimeout(ctx, completionTimeout)
}
