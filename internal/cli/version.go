package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildVersion describes the running binary from its build information: the module version
// ("(devel)" for a build from a clone), the VCS commit and time, and whether the tree had
// uncommitted changes.
type buildVersion struct {
	Module   string `json:"module"`
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Time     string `json:"commitTime,omitempty"`
	Modified bool   `json:"modified,omitempty"`
	Go       string `json:"go"`
}

// readBuildVersion reads runtime/debug.ReadBuildInfo; read is injectable for tests.
func readBuildVersion(read func() (*debug.BuildInfo, bool)) buildVersion {
	v := buildVersion{Module: "github.com/d365s2s/d365", Version: "(unknown)", Go: runtime.Version()}
	info, ok := read()
	if !ok {
		return v
	}
	if info.Main.Path != "" {
		v.Module = info.Main.Path
	}
	if info.Main.Version != "" {
		v.Version = info.Main.Version
	}
	if info.GoVersion != "" {
		v.Go = info.GoVersion
	}
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Commit = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is the one line of "d365 --version": version, commit (12 digits, "+dirty" for a
// modified tree) and Go version.
func (v buildVersion) String() string {
	s := v.Version
	if v.Commit != "" {
		c := v.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		if v.Modified {
			c += "+dirty"
		}
		s += " (commit " + c
		if v.Time != "" {
			s += ", " + v.Time
		}
		s += ")"
	}
	return s + " " + v.Go
}

func versionString() string { return readBuildVersion(debug.ReadBuildInfo).String() }

// newCmdVersion returns "d365 version": the line of --version, or every field as JSON with
// --json.
func newCmdVersion(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the d365 version, the commit it was built from and the Go version",
		Args:  exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			v := readBuildVersion(debug.ReadBuildInfo)
			if asJSON {
				return writeJSON(f.IOStreams.Out, v)
			}
			_, err := fmt.Fprintln(f.IOStreams.Out, "d365 "+v.String())
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print module, version, commit, commit time and Go version as JSON")
	return cmd
}
