package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/d365s2s/d365/auth"
)

// adminClient talks to a running emulator's admin API (/_emulator/), found by the organization
// URL (--url, D365_URL) and trusted through its CA (--ca-file, D365_CA_FILE). It needs no app
// credentials: the admin API answers loopback callers only.
type adminClient struct {
	base string // https://127.0.0.1:8365
	http *http.Client
}

// adminClient builds the client from the connection settings.
func (g *globalOptions) adminClient() (*adminClient, error) {
	setting := func(flag, env string) string {
		if p := g.conn.values[flag]; p != nil && *p != "" {
			return *p
		}
		v, _ := g.streams.lookupEnv(env)
		return strings.TrimSpace(v)
	}
	raw := setting(flagOrgURL, auth.EnvOrgURL)
	if raw == "" {
		return nil, usageError(errors.New("no emulator URL: set D365_URL (the emulator prints it) or pass --url https://127.0.0.1:8365"))
	}
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || u.Scheme != "https" || u.Host == "" {
		return nil, usageError(fmt.Errorf("emulator URL %q is not an https URL such as https://127.0.0.1:8365", raw))
	}
	httpClient, err := auth.Config{OrgURL: raw, CAFile: setting(flagCAFile, auth.EnvCAFile)}.HTTPClient()
	if err != nil {
		return nil, usageError(err)
	}
	return &adminClient{base: u.Scheme + "://" + u.Host, http: httpClient}, nil
}

// adminAPIError is an error answer of the admin API.
type adminAPIError struct {
	Status  int
	Code    string
	Message string
}

func (e *adminAPIError) Error() string {
	return fmt.Sprintf("emulator admin API: %d %s: %s", e.Status, e.Code, e.Message)
}

// do sends a JSON request to /_emulator/<path> and returns the raw JSON answer (nil for 204).
// An error answer becomes *adminAPIError inside an exit error: bad input exits with ExitUsage,
// the rest with ExitService.
func (c *adminClient) do(ctx context.Context, method, path string, body any) (json.RawMessage, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+"/_emulator/"+path, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.explainTransport(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("read the emulator's answer: %w", err)
	}
	if resp.StatusCode >= 400 {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
			} `json:"error"`
		}
		apiErr := &adminAPIError{Status: resp.StatusCode, Code: http.StatusText(resp.StatusCode), Message: strings.TrimSpace(string(data))}
		if json.Unmarshal(data, &e) == nil && e.Error.Message != "" {
			apiErr.Code, apiErr.Message = e.Error.Code, e.Error.Message
		}
		code := ExitService
		if resp.StatusCode == http.StatusBadRequest {
			code = ExitUsage
		}
		return nil, &exitError{code: code, err: apiErr}
	}
	if resp.StatusCode == http.StatusNoContent || len(bytes.TrimSpace(data)) == 0 {
		return nil, nil
	}
	return json.RawMessage(data), nil
}

// explainTransport says what to check when the emulator cannot be reached.
func (c *adminClient) explainTransport(err error) error {
	var unknownAuthority x509.UnknownAuthorityError
	if errors.As(err, &unknownAuthority) {
		return usageError(fmt.Errorf("the emulator at %s presented a certificate this machine does not trust: set D365_CA_FILE (or --ca-file) to the emulator's ca.pem, as d365 emulator prints it", c.base))
	}
	if errors.Is(err, context.Canceled) {
		return err
	}
	return fmt.Errorf("cannot reach the emulator's admin API at %s: %w; is `d365 emulator` running, and is D365_URL its URL?", c.base, err)
}

// printAdmin writes an admin answer: JSON as it came (indented), or a table of the given columns
// (with their JSON paths) for -o table. A list prints one row per element.
func (g *globalOptions) printAdmin(raw json.RawMessage, columns []tableColumn) error {
	if g.output != outputTable {
		return writeJSON(g.streams.Out, raw)
	}
	var items []json.RawMessage
	if trimmed := bytes.TrimSpace(raw); len(trimmed) > 0 && trimmed[0] == '[' {
		if err := json.Unmarshal(raw, &items); err != nil {
			return err
		}
	} else {
		items = []json.RawMessage{raw}
	}
	records := make([]orderedObject, 0, len(items))
	names := make([]string, len(columns))
	for i, c := range columns {
		names[i] = c.name
	}
	for _, item := range items {
		var v any
		if err := json.Unmarshal(item, &v); err != nil {
			return err
		}
		rec := make(orderedObject, 0, len(columns))
		for _, c := range columns {
			rec = append(rec, field{Key: c.name, Value: jsonAt(v, c.path)})
		}
		records = append(records, rec)
	}
	return writeTable(g.streams.Out, records, names)
}

// tableColumn is a column of an admin table: its header and the dotted JSON path of its value.
type tableColumn struct{ name, path string }

// jsonAt returns the JSON value at a dotted path ("secret.value"), lists joined by commas.
func jsonAt(v any, path string) json.RawMessage {
	for _, key := range strings.Split(path, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[key]
	}
	if list, ok := v.([]any); ok {
		parts := make([]string, 0, len(list))
		for _, item := range list {
			if s, ok := item.(string); ok {
				parts = append(parts, s)
			} else if m, ok := item.(map[string]any); ok && m["name"] != nil {
				parts = append(parts, fmt.Sprint(m["name"]))
			} else {
				b, _ := json.Marshal(item)
				parts = append(parts, string(b))
			}
		}
		v = strings.Join(parts, ",")
	}
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}
