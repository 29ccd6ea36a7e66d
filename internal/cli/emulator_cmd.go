package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/emulator"
)

// defaultEmulatorPort is the port "d365 emulator" listens on unless told otherwise: fixed, so the
// printed settings stay valid across restarts.
const defaultEmulatorPort = 8365

// emulatorOptions are the inputs of "d365 emulator" (which runs one).
type emulatorOptions struct {
	IO      *IOStreams
	Context context.Context // its end stops the emulator

	Port          int
	DataDir       string
	EnvFile       string
	Scenario      string
	Schema        string
	Limits        string
	DOPHint       int
	TokenLifetime time.Duration
	Verbose       bool

	// Whether --limits, --token-lifetime and --dop-hint were given: a scenario's own settings
	// hold unless they were.
	LimitsSet, TokenLifetimeSet, DOPHintSet bool
}

// newCmdEmulator returns "d365 emulator" with its subcommands. runF, when not nil, replaces
// emulatorRun (tests).
func newCmdEmulator(f *Factory, runF func(*emulatorOptions) error) *cobra.Command {
	o := &emulatorOptions{IO: f.IOStreams}
	run := runOrDefault(runF, emulatorRun)
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run a local Entra ID + Dataverse Web API emulator until interrupted",
		Long: `Runs the emulator on https://127.0.0.1:PORT until interrupted (Ctrl-C).

It prints export lines for D365_URL, AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET,
AZURE_AUTHORITY_HOST and D365_CA_FILE: every other d365 command, and any program built on
azidentity, then talks to the emulator. With --env-file they also go to a file that a shell can
source; the file appears once the emulator is ready.

The printed secret is a well-known development value that only an emulator accepts.

--scenario loads a YAML file that replaces the default setup (tenants, apps with secrets and
certificates, application users, roles, tables, seed rows, limits, faults); see
examples/scenarios. --schema adds the tables of a schema file (the format of the scenario's
schema section; d365 metadata pull writes one from any environment) and keeps the default
tenant, app and application user, or the scenario's. The subcommands script a running emulator through its admin API, the way
the Azure portal and the Power Platform admin center do by hand; they find it by D365_URL and
trust it through D365_CA_FILE.`,
		Example: `  d365 emulator --env-file .d365.env &
  source .d365.env && d365 whoami
  d365 emulator --scenario examples/scenarios/broken-setup.yaml --limits strict
  d365 emulator --schema tables.yaml
  d365 emulator app create --name contact-sync --env-file app.env`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := o.validate(); err != nil {
				return err
			}
			o.Context = cmd.Context()
			o.LimitsSet = cmd.Flags().Changed("limits")
			o.TokenLifetimeSet = cmd.Flags().Changed("token-lifetime")
			o.DOPHintSet = cmd.Flags().Changed("dop-hint")
			return run(o)
		},
	}
	cmd.Flags().IntVar(&o.Port, "port", defaultEmulatorPort, "TCP port on 127.0.0.1 (0 picks a free one)")
	cmd.Flags().StringVar(&o.DataDir, "data-dir", "", "directory that keeps the emulator's state across restarts (default: in memory)")
	cmd.Flags().StringVar(&o.EnvFile, "env-file", "", "also write the export lines to this file, once the emulator is ready")
	cmd.Flags().StringVar(&o.Scenario, "scenario", "", "YAML scenario file with the tenants, apps, users, roles, tables, rows, limits and faults to start with")
	cmd.Flags().StringVar(&o.Schema, "schema", "", "schema file (JSON or YAML, as `d365 metadata pull` writes) whose tables are added to the default setup or the scenario's")
	cmd.Flags().StringVar(&o.Limits, "limits", "default", "service protection limits: default (Dataverse's), off, or strict (reached in seconds)")
	cmd.Flags().IntVar(&o.DOPHint, "dop-hint", emulator.DefaultDOPHint, "x-ms-dop-hint sent on every Web API response, the parallelism advised to clients (0 sends none; default: the limits' own)")
	cmd.Flags().DurationVar(&o.TokenLifetime, "token-lifetime", emulator.DefaultTokenLifetime, "lifetime of issued access tokens, 1s to 24h (a scenario's own when it sets one)")
	cmd.Flags().BoolVarP(&o.Verbose, "verbose", "v", false, "log every request and rejection to stderr")
	cmd.AddCommand(
		newCmdApp(f),
		newCmdAppUser(f),
		newCmdRole(f),
		newCmdBusinessUnit(f),
		newCmdFault(f),
		newCmdLog(f, nil),
		newCmdReset(f, nil),
		newCmdChangeTracking(f, nil),
		newCmdSnapshot(f),
	)
	return cmd
}

