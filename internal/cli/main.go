package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/spf13/cobra"
)

// Main runs the d365 command with args (without the program name) and returns the exit code.
// Ctrl-C or SIGTERM cancels the command's context.
func Main(args []string, streams *IOStreams) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, streams)
}

// run is Main without the signal handling, for tests.
func run(ctx context.Context, args []string, streams *IOStreams) int {
	g := &globalOptions{streams: streams}
	root := newRootCmd(g)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if g.cancel != nil {
		g.cancel()
	}
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil && errors.Is(err, context.Canceled) {
		fmt.Fprintln(streams.ErrOut, "d365: interrupted")
		return ExitInterrupted
	}
	err = g.timeoutError(err)
	if strings.HasPrefix(err.Error(), "unknown command ") {
		err = usageError(err) // cobra has no error type for it
	}
	if g.session != nil {
		err = g.session.explain(err)
	}
	fmt.Fprintln(streams.ErrOut, "d365: "+explain(err).Error())
	return exitCode(err)
}

// globalOptions are the flags every command shares.
type globalOptions struct {
	streams *IOStreams
	conn    connectionFlags
	output  string
	jq      string
	session *session // set once a command connects, to explain its errors

	profile      string        // --profile
	connString   string        // --connection-string
	debug        bool          // --debug: HTTP trace on stderr
	trace        *debugTrace   // where --debug's transports write (debugTrace)
	timeout      time.Duration // --timeout: 0 means none
	noTokenCache bool          // --no-token-cache

	// newPersistentCache opens azidentity's persistent cache; nil means newPersistentCache
	// (tests make it fail to exercise the file cache).
	newPersistentCache func(name string) (azidentity.Cache, error)

	ctx    context.Context    // the running command's, with --timeout applied
	cancel context.CancelFunc // releases --timeout's timer
}

func newRootCmd(g *globalOptions) *cobra.Command {
	streams := g.streams
	root := &cobra.Command{
		Use:   "d365",
		Short: "Server-to-server access to Microsoft Dynamics 365 / Dataverse, and a local emulator",
		Long: `d365 gets access tokens from Microsoft Entra ID with the client-credentials grant and calls the
Dataverse Web API with them. "d365 emulator" runs a local Entra ID + Dataverse to try it all offline;
"d365 demo" walks through the four steps of a server-to-server integration against one.

Connection settings come from flags, a connection string, the environment or a saved profile:
see "d365 help environment" for the flags and variables every command accepts, and
"d365 profile --help" to save a connection. "d365 doctor" checks a connection step by step.`,
		Version:       versionString(),
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	// Checked before any command runs, so that no command acts (creates a record, say) and only
	// then finds it cannot print the result.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		g.startContext(cmd)
		return g.checkOutput(cmd)
	}
	root.PersistentFlags().StringVarP(&g.output, "output", "o", "json", "output format: json, jsonl, csv, yaml or table")
	root.PersistentFlags().StringVar(&g.jq, "jq", "", "filter the JSON result with a jq expression (gojq) before printing it")
	g.conn.register(root.PersistentFlags())
	g.registerRootFlags(root)

	f := newFactory(g)
	root.AddCommand(
		newCmdEmulator(f, nil),
		newCmdToken(f, nil),
		newCmdWhoAmI(f, nil),
		newCmdGet(f, nil),
		newCmdCreate(f, nil),
		newCmdUpdate(f, nil),
		newCmdDelete(f, nil),
		newCmdImport(f, nil),
		newCmdDemo(f, nil),
		newCmdExport(f, nil),
		newCmdMetadata(f),
		newCmdAPI(f, nil),
		newCmdUpsert(f, nil),
		newCmdFetch(f, nil),
		newCmdBatch(f, nil),
		newCmdTables(f, nil),
		newCmdColumns(f, nil),
		newCmdKeys(f, nil),
		newCmdRelationships(f, nil),
		newCmdFile(f, nil),
		newCmdSync(f, nil),
		newCmdProfile(f, g, nil),
		newCmdDoctor(f, nil),
		newCmdVersion(f),
		newHelpEnvironment(),
	)
	registerCompletions(root, f)
	return root
}

// exactArgs is cobra.ExactArgs with usage-error classification and a message that names the
// expected arguments.
func exactArgs(n int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageError(fmt.Errorf("%s needs %s (got %d argument(s)); see %q", cmd.CommandPath(), names, len(args), cmd.CommandPath()+" --help"))
		}
		return nil
	}
}

// rangeArgs is cobra.RangeArgs with usage-error classification.
func rangeArgs(lo, hi int, names string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usageError(fmt.Errorf("%s takes %s (got %d argument(s)); see %q", cmd.CommandPath(), names, len(args), cmd.CommandPath()+" --help"))
		}
		return nil
	}
}
