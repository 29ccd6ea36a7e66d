package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/auth"
)

// doctorOptions are the inputs of "d365 doctor".
type doctorOptions struct {
	IO      *IOStreams
	Context context.Context
	Table   string

	// Settings reads and checks the connection settings (Factory.Settings).
	Settings func() (auth.Config, error)
	// HTTPClient builds the HTTP client of a Config (Factory.HTTPClient): the CA file, --debug.
	HTTPClient func(auth.Config) (*http.Client, error)
}

// newCmdDoctor returns "d365 doctor". runF, when not nil, replaces doctorRun (tests).
func newCmdDoctor(f *Factory, runF func(*doctorOptions) error) *cobra.Command {
	opts := &doctorOptions{IO: f.IOStreams, Settings: f.Settings, HTTPClient: f.HTTPClient}
	run := runOrDefault(runF, doctorRun)
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check a connection step by step and say how to fix the first thing wrong",
		Long: `Checks, in order, and prints ✓ or ✗ with the fix for each step:

  settings    present and well-formed (flags, connection string, environment, profile)
  network     DNS, TCP and TLS to the environment and to Entra ID, and the CA that signs them
  discovery   Entra ID's OpenID configuration for the tenant
  token       a new access token (never one from the token cache)
  claims      audience, tenant, app and roles of the token
  whoami      WhoAmI: Dataverse knows the app as an application user
  user        the application user is enabled, with its business unit and roles
  privileges  with --table: the privileges the user's roles grant on that table

It stops at the first failing step and exits with that step's code: 2 for settings, 1 for the
network, 3 for Entra ID (discovery, token, claims), 4 for Dataverse (whoami, user, privileges).
The token itself is never printed.`,
		Example: `  d365 doctor
  d365 doctor --table contacts
  d365 --profile prod doctor --table account`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.Context = cmd.Context()
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Table, "table", "", "also check the privileges on this table (logical or entity set name)")
	return cmd
}

// doctorStep is one line of the report.
type doctorStep struct {
	name   string
	ok     bool
	detail string // what was found (✓) or what is wrong (✗)
	fix    string // how to fix it (✗)
	code   int    // the exit code of a failure
}

// errDoctorFailed is returned after the report when a step failed; the report said why.
type doctorFailed struct {
	step doctorStep
}

func (e *doctorFailed) Error() string {
	return fmt.Sprintf("doctor: the %s check failed (see above)", e.step.name)
}

// doctorRun runs the checks in order and prints each as it finishes.
func doctorRun(opts *doctorOptions) error {
	d := &doctor{opts: opts, out: opts.IO.Out}
	steps := []struct {
		name string
		run  func(context.Context) doctorStep
	}{
		{"settings", d.checkSettings},
		{"network", d.checkNetwork},
		{"discovery", d.checkDiscovery},
		{"token", d.checkToken},
		{"claims", d.checkClaims},
		{"whoami", d.checkWhoAmI},
		{"user", d.checkUser},
		{"privileges", d.checkPrivileges},
	}
	var failed *doctorStep
	for _, s := range steps {
		if failed != nil {
			fmt.Fprintf(d.out, "- %-10s skipped\n", s.name)
			continue
		}
		r := s.run(opts.Context)
		r.name = s.name
		d.print(r)
		if !r.ok {
			failed = &r
		}
	}
	if failed != nil {
		return &exitError{code: failed.code, err: &doctorFailed{step: *failed}}
	}
	return nil
}

// print writes one step: "✓ name  detail" or "✗ name  detail" and "  fix: …".
func (d *doctor) print(r doctorStep) {
	mark := "✓"
	if !r.ok {
		mark = "✗"
	}
	if r.detail == "" && r.ok {
		r.detail = "ok"
	}
	fmt.Fprintf(d.out, "%s %-10s %s\n", mark, r.name, strings.ReplaceAll(r.detail, "\n", "\n             "))
	if !r.ok && r.fix != "" {
		fmt.Fprintf(d.out, "  fix: %s\n", r.fix)
	}
}

func pass(detail string) doctorStep { return doctorStep{ok: true, detail: detail} }

func fail(code int, detail, fix string) doctorStep {
	return doctorStep{ok: false, detail: detail, fix: fix, code: code}
}

// skip is a step that does not apply (an optional one without its input): shown as passed.
func skip(why string) doctorStep { return doctorStep{ok: true, detail: "skipped: " + why} }

// failFrom reports err as a failure with the fix auth or dataverse knows, the exit code the
// command would have had.
func failFrom(err error, fallbackFix string) doctorStep {
	err = explain(err)
	code := exitCode(err)
	var ee *auth.EntraError
	var xe *auth.ExplainedError
	switch {
	case errors.As(err, &ee) && ee.Fix != "":
		return fail(code, fmt.Sprintf("AADSTS%d: %s", ee.Code, firstNonEmpty(ee.Explanation, ee.Description)), ee.Fix)
	case errors.As(err, &xe) && xe.Fix != "":
		return fail(code, xe.Explanation, withFlagNames(errors.New(xe.Fix)).Error())
	}
	return fail(code, err.Error(), fallbackFix)
}

// drain reads and closes a response body so that the connection is reused.
func drain(body io.ReadCloser) {
	_, _ = io.Copy(io.Discard, io.LimitReader(body, 1<<20))
	body.Close()
}
