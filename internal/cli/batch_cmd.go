package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/dataverse"
)

// batchOptions are the inputs of "d365 batch".
type batchOptions struct {
	IO      *IOStreams
	Session func() (*session, error)
	Context context.Context
	Output  string
	JQ      string

	Source          string // the operations file, or - for stdin
	ContinueOnError bool
}

// newCmdBatch returns "d365 batch". runF, when not nil, replaces batchRun (tests).
func newCmdBatch(f *Factory, runF func(*batchOptions) error) *cobra.Command {
	opts := &batchOptions{IO: f.IOStreams, Session: f.Session}
	run := runOrDefault(runF, batchRun)
	cmd := &cobra.Command{
		Use:   "batch <file | ->",
		Short: "Send a JSON list of operations as $batch requests and print a result per operation",
		Long: `Reads a JSON array of operations and sends them as OData $batch requests, split into requests of
at most 1,000 operations (a change set is never split). Each operation is an object:

  {"method": "POST", "url": "contacts", "body": {"firstname": "Ada"},
   "headers": {"Prefer": "return=representation"}, "changeset": "cs1", "contentId": "ada"}

method is GET, POST, PATCH, PUT or DELETE; url is relative to the service root (spaces are sent
as %20); body is any JSON; headers are the operation's own. Operations with the same "changeset"
name run in one change set (one transaction: all or none) and must be consecutive; GETs cannot be
part of one. Inside a change set, "contentId" names an operation so that a later one of the same
change set can refer to what it created as "$name" at the start of its url or as a string value
of its body (an @odata.bind).

Prints one result per operation, in order: its index, method, url, status, the written record's
URL (entityId) and body, or its error. An operation the service did not run (after a failure,
without --continue-on-error) has status 0. Exit code 4 when any operation failed.`,
		Example: `  d365 batch ops.json -o table
  d365 batch - --continue-on-error < ops.json`,
		Args: exactArgs(1, "a file of operations, or - for stdin"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context, opts.Output, opts.JQ, opts.Source = cmd.Context(), f.OutputFormat(), f.jqExpr(), args[0]
			return run(opts)
		},
	}
	cmd.Flags().BoolVar(&opts.ContinueOnError, "continue-on-error", false, "run every operation even after one fails (Prefer: odata.continue-on-error)")
	return withJQ(cmd)
}

