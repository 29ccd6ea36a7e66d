package cli

import (
	"io"
	"os"
)

// IOStreams are the standard streams a command reads and writes, plus its environment. Tests pass
// buffers and a fake environment; System returns the process's own.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer // data: JSON, tables, the token of "d365 token"
	ErrOut io.Writer // progress, messages, errors

	// LookupEnv reads an environment variable (os.LookupEnv for the real process).
	LookupEnv func(key string) (string, bool)
}

// System returns the streams and environment of the running process.
func System() *IOStreams {
	return &IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr, LookupEnv: os.LookupEnv}
}

func (s *IOStreams) lookupEnv(key string) (string, bool) {
	if s.LookupEnv == nil {
		return "", false
	}
	return s.LookupEnv(key)
}
