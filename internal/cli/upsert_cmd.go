package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/dataverse"
)

// upsertOptions are the inputs of "d365 upsert".
type upsertOptions struct {
	IO      *IOStreams
	Session func() (*session, error)
	Context context.Context

	EntitySet string
	ID        uuid.UUID              // the record's id, or uuid.Nil when Key is set
	Key       dataverse.AlternateKey // the record's alternate key, or nil
	Data      string                 // the record: JSON, @FILE or -
	Mode      dataverse.UpsertMode
}

// newCmdUpsert returns "d365 upsert". runF, when not nil, replaces upsertRun (tests).
func newCmdUpsert(f *Factory, runF func(*upsertOptions) error) *cobra.Command {
	opts := &upsertOptions{IO: f.IOStreams, Session: f.Session}
	run := runOrDefault(runF, upsertRun)
	var createOnly, updateOnly bool
	cmd := &cobra.Command{
		Use:   "upsert <entityset> <id | key> <json>",
		Short: "Create a record with an id or alternate key, or update it when it exists",
		Long: `Sends the record with PATCH to the address of its id or alternate key (column=value pairs as
in a Web API URL, strings in single quotes): Dataverse creates the record when none has that id or
key, else updates the columns given. The record is a JSON object, @FILE, or - for stdin.
--create-only refuses to touch an existing record (If-None-Match: *, 412 when it exists);
--update-only refuses to create one (If-Match: *, 404 when it is missing).

Prints the record's id on stdout, and whether it was created or updated on stderr.`,
		Example: `  d365 upsert accounts "accountnumber='A-1001'" '{"name":"Contoso"}'
  d365 upsert contacts 00000000-0000-0000-0000-000000000001 @contact.json --create-only
  echo '{"telephone1":"555"}' | d365 upsert contacts "emailaddress1='ada@example.com'" - --update-only`,
		Args: exactArgs(3, "an entity set, an id or alternate key, and the record as JSON"),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Context, opts.EntitySet, opts.Data = cmd.Context(), args[0], args[2]
			if createOnly && updateOnly {
				return usageError(errors.New("--create-only and --update-only exclude each other: give one or neither"))
			}
			switch {
			case createOnly:
				opts.Mode = dataverse.UpsertCreateOnly
			case updateOnly:
				opts.Mode = dataverse.UpsertUpdateOnly
			}
			if id, err := parseID(args[1]); err == nil {
				opts.ID = id
			} else if strings.Contains(args[1], "=") {
				key, err := parseKeyLiteral(args[1])
				if err != nil {
					return usageError(err)
				}
				opts.Key = key
			} else {
				return usageError(fmt.Errorf("%q is not a record id (a GUID) or an alternate key (column='value')", args[1]))
			}
			return run(opts)
		},
	}
	cmd.Flags().BoolVar(&createOnly, "create-only", false, "only create: fail with 412 when the record exists (If-None-Match: *)")
	cmd.Flags().BoolVar(&updateOnly, "update-only", false, "only update: fail with 404 when the record is missing (If-Match: *)")
	return cmd
}

// upsertRun reads the record and upserts it.
func upsertRun(opts *upsertOptions) error {
	w := writeOptions{IO: opts.IO, Data: opts.Data}
	body, err := w.readData()
	if err != nil {
		return err
	}
	s, err := opts.Session()
	if err != nil {
		return err
	}
	uo := &dataverse.UpsertOptions{Mode: opts.Mode, ReturnRepresentation: true}
	var res *dataverse.WriteResult
	target := opts.EntitySet + "(" + opts.ID.String() + ")"
	if opts.Key != nil {
		target = opts.EntitySet + "(" + opts.Key.String() + ")"
		res, err = s.client.UpsertByKey(opts.Context, opts.EntitySet, opts.Key, body, uo)
	} else {
		res, err = s.client.Upsert(opts.Context, opts.EntitySet, opts.ID, body, uo)
	}
	if err != nil {
		return explainNotASet(opts.Context, s.client, opts.EntitySet, err)
	}
	verb := "updated"
	if res.Created {
		verb = "created"
	}
	if res.ID != uuid.Nil {
		fmt.Fprintf(opts.IO.ErrOut, "d365: %s %s(%s)\n", verb, opts.EntitySet, res.ID)
		_, err = fmt.Fprintln(opts.IO.Out, res.ID)
		return err
	}
	fmt.Fprintf(opts.IO.ErrOut, "d365: %s %s\n", verb, target)
	return nil
}
