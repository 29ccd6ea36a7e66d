package cli

// Factory is what a command gets from outside itself, in the spirit of cli/cli's
// cmdutil.Factory: the streams, the -o format, and lazy constructors of the clients it talks
// to. A command built as newCmdX(f, runF) copies what it needs from f into its xOptions when it
// runs, so a test can build the command with a Factory of buffers and a runF that captures the
// options: flag parsing and validation are then tested without a process or a server.
type Factory struct {
	IOStreams *IOStreams

	// OutputFormat returns the value of -o (json, jsonl, csv, yaml or table). The root flags are parsed after the
	// commands are built, so it is read when a command runs, not when it is built.
	OutputFormat func() string

	// JQ returns the value of --jq: a jq expression the JSON result passes through before it is
	// printed in the -o format, or "".
	JQ func() string

	// Session reads the connection settings (flags, then environment) and builds the
	// credential and the Dataverse client; nothing is sent yet. Called only by commands that
	// talk to Dataverse, so that settings are checked only when they are needed.
	Session func() (*session, error)

	// AdminClient builds the typed client of a running emulator's admin API from --url and
	// --ca-file (or D365_URL and D365_CA_FILE).
	AdminClient func() (adminClient, error)
}

// newFactory returns the Factory of the d365 process: its streams and the global flags in g.
func newFactory(g *globalOptions) *Factory {
	return &Factory{
		IOStreams:    g.streams,
		OutputFormat: func() string { return g.output },
		JQ:           func() string { return g.jq },
		Session:      g.connect,
		AdminClient:  g.adminClient,
	}
}

// runOrDefault returns runF when a test gave one, else the command's own run function.
func runOrDefault[O any](runF func(*O) error, run func(*O) error) func(*O) error {
	if runF != nil {
		return runF
	}
	return run
}

// callAdmin builds the admin client with newClient and runs call with it, turning its error into
// the command's (see adminClient.adminError).
func callAdmin(newClient func() (adminClient, error), call func(adminClient) error) error {
	c, err := newClient()
	if err != nil {
		return err
	}
	return c.adminError(call(c))
}

// jqExpr returns the --jq expression, or "" when the Factory has no JQ (a test's).
func (f *Factory) jqExpr() string {
	if f.JQ == nil {
		return ""
	}
	return f.JQ()
}
