package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// importInput is an import's input as a file that can be read twice: once to check it and once
// to write it. Standard input ("-") is first copied to a temporary file, removed when the import
// ends, so a long stream never sits in memory.
type importInput struct {
	path    string
	spooled bool
}

// openImportInput returns the input named on the command line.
func openImportInput(arg string, stdin io.Reader) (*importInput, error) {
	if arg != "-" {
		st, err := os.Stat(arg)
		if err != nil {
			return nil, usageError(fmt.Errorf("input: %w", err))
		}
		if st.IsDir() {
			return nil, usageError(fmt.Errorf("input %s is a directory; name a file, or - for stdin", arg))
		}
		return &importInput{path: arg}, nil
	}
	f, err := os.CreateTemp("", "d365-import-*.spool")
	if err != nil {
		return nil, fmt.Errorf("spooling stdin: %w", err)
	}
	if _, err := io.Copy(f, stdin); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("spooling stdin to %s: %w", f.Name(), err)
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return nil, fmt.Errorf("spooling stdin to %s: %w", f.Name(), err)
	}
	return &importInput{path: f.Name(), spooled: true}, nil
}

func (in *importInput) open() (*os.File, error) { return os.Open(in.path) }

// close removes a spooled copy of stdin.
func (in *importInput) close() {
	if in.spooled {
		os.Remove(in.path)
	}
}

// importFormat picks the input format: the flag, else the file's extension.
func importFormat(flag, arg string) (string, error) {
	switch strings.ToLower(flag) {
	case "csv", "jsonl":
		return strings.ToLower(flag), nil
	case "":
	default:
		return "", usageError(fmt.Errorf("--format %q: use csv or jsonl", flag))
	}
	switch strings.ToLower(filepath.Ext(arg)) {
	case ".csv":
		return "csv", nil
	case ".jsonl", ".ndjson":
		return "jsonl", nil
	}
	if arg == "-" {
		return "", usageError(fmt.Errorf("reading stdin needs --format csv or --format jsonl"))
	}
	return "", usageError(fmt.Errorf("cannot tell the format of %s from its name; pass --format csv or --format jsonl", arg))
}
