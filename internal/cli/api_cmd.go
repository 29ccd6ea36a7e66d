package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/dataverse"
)

// apiOptions are the inputs of "d365 api".
type apiOptions struct {
	IO      *IOStreams
	Session func() (*session, error)
	Context context.Context
	Output  string
	JQ      string

	Method   string
	Path     string
	Data     string      // --data: the body, @FILE or - for stdin; "" for none
	Header   http.Header // --header k:v
	Paginate bool
	Include  bool
}

// apiMethods are the HTTP methods "d365 api" sends.
var apiMethods = []string{http.MethodGet, http.MethodPost, http.MethodPatch, http.MethodPut, http.MethodDelete}

// newCmdAPI returns "d365 api". runF, when not nil, replaces apiRun (tests).
func newCmdAPI(f *Factory, runF func(*apiOptions) error) *cobra.Command {
	opts := &apiOptions{IO: f.IOStreams, Session: f.Session}
	run := runOrDefault(runF, apiRun)
	var headers []string
	cmd := &cobra.Command{
		Use:   "api [METHOD] <path>",
		Short: "Send any Web API request relative to the service root and print the response",
		Long: `Sends a request to the Dataverse Web API with the connection's token, like "gh api" or
"az rest": the path is relative to the service root (<org>/api/data/v9.2/), e.g. $metadata,
EntityDefinitions(LogicalName='contact'), WhoAmI, an action such as WinOpportunity, or $batch.
The method is GET, or POST when --data is given; name it first to choose another.

--data takes the body itself, @FILE or - (stdin); it must be JSON unless --header sets another
Content-Type (a $batch body is multipart/mixed; its line ends are sent as CRLF, as $batch
requires). Spaces in the path are sent as %20; anything else must already be URL-encoded. A path
from the organization's root (/api/data/v9.2/…) or a full URL is accepted when it is below the
connection's Web API base.

A JSON response is printed in the -o format and through --jq; any other body (the CSDL of
$metadata, a $batch response) is copied as it is. --paginate follows @odata.nextLink and prints one
collection holding every page's "value". --include prints the status line and the response headers
on stderr. A status outside 2xx prints Dataverse's error and exits with 4.`,
		Example: `  d365 api WhoAmI
  d365 api 'EntityDefinitions(LogicalName='\''contact'\'')?$select=PrimaryIdAttribute,PrimaryNameAttribute'
  d365 api '$metadata' > metadata.xml
  d365 api POST contacts --data '{"firstname":"Ada"}' --include
  d365 api PATCH 'contacts(00000000-0000-0000-0000-000000000001)' --data @changes.json
  d365 api 'contacts?$select=fullname' --header 'Prefer: odata.maxpagesize=500' --paginate --jq '.value | length'
  d365 api POST '$batch' --header 'Content-Type: multipart/mixed; boundary=batch_1' --data @batch.txt`,
		Args: rangeArgs(1, 2, "an optional method and a path"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context, opts.Output, opts.JQ = cmd.Context(), f.OutputFormat(), f.jqExpr()
			if err := opts.parse(args, headers); err != nil {
				return err
			}
			return run(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Data, "data", "", "the request body: JSON, @FILE, or - for stdin")
	cmd.Flags().StringArrayVarP(&headers, "header", "H", nil, `a request header "Name: value"; repeatable`)
	cmd.Flags().BoolVar(&opts.Paginate, "paginate", false, "follow @odata.nextLink and merge every page's value (GET)")
	cmd.Flags().BoolVarP(&opts.Include, "include", "i", false, "print the status line and response headers on stderr")
	return withJQ(cmd)
}

// parse reads the arguments and --header flags into o, refusing what cannot be sent.
func (o *apiOptions) parse(args, headers []string) error {
	o.Method, o.Path = "", args[len(args)-1]
	if len(args) == 2 {
		o.Method = strings.ToUpper(args[0])
		if !slices.Contains(apiMethods, o.Method) {
			return usageError(fmt.Errorf("%q is not a method d365 api sends: use %s", args[0], strings.Join(apiMethods, ", ")))
		}
	} else if o.Data != "" {
		o.Method = http.MethodPost
	} else {
		o.Method = http.MethodGet
	}
	o.Path = strings.ReplaceAll(strings.TrimSpace(o.Path), " ", "%20")
	if o.Path == "" {
		return usageError(errors.New("the path is empty: give one relative to the service root, e.g. WhoAmI or contacts?$top=1"))
	}
	o.Header = http.Header{}
	for _, h := range headers {
		name, value, ok := strings.Cut(h, ":")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			return usageError(fmt.Errorf("--header %q is not \"Name: value\"", h))
		}
		if strings.EqualFold(name, "Authorization") {
			return usageError(errors.New("--header Authorization: d365 sends the connection's own token; drop the header"))
		}
		o.Header.Add(name, strings.TrimSpace(value))
	}
	if o.Paginate && o.Method != http.MethodGet {
		return usageError(fmt.Errorf("--paginate follows the pages of a GET, not of a %s", o.Method))
	}
	if o.Data != "" && (o.Method == http.MethodGet || o.Method == http.MethodDelete) {
		return usageError(fmt.Errorf("a %s has no body: drop --data or name the method (POST, PATCH, PUT)", o.Method))
	}
	return nil
}

// apiRun sends the request and prints the response.
func apiRun(opts *apiOptions) error {
	var body io.Reader
	contentType := opts.Header.Get("Content-Type")
	if opts.Data != "" {
		data, where, err := readDataFlag(opts.IO.In, opts.Data)
		if err != nil {
			return err
		}
		if contentType == "" || isJSONMediaType(contentType) {
			if !json.Valid(data) {
				return usageError(fmt.Errorf("%s is not valid JSON (set --header 'Content-Type: …' to send another format)", where))
			}
		}
		if strings.HasPrefix(strings.ToLower(contentType), "multipart/") {
			data = toCRLF(data)
		}
		body = bytes.NewReader(data)
	}
	s, err := opts.Session()
	if err != nil {
		return err
	}
	path := opts.Path
	if strings.HasPrefix(path, "/api/data/") {
		// A path copied from a URL or the docs, from the organization's root: made absolute, it
		// is accepted when it is below the client's Web API base (the same version).
		path = strings.TrimSuffix(s.client.OrgURL(), "/") + path
	}
	header := opts.Header.Clone()
	header.Del("Content-Type") // sent as DoOptions.ContentType
	do := &dataverse.DoOptions{ContentType: contentType, RequestOptions: dataverse.RequestOptions{Header: header}}
	resp, err := s.client.Do(opts.Context, opts.Method, path, body, do)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if opts.Include {
		writeResponseHead(opts.IO.ErrOut, resp)
	}
	p := printer{IO: opts.IO, Format: opts.Output, JQ: opts.JQ}
	if !isJSONMediaType(resp.Header.Get("Content-Type")) {
		if p.JQ != "" || p.Format != outputJSON {
			return fmt.Errorf("the response is %s, not JSON: -o and --jq apply to JSON responses only", resp.Header.Get("Content-Type"))
		}
		bw := bufio.NewWriter(opts.IO.Out)
		if _, err := io.Copy(bw, resp.Body); err != nil {
			return fmt.Errorf("read the response: %w", err)
		}
		return bw.Flush()
	}
	doc, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read the response: %w", err)
	}
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil
	}
	if opts.Paginate {
		if doc, err = opts.paginate(s, doc, do); err != nil {
			return err
		}
	}
	return p.print(opts.Context, doc)
}

