package cli

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"
)

// TestCLIReferenceIsCurrent fails when docs/cli.md differs from what the command tree generates:
// a command or flag changed without regenerating the reference.
func TestCLIReferenceIsCurrent(t *testing.T) {
	var want bytes.Buffer
	if err := WriteReference(&want); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("..", "..", filepath.FromSlash(ReferencePath))
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v: generate it with %s", err, RegenerateReference)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("%s is stale: regenerate it with `%s` from the module root (-file +generated):\n%s",
			ReferencePath, RegenerateReference, cmp.Diff(string(got), want.String()))
	}
}

// TestCLIReferenceCoversEveryCommand: each visible command has a section with its synopsis and
// its own flags, the global flags are listed once, and the output does not depend on the
// environment (two runs under different settings are equal).
func TestCLIReferenceCoversEveryCommand(t *testing.T) {
	var b bytes.Buffer
	if err := WriteReference(&b); err != nil {
		t.Fatal(err)
	}
	doc := b.String()
	for _, want := range []string{
		"\n## d365 columns\n", "d365 columns <table> [flags]", "--all   include the columns",
		"\n## d365 emulator fault add\n", "--action string",
		"\n## d365 tables\n", "d365 tables [flags]",
		"| [d365 tables](#d365-tables) |",
		"\n## d365 completion bash\n",
	} {
		if !strings.Contains(doc, want) {
			t.Errorf("the reference lacks %q", want)
		}
	}
	if n := strings.Count(doc, "--output string"); n != 1 {
		t.Errorf("--output is listed %d times, want once (under the global flags)", n)
	}
	if strings.Contains(doc, "__complete") {
		t.Error("the reference lists cobra's hidden __complete command")
	}
	t.Setenv("D365_URL", "https://elsewhere.crm.dynamics.com")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	var again bytes.Buffer
	if err := WriteReference(&again); err != nil {
		t.Fatal(err)
	}
	if again.String() != doc {
		t.Error("the reference changes with the environment")
	}
}

// TestReferenceNameOfHelpTopic: a help topic is documented under the command that shows it.
func TestReferenceNameOfHelpTopic(t *testing.T) {
	root := &cobra.Command{Use: "d365"}
	topic := &cobra.Command{Use: "environment", Short: "Settings", Long: "text"}
	run := &cobra.Command{Use: "tables", Run: func(*cobra.Command, []string) {}}
	root.AddCommand(topic, run)
	if got := referenceName(topic); got != "d365 help environment" {
		t.Errorf("referenceName(topic) = %q", got)
	}
	if got := referenceName(run); got != "d365 tables" {
		t.Errorf("referenceName(tables) = %q", got)
	}
	if got := anchor(referenceName(topic)); got != "d365-help-environment" {
		t.Errorf("anchor = %q", got)
	}
}

// TestMarkdownEscape: descriptions with placeholders and underscores stay text in Markdown.
func TestMarkdownEscape(t *testing.T) {
	for in, want := range map[string]string{
		"<table> and _name_value": `\<table\> and \_name\_value`,
		"a | b":                   `a \| b`,
		"plain":                   "plain",
	} {
		if got := markdownEscape(in); got != want {
			t.Errorf("markdownEscape(%q) = %q, want %q", in, got, want)
		}
	}
}