// validate checks the flags that need nothing but themselves.
func (o *emulatorOptions) validate() error {
	if o.Port < 0 || o.Port > 65535 {
		return usageError(fmt.Errorf("--port %d is not a TCP port: use 0-65535", o.Port))
	}
	if o.TokenLifetime < time.Second || o.TokenLifetime > 24*time.Hour || o.TokenLifetime%time.Second != 0 {
		return usageError(fmt.Errorf("--token-lifetime %v is out of range: give whole seconds from 1s to 24h, e.g. 1h or 30s", o.TokenLifetime))
	}
	return nil
}

// emulatorRun checks the --env-file directory, the limits and the scenario, starts the emulator,
// prints its settings and runs it until the context ends.
func emulatorRun(o *emulatorOptions) error {
	if o.EnvFile != "" {
		// Fail before starting anything when the file cannot be written.
		if err := checkWritableDir(filepath.Dir(o.EnvFile)); err != nil {
			return usageError(fmt.Errorf("--env-file %s: %w", o.EnvFile, err))
		}
	}
	opts := &emulator.Options{
		Addr:    net.JoinHostPort("127.0.0.1", strconv.Itoa(o.Port)),
		DataDir: o.DataDir,
	}
	if o.TokenLifetimeSet || o.Scenario == "" {
		opts.TokenLifetime = o.TokenLifetime
	}
	if o.LimitsSet || o.Scenario == "" {
		limits, err := emulator.LimitsPreset(o.Limits)
		if err != nil {
			return usageError(fmt.Errorf("--limits %q: use default, off or strict", o.Limits))
		}
		opts.Limits = &limits
	}
	if o.Scenario != "" {
		sc, err := emulator.LoadScenario(o.Scenario)
		if err != nil {
			return usageError(err)
		}
		opts.Scenario = sc
	}
	if o.Schema != "" {
		def, err := emulator.LoadSchema(o.Schema)
		if err != nil {
			return usageError(fmt.Errorf("--schema: %w", err))
		}
		opts.Schema = def
	}
	if o.DOPHintSet {
		limits := emulator.LimitsDefault()
		switch {
		case opts.Limits != nil:
			limits = *opts.Limits
		case opts.Scenario != nil && opts.Scenario.Limits != nil:
			limits = *opts.Scenario.Limits
		}
		limits.DOPHint = o.DOPHint
		if err := limits.Validate(); err != nil {
			return usageError(fmt.Errorf("--dop-hint %d: %w", o.DOPHint, err))
		}
		opts.Limits = &limits
	}
	level := slog.LevelWarn
	if o.Verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(o.IO.ErrOut, &slog.HandlerOptions{Level: level}))

	opts.Logger = logger
	emu, err := emulator.New(opts)
	if err != nil {
		if errors.Is(err, emulator.ErrInvalid) {
			return usageError(err)
		}
		if errors.Is(err, emulator.ErrDataDirInUse) {
			return fmt.Errorf("%w\n  stop the other emulator, or pass another --data-dir", err)
		}
		if errors.Is(err, syscall.EADDRINUSE) {
			return fmt.Errorf("%w\n  another program (perhaps another d365 emulator) listens on port %d: stop it, or pass --port 0 for a free port", err, o.Port)
		}
		return err
	}
	defer emu.Close()

	caFile, cleanup, err := o.caFile(emu)
	if err != nil {
		return err
	}
	defer cleanup()

	exports := exportLines(emu, caFile)
	if _, err := o.IO.Out.Write(exports); err != nil {
		return err
	}
	if o.EnvFile != "" {
		if err := writeEnvFile(o.EnvFile, exports); err != nil {
			return err
		}
		// The settings die with the emulator (its in-memory CA file is deleted too): a stale
		// file would send the next shell that sources it to a port nobody listens on.
		defer os.Remove(o.EnvFile)
	}
	fmt.Fprintf(o.IO.ErrOut, "d365 emulator: listening on %s (tenant %s, app %s, limits %s); Ctrl-C stops it\n",
		emu.URL(), emu.TenantID(), emu.Credentials().ClientID, emu.Limits())
	if o.EnvFile != "" {
		fmt.Fprintf(o.IO.ErrOut, "d365 emulator: settings written to %s; in another shell: source %s\n", o.EnvFile, o.EnvFile)
	}
	if creds := emu.Credentials(); creds.ClientID == "" {
		fmt.Fprintf(o.IO.ErrOut, "d365 emulator: warning: no client ID to print: %s\n", missingCredentialHelp(creds))
	} else if creds.ClientSecret == "" {
		fmt.Fprintf(o.IO.ErrOut, "d365 emulator: warning: no working client secret is known for app %s: %s\n", creds.ClientID, missingCredentialHelp(creds))
	}

	<-o.Context.Done()
	fmt.Fprintln(o.IO.ErrOut, "d365 emulator: stopping")
	return emu.Close()
}

