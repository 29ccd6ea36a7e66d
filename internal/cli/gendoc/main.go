// Command gendoc writes docs/cli.md, the d365 command reference, from the cobra command tree:
//
//	go run ./internal/cli/gendoc
//
// It finds the module root from the working directory (so "go generate ./internal/cli" works
// too) and replaces the file only when its content changes.
package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/d365s2s/d365/internal/cli"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gendoc:", err)
		os.Exit(1)
	}
}

func run() error {
	root, err := moduleRoot()
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := cli.WriteReference(&buf); err != nil {
		return err
	}
	path := filepath.Join(root, filepath.FromSlash(cli.ReferencePath))
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, buf.Bytes()) {
		fmt.Fprintln(os.Stderr, "gendoc:", cli.ReferencePath, "is up to date")
		return nil
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "gendoc: wrote", cli.ReferencePath)
	return nil
}

// moduleRoot is the nearest directory at or above the working directory holding go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod at or above the working directory: run it from the d365 module")
		}
		dir = parent
	}
}
