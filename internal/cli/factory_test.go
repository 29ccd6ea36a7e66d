package cli

import (
	"bytes"
	"errors"
	"io"
	"reflect"
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
		JQ:           func() string { return "" },
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

// adminCmdCase is one row of a flag table test of an emulator admin command: the command built
// with a run function that captures its options into got, its arguments, and either the options
// it must run with or the refusal it must give (nothing run).
type adminCmdCase struct {
	path    string
	newCmd  func(f *Factory, got *any) *cobra.Command
	args    string
	want    any
	wantErr string
}

// runAdminCmdCases runs each case against a Factory of buffers with -o output.
func runAdminCmdCases(t *testing.T, output string, tests []adminCmdCase) {
	t.Helper()
	for _, tt := range tests {
		f, _ := testFactory(output)
		var got any
		cmd := tt.newCmd(f, &got)
		t.Run(tt.path+" "+cmd.Name()+" "+tt.args, func(t *testing.T) {
			err := executeCmd(cmd, tt.path, strings.Fields(tt.args)...)
			if tt.wantErr != "" {
				checkRefusal(t, err, tt.wantErr, got != nil)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("options:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}