// batchOperation is one operation of the input file.
type batchOperation struct {
	Method    string            `json:"method"`
	URL       string            `json:"url"`
	Body      json.RawMessage   `json:"body,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	ChangeSet string            `json:"changeset,omitempty"`
	ContentID string            `json:"contentId,omitempty"`
}

// batchOperationResult is the result printed for one operation.
type batchOperationResult struct {
	Index  int    `json:"index"`
	Method string `json:"method"`
	URL    string `json:"url"`
	Status int    `json:"status"`
	// EntityID is the URL of the record a create, update or upsert wrote (OData-EntityId).
	EntityID string          `json:"entityId,omitempty"`
	Body     json.RawMessage `json:"body,omitempty"`
	Error    *batchError     `json:"error,omitempty"`
}

// batchError is the error of a failed or skipped operation.
type batchError struct {
	Code    string `json:"code,omitempty"`
	Message string `json:"message"`
}

// batchRun reads the operations, sends them and prints a result per operation.
func batchRun(opts *batchOptions) error {
	ops, err := opts.read()
	if err != nil {
		return err
	}
	b, err := buildBatch(ops)
	if err != nil {
		return usageError(fmt.Errorf("%s: %w", opts.where(), err))
	}
	s, err := opts.Session()
	if err != nil {
		return err
	}
	res, err := s.client.ExecuteBatch(opts.Context, b, &dataverse.BatchOptions{ContinueOnError: opts.ContinueOnError})
	var re *dataverse.ResponseError
	if err != nil && (res == nil || !errors.As(err, &re) || re.BatchPart == nil) {
		return err // the $batch request itself failed: no per-operation results to print
	}
	// Without --continue-on-error the service may answer a failure with that operation's
	// response alone, not naming it: the operations without a result then may or may not have run.
	notRun := &batchError{Message: "not run: an earlier operation failed"}
	unnamed := re != nil && re.BatchPart.Index < 0
	if unnamed {
		notRun = &batchError{Code: re.Code, Message: "no result: the service answered with one error without naming its operation (" +
			re.Message + "); operations before it may have run. Run again with --continue-on-error for a result per operation"}
	}
	results := make([]batchOperationResult, len(ops))
	for i, op := range ops {
		results[i] = batchOperationResult{Index: i, Method: strings.ToUpper(op.Method), URL: op.URL, Error: notRun}
	}
	failed := 0
	for _, r := range res.Responses {
		out := &results[r.Index]
		out.Status, out.Error = r.StatusCode, nil
		if r.Err != nil {
			failed++
			out.Error = &batchError{Code: r.Err.Code, Message: r.Err.Message}
			continue
		}
		out.EntityID = r.Header.Get("OData-EntityId")
		if body := r.Body; len(body) > 0 && json.Valid(body) {
			out.Body = body
		}
	}
	if perr := (printer{IO: opts.IO, Format: opts.Output, JQ: opts.JQ}).printValue(opts.Context, results); perr != nil {
		return perr
	}
	missing := len(ops) - len(res.Responses)
	if unnamed {
		fmt.Fprintf(opts.IO.ErrOut, "d365: batch: %d operations, %d succeeded, %d without a result after an error the service did not attribute\n", len(ops), len(res.Responses)-failed, missing)
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "d365: batch: %d operations, %d succeeded, %d failed, %d not run\n", len(ops), len(res.Responses)-failed, failed, missing)
	if failed > 0 {
		return &exitError{code: ExitService, err: fmt.Errorf("batch: %d of %d operations failed (see their results)", failed, len(ops))}
	}
	return nil
}

// where names the input in messages.
func (o *batchOptions) where() string {
	if o.Source == "-" {
		return "stdin"
	}
	return o.Source
}

// read parses the operations file, refusing unknown members and anything not an array of
// operation objects.
func (o *batchOptions) read() ([]batchOperation, error) {
	var r io.Reader
	if o.Source == "-" {
		r = o.IO.In
	} else {
		f, err := os.Open(o.Source)
		if err != nil {
			return nil, usageError(fmt.Errorf("read the operations: %w", err))
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxDataBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", o.where(), err)
	}
	if len(data) > maxDataBytes {
		return nil, usageError(fmt.Errorf("%s is larger than %d MiB", o.where(), maxDataBytes>>20))
	}
	ops, err := parseBatchOperations(data)
	if err != nil {
		return nil, usageError(fmt.Errorf("%s: %w", o.where(), err))
	}
	return ops, nil
}

// parseBatchOperations decodes a JSON array of operations; unknown members are refused, so a
// misspelt "changeset" is not silently ignored.
func parseBatchOperations(data []byte) ([]batchOperation, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("not valid JSON at byte %d: %v", se.Offset, err)
		}
		return nil, errors.New(`not a JSON array of operations like [{"method":"GET","url":"WhoAmI"}]`)
	}
	if len(raw) == 0 {
		return nil, errors.New("the list of operations is empty")
	}
	ops := make([]batchOperation, len(raw))
	for i, r := range raw {
		dec := json.NewDecoder(strings.NewReader(string(r)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ops[i]); err != nil {
			return nil, fmt.Errorf("operation %d: %v (members: method, url, body, headers, changeset, contentId)", i, err)
		}
	}
	return ops, nil
}

// buildBatch turns the operations into a dataverse.Batch, checking each one.
func buildBatch(ops []batchOperation) (*dataverse.Batch, error) {
	b := dataverse.NewBatch()
	var (
		cs     *dataverse.ChangeSet
		csName string
		closed = map[string]bool{}
		refs   = map[string]string{} // contentId -> Content-ID reference, within the open change set
	)
	for i, op := range ops {
		method := strings.ToUpper(strings.TrimSpace(op.Method))
		if !isBatchMethod(method) {
			return nil, fmt.Errorf("operation %d: method %q is not GET, POST, PATCH, PUT or DELETE", i, op.Method)
		}
		url := strings.ReplaceAll(strings.TrimLeft(strings.TrimSpace(op.URL), "/"), " ", "%20")
		if url == "" {
			return nil, fmt.Errorf("operation %d: url is empty: give a path relative to the service root, e.g. contacts", i)
		}
		if op.ChangeSet != csName {
			if csName != "" {
				closed[csName] = true
			}
			cs, csName, refs = nil, op.ChangeSet, map[string]string{}
			if op.ChangeSet != "" {
				if closed[op.ChangeSet] {
					return nil, fmt.Errorf("operation %d: change set %q was already closed by an operation outside it: put a change set's operations next to each other", i, op.ChangeSet)
				}
				cs = b.ChangeSet()
			}
		}
		if op.ContentID != "" && cs == nil {
			return nil, fmt.Errorf("operation %d: contentId %q needs a change set: references work only within one", i, op.ContentID)
		}
		if cs != nil && method == "GET" {
			return nil, fmt.Errorf("operation %d: a GET cannot be part of change set %q; move it out", i, op.ChangeSet)
		}
		req := dataverse.BatchRequest{Method: method, Path: substituteRef(url, refs)}
		if len(op.Body) > 0 && string(op.Body) != "null" {
			body, err := substituteBodyRefs(op.Body, refs)
			if err != nil {
				return nil, fmt.Errorf("operation %d: body: %v", i, err)
			}
			req.Body = body
		}
		for k, v := range op.Headers {
			if strings.EqualFold(k, "Authorization") {
				return nil, fmt.Errorf("operation %d: headers: Authorization is sent by d365; drop it", i)
			}
			if req.Header == nil {
				req.Header = map[string][]string{}
			}
			req.Header.Set(k, v)
		}
		if cs == nil {
			b.Add(req)
			continue
		}
		ref := cs.Add(req)
		if op.ContentID != "" {
			if _, dup := refs[op.ContentID]; dup {
				return nil, fmt.Errorf("operation %d: contentId %q is used twice in change set %q", i, op.ContentID, op.ChangeSet)
			}
			refs[op.ContentID] = ref
		}
	}
	return b, nil
}

func isBatchMethod(m string) bool {
	switch m {
	case "GET", "POST", "PATCH", "PUT", "DELETE":
		return true
	}
	return false
}

// substituteRef replaces a leading "$name" (alone or followed by "/") with its Content-ID
// reference.
func substituteRef(s string, refs map[string]string) string {
	if !strings.HasPrefix(s, "$") {
		return s
	}
	name, rest, _ := strings.Cut(s[1:], "/")
	ref, ok := refs[name]
	if !ok {
		return s
	}
	if rest != "" || strings.HasSuffix(s, "/") {
		return ref + "/" + rest
	}
	return ref
}

// substituteBodyRefs replaces the string values of body's top-level members that are "$name"
// references with their Content-ID reference.
func substituteBodyRefs(body json.RawMessage, refs map[string]string) (json.RawMessage, error) {
	if len(refs) == 0 {
		return body, nil
	}
	var obj orderedObject
	if err := json.Unmarshal(body, &obj); err != nil {
		return body, nil // not an object: sent as it is
	}
	for i, f := range obj {
		var s string
		if json.Unmarshal(f.Value, &s) == nil && strings.HasPrefix(s, "$") {
			obj[i].Value = jsonString(substituteRef(s, refs))
		}
	}
	return obj.MarshalJSON()
}