// caFile returns the path of a file holding the emulator's CA certificate: ca.pem in the data
// directory, or a temporary file removed when the emulator stops.
func (o *emulatorOptions) caFile(emu *emulator.Emulator) (path string, cleanup func(), err error) {
	if o.DataDir != "" {
		path, err := filepath.Abs(filepath.Join(o.DataDir, emulator.CACertFile))
		return path, func() {}, err
	}
	dir, err := os.MkdirTemp("", "d365-emulator-")
	if err != nil {
		return "", nil, err
	}
	path = filepath.Join(dir, emulator.CACertFile)
	if err := os.WriteFile(path, emu.CACertPEM(), 0o644); err != nil {
		os.RemoveAll(dir)
		return "", nil, err
	}
	return path, func() { os.RemoveAll(dir) }, nil
}

// exportLines renders the connection settings as POSIX shell export lines. A setting the
// emulator cannot give (no app with a secret; a secret it keeps only hashed, after a restart on a
// data directory) is a comment saying how to get it, never an empty value.
func exportLines(emu *emulator.Emulator, caFile string) []byte {
	creds := emu.Credentials()
	var b bytes.Buffer
	for _, kv := range [][2]string{
		{"D365_URL", emu.OrgURL()},
		{"AZURE_TENANT_ID", creds.TenantID},
		{"AZURE_CLIENT_ID", creds.ClientID},
		{"AZURE_CLIENT_SECRET", creds.ClientSecret},
		{"AZURE_AUTHORITY_HOST", emu.AuthorityHost()},
		{"D365_CA_FILE", caFile},
	} {
		if kv[1] == "" {
			fmt.Fprintf(&b, "# %s is not known: %s\n", kv[0], missingCredentialHelp(creds))
			continue
		}
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	return b.Bytes()
}

// missingCredentialHelp says why the emulator printed no client ID or no secret, and the command
// that makes one.
func missingCredentialHelp(creds emulator.Credentials) string {
	if creds.ClientID == "" {
		return "no app registration with a client secret exists; create one with: d365 emulator app create --name NAME --env-file app.env"
	}
	return "the data directory keeps client secrets hashed, so a restart cannot print one; add one with: d365 emulator app secret add --app " +
		creds.ClientID + " --env-file secret.env"
}

// shellQuote single-quotes s for a POSIX shell when it holds anything but safe characters. A tilde
// is not safe: in an assignment the shell expands ~ after = and :, and Entra secrets contain ~.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:+=,@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// checkWritableDir reports whether a file can be created in dir.
func checkWritableDir(dir string) error {
	f, err := os.CreateTemp(dir, ".d365-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// writeEnvFile writes the export lines readable only by the user (they hold the client secret),
// atomically, so a script waiting for the file never reads half of it.
func writeEnvFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write --env-file: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write --env-file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write --env-file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write --env-file: %w", err)
	}
	return nil
}