// paginate follows the @odata.nextLink of first until the last page and returns first with every
// page's "value" merged into its own and no next link.
func (o *apiOptions) paginate(s *session, first []byte, do *dataverse.DoOptions) ([]byte, error) {
	var head orderedObject
	if err := json.Unmarshal(first, &head); err != nil {
		return nil, fmt.Errorf("--paginate: the response is not a JSON object: %w", err)
	}
	var rows []json.RawMessage
	page := head
	for pages := 1; ; pages++ {
		var next string
		for _, f := range page {
			switch f.Key {
			case "value":
				var items []json.RawMessage
				if err := json.Unmarshal(f.Value, &items); err != nil {
					return nil, errors.New("--paginate: the response has no \"value\" array: it is not a collection")
				}
				rows = append(rows, items...)
			case "@odata.nextLink":
				_ = json.Unmarshal(f.Value, &next)
			}
		}
		if next == "" {
			break
		}
		resp, err := s.client.Do(o.Context, http.MethodGet, next, nil, do)
		if err != nil {
			return nil, fmt.Errorf("--paginate: page %d: %w", pages+1, err)
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("--paginate: page %d is not a JSON object: %w", pages+1, err)
		}
	}
	merged := make(orderedObject, 0, len(head))
	for _, f := range head {
		switch f.Key {
		case "@odata.nextLink":
		case "value":
			merged = append(merged, field{Key: "value", Value: joinRows(rows)})
		default:
			merged = append(merged, f)
		}
	}
	return merged.MarshalJSON()
}

// toCRLF ends every line of a multipart body with CRLF, as the $batch format requires: a file
// written by an editor on Linux or macOS has bare LF line ends, which Dataverse refuses.
func toCRLF(data []byte) []byte {
	data = bytes.ReplaceAll(data, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
}

// isJSONMediaType reports whether a Content-Type is JSON (application/json, with parameters).
func isJSONMediaType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// writeResponseHead writes the status line and the response headers, sorted by name.
func writeResponseHead(w io.Writer, resp *http.Response) {
	fmt.Fprintf(w, "%s %s\n", resp.Proto, resp.Status)
	names := make([]string, 0, len(resp.Header))
	for name := range resp.Header {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		for _, v := range resp.Header[name] {
			fmt.Fprintf(w, "%s: %s\n", name, v)
		}
	}
	fmt.Fprintln(w)
}
