package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/auth"
)

// tokenOptions are the inputs of "d365 token".
type tokenOptions struct {
	IO      *IOStreams
	Session func() (*session, error)
	Context context.Context
	Decode  bool
	Output  string // -o, for --decode
	JQ      string // --jq, for --decode
}

// newCmdToken returns "d365 token". runF, when not nil, replaces tokenRun (tests).
func newCmdToken(f *Factory, runF func(*tokenOptions) error) *cobra.Command {
	opts := &tokenOptions{IO: f.IOStreams, Session: f.Session}
	run := runOrDefault(runF, tokenRun)
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print an access token for the organization (or its claims with --decode)",
		Long: `Gets an access token with the client-credentials grant for the scope <org URL>/.default and
prints it on stdout. This is the only d365 command that prints a token: treat its output as a
secret. --decode prints the token's claims instead, as the JSON payload Entra signed (audience, issuer,
app, tenant, times in epoch seconds), which is safe to share.`,
		Example: `  curl -H "Authorization: Bearer $(d365 token)" "$D365_URL/api/data/v9.2/WhoAmI"
  d365 token --decode`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Context, opts.Output, opts.JQ = cmd.Context(), f.OutputFormat(), f.jqExpr()
			return run(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.Decode, "decode", false, "print the token's claims as JSON instead of the token")
	return withJQ(cmd)
}

// tokenRun gets a token and prints it, or its claims with --decode.
func tokenRun(opts *tokenOptions) error {
	if opts.JQ != "" && !opts.Decode {
		return usageError(errors.New("--jq applies to the claims: add --decode"))
	}
	s, err := opts.Session()
	if err != nil {
		return err
	}
	tok, err := s.token(opts.Context)
	if err != nil {
		return err
	}
	if !opts.Decode {
		_, err := fmt.Fprintln(opts.IO.Out, tok.Token)
		return err
	}
	claims, err := auth.DecodeClaims(tok.Token)
	if err != nil {
		return err
	}
	// The payload exactly as Entra wrote it (aud a string, times as epoch seconds, every
	// claim), not our typed view of it.
	return printer{IO: opts.IO, Format: opts.Output, JQ: opts.JQ}.printValue(opts.Context, claims.Raw)
}

// tokenRequest asks for an app-only token for the organization: the scope is always
// <org URL>/.default (AADSTS1002012 otherwise).
func tokenRequest(cfg auth.Config) policy.TokenRequestOptions {
	return policy.TokenRequestOptions{Scopes: []string{cfg.Scope()}}
}
