package cli

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/emulator"
)

// defaultEmulatorPort is the port "d365 emulator" listens on unless told otherwise: fixed, so the
// printed settings stay valid across restarts.
const defaultEmulatorPort = 8365

type emulatorOptions struct {
	*globalOptions
	port          int
	dataDir       string
	envFile       string
	tokenLifetime time.Duration
	verbose       bool
}

func newEmulatorCmd(g *globalOptions) *cobra.Command {
	o := &emulatorOptions{globalOptions: g}
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run a local Entra ID + Dataverse Web API emulator until interrupted",
		Long: `Runs the emulator on https://127.0.0.1:PORT until interrupted (Ctrl-C).

It prints export lines for D365_URL, AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET,
AZURE_AUTHORITY_HOST and D365_CA_FILE: every other d365 command, and any program built on
azidentity, then talks to the emulator. With --env-file they also go to a file that a shell can
source; the file appears once the emulator is ready.

The printed secret is a well-known development value that only an emulator accepts.`,
		Example: `  d365 emulator --env-file .d365.env &
  source .d365.env && d365 whoami`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return o.run(cmd) },
	}
	cmd.Flags().IntVar(&o.port, "port", defaultEmulatorPort, "TCP port on 127.0.0.1 (0 picks a free one)")
	cmd.Flags().StringVar(&o.dataDir, "data-dir", "", "directory that keeps the emulator's state across restarts (default: in memory)")
	cmd.Flags().StringVar(&o.envFile, "env-file", "", "also write the export lines to this file, once the emulator is ready")
	cmd.Flags().DurationVar(&o.tokenLifetime, "token-lifetime", emulator.DefaultTokenLifetime, "lifetime of issued access tokens")
	cmd.Flags().BoolVarP(&o.verbose, "verbose", "v", false, "log every request and rejection to stderr")
	return cmd
}

func (o *emulatorOptions) run(cmd *cobra.Command) error {
	if o.port < 0 || o.port > 65535 {
		return usageError(fmt.Errorf("--port %d is not a TCP port: use 0-65535", o.port))
	}
	if o.tokenLifetime <= 0 {
		return usageError(fmt.Errorf("--token-lifetime %v must be positive, e.g. 1h or 30s", o.tokenLifetime))
	}
	level := slog.LevelWarn
	if o.verbose {
		level = slog.LevelInfo
	}
	logger := slog.New(slog.NewTextHandler(o.streams.ErrOut, &slog.HandlerOptions{Level: level}))

	emu, err := emulator.New(&emulator.Options{
		Addr:          net.JoinHostPort("127.0.0.1", strconv.Itoa(o.port)),
		DataDir:       o.dataDir,
		TokenLifetime: o.tokenLifetime,
		Logger:        logger,
	})
	if err != nil {
		return err
	}
	defer emu.Close()

	caFile, cleanup, err := o.caFile(emu)
	if err != nil {
		return err
	}
	defer cleanup()

	exports := exportLines(emu, caFile)
	if _, err := o.streams.Out.Write(exports); err != nil {
		return err
	}
	if o.envFile != "" {
		if err := writeEnvFile(o.envFile, exports); err != nil {
			return err
		}
	}
	fmt.Fprintf(o.streams.ErrOut, "d365 emulator: listening on %s (tenant %s, app %s); Ctrl-C stops it\n",
		emu.URL(), emu.TenantID(), emu.Credentials().ClientID)
	if o.envFile != "" {
		fmt.Fprintf(o.streams.ErrOut, "d365 emulator: settings written to %s; in another shell: source %s\n", o.envFile, o.envFile)
	}

	<-cmd.Context().Done()
	fmt.Fprintln(o.streams.ErrOut, "d365 emulator: stopping")
	return emu.Close()
}

// caFile returns the path of a file holding the emulator's CA certificate: ca.pem in the data
// directory, or a temporary file removed when the emulator stops.
func (o *emulatorOptions) caFile(emu *emulator.Emulator) (path string, cleanup func(), err error) {
	if o.dataDir != "" {
		path, err := filepath.Abs(filepath.Join(o.dataDir, emulator.CACertFile))
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

// exportLines renders the connection settings as POSIX shell export lines.
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
		fmt.Fprintf(&b, "export %s=%s\n", kv[0], shellQuote(kv[1]))
	}
	return b.Bytes()
}

// shellQuote single-quotes s for a POSIX shell when it holds anything but safe characters.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:~+=,@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
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
