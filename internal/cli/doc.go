// Package cli implements the d365 command: one cobra command per file, each an options struct, a
// constructor and a run function. All input and output goes through an injected IOStreams, so the
// commands run the same in tests as in a terminal: stdout carries data (JSON by default, a table
// with -o table), stderr carries progress and messages, and exit codes live in exitcode.go.
package cli
