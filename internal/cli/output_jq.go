package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/itchyny/gojq"
)

// compileJQ parses and compiles a --jq expression with gojq, the Go implementation of jq. The
// process environment stays out of reach ($ENV and env are empty): an expression must not be able
// to print the client secret.
func compileJQ(expr string) (*gojq.Code, error) {
	q, err := gojq.Parse(expr)
	if err != nil {
		return nil, usageError(fmt.Errorf("--jq %q does not parse: %v", expr, err))
	}
	code, err := gojq.Compile(q, gojq.WithEnvironLoader(func() []string { return nil }))
	if err != nil {
		return nil, usageError(fmt.Errorf("--jq %q does not compile: %v", expr, err))
	}
	return code, nil
}

// runJQ runs expr on the JSON document doc and returns its results in order. Numbers keep their
// digits (json.Number), so ids and large integers come out as they went in.
func runJQ(ctx context.Context, expr string, doc []byte) ([]any, error) {
	code, err := compileJQ(expr)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	dec.UseNumber()
	var input any
	if err := dec.Decode(&input); err != nil {
		return nil, fmt.Errorf("--jq: the result is not JSON: %w", err)
	}
	var out []any
	iter := code.RunWithContext(ctx, input)
	for {
		v, ok := iter.Next()
		if !ok {
			return out, nil
		}
		if err, isErr := v.(error); isErr {
			var halt *gojq.HaltError
			if errors.As(err, &halt) && halt.Value() == nil {
				return out, nil // halt: stop without an error, as jq does
			}
			return nil, fmt.Errorf("--jq %q: %v", expr, err)
		}
		out = append(out, v)
	}
}

// marshalJQ encodes a jq result as compact JSON (object keys sorted, as jq prints them).
func marshalJQ(v any) ([]byte, error) {
	return gojq.Marshal(v)
}
