package cli

//go:generate go run ./gendoc

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// ReferencePath is where the CLI reference lives, relative to the module root.
const ReferencePath = "docs/cli.md"

// RegenerateReference is the command that rewrites ReferencePath from the command tree; the
// staleness test and the reference itself name it.
const RegenerateReference = "go run ./internal/cli/gendoc"

// WriteReference writes the Markdown reference of every d365 command — its synopsis, text,
// examples and flags — generated from the cobra command tree, so it cannot drift from --help.
// The output depends only on the code: no environment variable or machine detail is read.
func WriteReference(w io.Writer) error {
	g := &globalOptions{streams: &IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard}}
	root := newRootCmd(g)
	root.InitDefaultCompletionCmd()
	root.DisableAutoGenTag = true

	var cmds []*cobra.Command
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Hidden || c.Name() == "help" || c.Name() == cobra.ShellCompRequestCmd || c.Name() == cobra.ShellCompNoDescRequestCmd {
			return
		}
		cmds = append(cmds, c)
		subs := slices.Clone(c.Commands())
		slices.SortFunc(subs, func(a, b *cobra.Command) int { return strings.Compare(a.Name(), b.Name()) })
		for _, s := range subs {
			walk(s)
		}
	}
	walk(root)

	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "# d365 command reference\n\n")
	fmt.Fprintf(bw, "<!-- Generated from the cobra commands by `%s`; do not edit by hand. -->\n\n", RegenerateReference)
	fmt.Fprintf(bw, "Every command and flag of `d365`, as `--help` shows them. Regenerate this file after changing a\n")
	fmt.Fprintf(bw, "command with `%s` (or `go generate ./internal/cli`); a test fails while it is stale.\n\n", RegenerateReference)
	fmt.Fprintf(bw, "| Command | What it does |\n|---|---|\n")
	for _, c := range cmds {
		fmt.Fprintf(bw, "| [%s](#%s) | %s |\n", referenceName(c), anchor(referenceName(c)), markdownEscape(c.Short))
	}
	for _, c := range cmds {
		writeCommandReference(bw, c)
	}
	return bw.Flush()
}

// writeCommandReference writes one command's section.
func writeCommandReference(w io.Writer, c *cobra.Command) {
	fmt.Fprintf(w, "\n## %s\n\n", referenceName(c))
	if c.Short != "" {
		fmt.Fprintf(w, "%s.\n\n", strings.TrimSuffix(markdownEscape(c.Short), "."))
	}
	if c.Long != "" {
		// As --help prints it: its line breaks and indented lists are part of the text.
		fmt.Fprintf(w, "```text\n%s\n```\n\n", strings.TrimSpace(c.Long))
	}
	if c.Runnable() {
		fmt.Fprintf(w, "```\n%s\n```\n\n", c.UseLine())
	}
	if c.Example != "" {
		fmt.Fprintf(w, "Examples:\n\n```sh\n%s\n```\n\n", strings.TrimRight(dedentExample(c.Example), "\n"))
	}
	if len(c.Aliases) > 0 {
		fmt.Fprintf(w, "Aliases: %s\n\n", strings.Join(c.Aliases, ", "))
	}
	if subs := visibleSubcommands(c); len(subs) > 0 {
		fmt.Fprintf(w, "Subcommands:\n\n")
		for _, s := range subs {
			fmt.Fprintf(w, "- [%s](#%s): %s\n", s.Name(), anchor(referenceName(s)), markdownEscape(s.Short))
		}
		fmt.Fprintln(w)
	}
	if !c.HasParent() {
		if fs := c.PersistentFlags(); fs.HasAvailableFlags() {
			fmt.Fprintf(w, "Global flags (every command takes them):\n\n```\n%s```\n", flagUsages(fs))
		}
		return
	}
	if fs := c.LocalNonPersistentFlags(); fs.HasAvailableFlags() {
		fmt.Fprintf(w, "Flags:\n\n```\n%s```\n", flagUsages(fs))
	}
	if fs := c.PersistentFlags(); fs.HasAvailableFlags() {
		fmt.Fprintf(w, "Flags for this command and those below it:\n\n```\n%s```\n", flagUsages(fs))
	}
}

// flagUsages is pflag's usage listing without the help flag, which every command has.
func flagUsages(fs *pflag.FlagSet) string {
	out := pflag.NewFlagSet("", pflag.ContinueOnError)
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name != "help" && !f.Hidden {
			out.AddFlag(f)
		}
	})
	return out.FlagUsagesWrapped(100)
}

// visibleSubcommands are c's documented subcommands, sorted by name.
func visibleSubcommands(c *cobra.Command) []*cobra.Command {
	var subs []*cobra.Command
	for _, s := range c.Commands() {
		if !s.Hidden && s.Name() != "help" && s.IsAvailableCommand() {
			subs = append(subs, s)
		}
	}
	slices.SortFunc(subs, func(a, b *cobra.Command) int { return strings.Compare(a.Name(), b.Name()) })
	return subs
}

// dedentExample removes the two-space indent cobra examples carry for --help.
func dedentExample(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimPrefix(l, "  ")
	}
	return strings.Join(lines, "\n")
}

// referenceName is how a user reaches the command: its path, or "d365 help <topic>" for a help
// topic (a command that only holds text).
func referenceName(c *cobra.Command) string {
	if c.IsAdditionalHelpTopicCommand() && c.HasParent() {
		return c.Parent().CommandPath() + " help " + c.Name()
	}
	return c.CommandPath()
}

// anchor is the GitHub heading anchor of a command path: "d365 emulator app" -> "d365-emulator-app".
func anchor(commandPath string) string {
	return strings.ReplaceAll(strings.ToLower(commandPath), " ", "-")
}

// markdownEscaper escapes what Markdown would read as markup in a one-line description: "<table>"
// as an HTML tag, "_name_value" as emphasis, "|" as a table cell's end.
var markdownEscaper = strings.NewReplacer("\\", "\\\\", "<", "\\<", ">", "\\>", "_", "\\_", "*", "\\*", "|", "\\|", "`", "\\`")

// markdownEscape escapes s for Markdown prose.
func markdownEscape(s string) string { return markdownEscaper.Replace(s) }
