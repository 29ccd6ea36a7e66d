package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/d365s2s/d365/dataverse"
)

// newCmdRelationships returns "d365 relationships". runF, when not nil, replaces
// relationshipsRun (tests).
func newCmdRelationships(f *Factory, runF func(*tableArgOptions) error) *cobra.Command {
	opts := &tableArgOptions{Session: f.Session}
	run := runOrDefault(runF, relationshipsRun)
	return newTableArgCmd(f, opts, "relationships",
		"List a table's relationships: one-to-many, many-to-one and many-to-many",
		`Lists the table's relationships, seen from it: one-to-many (other tables' lookups point to
it; the navigation property is a collection on this table, for --expand), many-to-one (its own
lookups; the navigation property is what "<navigation>@odata.bind" binds) and many-to-many
(through an intersect table).`,
		`  d365 relationships contacts -o table`,
		func() error { return run(opts) })
}

// relationshipsTableColumns are the columns of "d365 relationships -o table".
var relationshipsTableColumns = []string{"kind", "schemaName", "relatedTable", "lookup", "intersectTable", "navigationProperty"}

// Relationship kinds as "d365 relationships" names them.
const (
	kindOneToMany  = "one-to-many"
	kindManyToOne  = "many-to-one"
	kindManyToMany = "many-to-many"
)

// relationshipsRun prints the table's relationships.
func relationshipsRun(opts *tableArgOptions) error {
	s, err := opts.Session()
	if err != nil {
		return err
	}
	rels, err := s.client.TableRelationships(opts.Context, opts.Table)
	if errors.Is(err, dataverse.ErrMetadataUnsupported) {
		var re *dataverse.ResponseError
		msg := err.Error()
		if errors.As(err, &re) {
			msg = re.Message
		}
		// Keep the *ResponseError in the chain for the exit code; say it in one line.
		return &exitError{code: ExitService, err: fmt.Errorf("the service does not list the relationships of %s (%s): Dataverse does, an emulator without relationship metadata does not", opts.Table, msg)}
	}
	if err != nil {
		return err
	}
	return opts.printRows(opts.Context, relationshipRows(rels), relationshipsTableColumns)
}

// relationshipRows turns the three kinds into rows seen from rels.LogicalName: the related table,
// the lookup column (or the intersect table of a many-to-many) and the navigation property on
// this table.
func relationshipRows(rels *dataverse.TableRelationships) []orderedObject {
	rows := make([]orderedObject, 0, len(rels.OneToMany)+len(rels.ManyToOne)+len(rels.ManyToMany))
	for _, r := range rels.OneToMany {
		rows = append(rows, row("kind", kindOneToMany, "schemaName", r.SchemaName, "relatedTable", r.ReferencingEntity,
			"lookup", r.ReferencingEntity+"."+r.ReferencingAttribute, "navigationProperty", r.ReferencedEntityNavigationPropertyName))
	}
	for _, r := range rels.ManyToOne {
		rows = append(rows, row("kind", kindManyToOne, "schemaName", r.SchemaName, "relatedTable", r.ReferencedEntity,
			"lookup", r.ReferencingAttribute, "navigationProperty", r.ReferencingEntityNavigationPropertyName))
	}
	for _, r := range rels.ManyToMany {
		other, nav := r.Entity2LogicalName, r.Entity1NavigationPropertyName
		if r.Entity1LogicalName != rels.LogicalName {
			other, nav = r.Entity1LogicalName, r.Entity2NavigationPropertyName
		}
		rows = append(rows, row("kind", kindManyToMany, "schemaName", r.SchemaName, "relatedTable", other,
			"intersectTable", r.IntersectEntityName, "navigationProperty", nav))
	}
	return rows
}
