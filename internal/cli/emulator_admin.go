package cli

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/auth"
	"github.com/d365s2s/d365/emulator/adminclient"
)

// adminClient is a typed client of a running emulator's admin API (/_emulator/), found by the
// organization URL (--url, D365_URL) and trusted through its CA (--ca-file, D365_CA_FILE). It
// needs no app credentials: the admin API answers loopback callers only. Its errors are the
// command's: see adminError.
type adminClient struct {
	*adminclient.Client
}

// adminClient builds the client from the connection settings.
func (g *globalOptions) adminClient() (adminClient, error) {
	setting := func(flag, env string) string {
		if p := g.conn.values[flag]; p != nil && *p != "" {
			return *p
		}
		v, _ := g.streams.lookupEnv(env)
		return strings.TrimSpace(v)
	}
	raw := setting(flagOrgURL, auth.EnvOrgURL)
	if raw == "" {
		return adminClient{}, usageError(errors.New("no emulator URL: set D365_URL (the emulator prints it) or pass --url https://127.0.0.1:8365"))
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return adminClient{}, usageError(fmt.Errorf("emulator URL %q is not an https URL such as https://127.0.0.1:8365", raw))
	}
	httpClient, err := auth.Config{OrgURL: raw, CAFile: setting(flagCAFile, auth.EnvCAFile)}.HTTPClient()
	if err != nil {
		return adminClient{}, usageError(err)
	}
	c, err := adminclient.New(u.Scheme+"://"+u.Host, httpClient)
	if err != nil {
		return adminClient{}, usageError(err)
	}
	return adminClient{c}, nil
}

// adminError turns an admin call's error into the command's: an answer of the emulator exits
// with ExitUsage for bad input (400) and ExitService for the rest; a transport failure says what
// to check.
func (c adminClient) adminError(err error) error {
	if err == nil {
		return nil
	}
	var apiErr *adminclient.Error
	if errors.As(err, &apiErr) {
		code := ExitService
		if apiErr.StatusCode == http.StatusBadRequest {
			code = ExitUsage
		}
		return &exitError{code: code, err: apiErr}
	}
	var transport *url.Error // what http.Client.Do returns
	if !errors.As(err, &transport) {
		return err
	}
	var unknownAuthority x509.UnknownAuthorityError
	if errors.As(err, &unknownAuthority) {
		return usageError(fmt.Errorf("the emulator at %s presented a certificate this machine does not trust: set D365_CA_FILE (or --ca-file) to the emulator's ca.pem, as d365 emulator prints it", c.BaseURL()))
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("cannot reach the emulator's admin API at %s: %w; is `d365 emulator` running, and is D365_URL its URL?", c.BaseURL(), err)
}

// adminIO is what the options of every emulator admin command hold besides their flags: the
// streams, the admin client's constructor and, once the command runs, its context and -o.
type adminIO struct {
	IO          *IOStreams
	AdminClient func() (adminClient, error)
	Context     context.Context
	Output      string
}

// newAdminIO takes the streams and the admin client's constructor from f.
func newAdminIO(f *Factory) adminIO {
	return adminIO{IO: f.IOStreams, AdminClient: f.AdminClient}
}

// start records what is known only once cmd runs: its context and the -o format.
func (a *adminIO) start(cmd *cobra.Command, f *Factory) {
	a.Context, a.Output = cmd.Context(), f.OutputFormat()
}

// call builds the admin client and runs fn with it, turning its error into the command's.
func (a *adminIO) call(fn func(adminClient) error) error {
	return callAdmin(a.AdminClient, fn)
}

// adminColumn is a column of an admin table: its header and the value of a row's cell.
type adminColumn[T any] struct {
	name  string
	value func(T) any
}

// printAdminItem writes one admin answer: its JSON, or a one-row table of columns for -o table.
func printAdminItem[T any](streams *IOStreams, output string, item T, columns []adminColumn[T]) error {
	if output != outputTable {
		return printAdminValue(streams, output, item)
	}
	return writeAdminTable(streams, []T{item}, columns)
}

// printAdminList writes a list answer: its JSON, or a table with a row per element.
func printAdminList[T any](streams *IOStreams, output string, items []T, columns []adminColumn[T]) error {
	if output != outputTable {
		return printAdminValue(streams, output, items)
	}
	return writeAdminTable(streams, items, columns)
}

// printAdminValue writes an admin answer in the -o format other than table: JSON as
// printAdminJSON writes it, else through the printer (jsonl, csv, yaml).
func printAdminValue(streams *IOStreams, output string, v any) error {
	if output == outputJSON {
		return printAdminJSON(streams, v)
	}
	return printer{IO: streams, Format: output}.printValue(context.Background(), v)
}

// printAdminJSON writes v as the admin API writes it (json.Marshal's encoding and a newline),
// indented. The newline is kept, so the output ends in a blank line as it always has.
func printAdminJSON(streams *IOStreams, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeJSON(streams.Out, json.RawMessage(append(raw, '\n')))
}

func writeAdminTable[T any](streams *IOStreams, items []T, columns []adminColumn[T]) error {
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
	}
	records := make([]orderedObject, 0, len(items))
	for _, item := range items {
		rec := make(orderedObject, 0, len(columns))
		for _, c := range columns {
			rec = append(rec, field{Key: c.name, Value: adminCell(c.value(item))})
		}
		records = append(records, rec)
	}
	return writeTable(streams.Out, records, names)
}

// adminCell encodes a cell's value; nil is an empty cell.
func adminCell(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}

// orNil returns nil for the zero value (a field the admin API omits when empty).
func orNil[T comparable](v T) any {
	var zero T
	if v == zero {
		return nil
	}
	return v
}

// joined writes a list cell: the elements joined by commas.
func joined(list []string) string { return strings.Join(list, ",") }
