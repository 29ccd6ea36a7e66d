package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

// The global flags beyond the connection settings (connectionFlagTable) and -o.
const (
	flagProfile          = "profile"
	flagConnectionString = "connection-string"
	flagDebug            = "debug"
	flagTimeout          = "timeout"
	flagNoTokenCache     = "no-token-cache"
)

// registerRootFlags adds the global flags --profile, --connection-string, --debug, --timeout
// and --no-token-cache, and hides the connection flags from every command's help: they are
// listed once, by "d365 help environment", and still accepted everywhere.
func (g *globalOptions) registerRootFlags(root *cobra.Command) {
	fs := root.PersistentFlags()
	fs.StringVar(&g.profile, flagProfile, "", "saved connection profile to use (env "+EnvProfile+")")
	fs.StringVar(&g.connString, flagConnectionString, "", "Power Platform connection string, AuthType=ClientSecret;Url=…;ClientId=…;ClientSecret=… (env "+EnvConnectionString+"; prefer the variable: a flag is visible in the process list)")
	fs.BoolVar(&g.debug, flagDebug, false, "trace every HTTP request and response on stderr, credentials redacted")
	fs.DurationVar(&g.timeout, flagTimeout, 0, "give up after this long, e.g. 30s or 2m (0: no limit)")
	fs.BoolVar(&g.noTokenCache, flagNoTokenCache, false, "neither reuse nor store access tokens between invocations")
	for _, f := range connectionFlagTable {
		_ = fs.MarkHidden(f.name)
	}
	for _, name := range []string{flagProfile, flagConnectionString, flagNoTokenCache} {
		_ = fs.MarkHidden(name)
	}
	root.SetVersionTemplate("{{.Name}} {{.Version}}\n")
}

// startContext applies --timeout to the running command's context.
func (g *globalOptions) startContext(cmd *cobra.Command) {
	ctx := cmd.Context()
	if ctx == nil {
		ctx = context.Background()
	}
	if g.timeout > 0 {
		ctx, g.cancel = context.WithTimeout(ctx, g.timeout)
		cmd.SetContext(ctx)
	}
	g.ctx = ctx
}

// timeoutError says that --timeout ran out, when that is why the command failed.
func (g *globalOptions) timeoutError(err error) error {
	if g.timeout > 0 && g.ctx != nil && errors.Is(g.ctx.Err(), context.DeadlineExceeded) && errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("gave up after --timeout %s: %w", g.timeout, err)
	}
	return err
}
