package cli

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// testFactory returns a Factory of buffers whose -o is output. Its clients refuse to be built:
// a command under test with a capturing runF never needs one.
func testFactory(output string) (f *Factory, stderr *bytes.Buffer) {
	stderr = &bytes.Buffer{}
	errNoClient := errors.New("no client in a flag test")
	return &Factory{
		IOStreams:    &IOStreams{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: stderr},
		OutputFormat: func() string { return output },
		Session:      func() (*session, error) { return nil, errNoClient },
		AdminClient:  func() (adminClient, error) { return adminClient{}, errNoClient },
	}, stderr
}

// executeCmd runs cmd with args under a root that classifies flag errors as d365's does, and
// returns the command's error. path is where cmd hangs below the root ("emulator role"), so its
// messages name the same command path as in d365.
func executeCmd(cmd *cobra.Command, path string, args ...string) error {
	root := &cobra.Command{Use: "d365", SilenceErrors: true, SilenceUsage: true}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.SetOut(io.Discard)
	root.SetErr(io.Discard)
	parent := root
	for name := range strings.FieldsSeq(path) {
		c := &cobra.Command{Use: name}
		parent.AddCommand(c)
		parent = c
	}
	parent.AddCommand(cmd)
	root.SetArgs(append(append(strings.Fields(path), cmd.Name()), args...))
	return root.Execute()
}

// checkRefusal fails the test unless err is a usage error (exit 2) whose message holds want and
// the run function was not reached.
func checkRefusal(t *testing.T, err error, want string, ran bool) {
	t.Helper()
	if err == nil || !strings.Contains(err.Error(), want) || exitCode(err) != ExitUsage {
		t.Fatalf("err = %v (exit %d), want a usage error with %q", err, exitCode(err), want)
	}
	if ran {
		t.Fatal("the command ran despite the refusal")
	}
}
