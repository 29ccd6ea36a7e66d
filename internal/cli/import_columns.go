package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/d365s2s/d365/dataverse"
)

// importTable checks an import's columns against the table's metadata and says how each one is
// read: it resolves a CSV header cell or a JSON Lines member name to the property sent and the
// type its values must have.
type importTable struct {
	md   *dataverse.TableMetadata
	mode string // create, update or upsert
	keys []string
	// entitySet returns the entity set name of a table (a lookup's target), by logical name.
	entitySet func(logicalName string) (string, error)
	// cache holds the plans made, by input column name; the workers of a parallel read look
	// plans up in it while plan adds to it (mu).
	mu    sync.RWMutex
	cache map[string]columnPlan
	// emptyAsNull: an empty CSV cell sends null (clears the column) instead of leaving the
	// column out (--empty-as-null).
	emptyAsNull bool
	// skipReadOnly: a column the table has but this mode cannot write (createdon, versionnumber,
	// _createdby_value, …: the columns a get or an export without --select carries) is left out
	// and reported instead of refusing the file (--skip-read-only, on by default).
	skipReadOnly bool
	// skipNames are the input columns --skip leaves out whatever they are (_ownerid_value, when
	// the source's users and teams do not exist in the target).
	skipNames []string
	// skipped are the columns left out, by --skip-read-only or --skip, in the order first met.
	skipped []skippedColumn
}

// skipReasonFlag is the reason reported for a column --skip names.
const skipReasonFlag = "named by --skip"

// unmatchedSkips returns the --skip names no input column had: a typo there would otherwise
// send the very column the user meant to leave out.
func (t *importTable) unmatchedSkips() []string {
	var out []string
	for _, n := range t.skipNames {
		if !slices.ContainsFunc(t.skipped, func(s skippedColumn) bool { return strings.EqualFold(s.name, n) }) {
			out = append(out, n)
		}
	}
	return out
}

// skippedColumn is an input column an import leaves out, and why.
type skippedColumn struct {
	name, reason string
}

// readOnlyError says that a column exists but the import's mode cannot write it.
type readOnlyError struct{ reason string }

func (e *readOnlyError) Error() string { return e.reason + "; drop the column" }

// addresses reports whether the property finds the row (the primary id or a --key column): an
// empty cell there is never sent as null.
func (t *importTable) addresses(property string) bool {
	return strings.EqualFold(property, t.md.PrimaryIDAttribute) || t.isKey(property)
}

// columnPlan is what becomes of one input column.
type columnPlan struct {
	// property is the name sent: the column's logical name, or "<navigation>@odata.bind".
	property string
	cell     cellType
	// drop marks read-only annotations an export writes ("@odata.etag", formatted values): they
	// are read and not sent.
	drop bool
	// err says why the column cannot be imported.
	err error
	// lookup is the lookup column's logical name when the column writes a lookup.
	lookup string
	// tableCell, for a polymorphic "_<lookup>_value" CSV column, is 1 + the index of its
	// companion column "_<lookup>_value@Microsoft.Dynamics.CRM.lookuplogicalname" (the table of
	// each row's id, as "d365 get -o csv" and "d365 export" write it); 0 when there is none.
	tableCell int
}

// maxPlanCache bounds the member names a JSON Lines import remembers.
const maxPlanCache = 10000

func newImportTable(md *dataverse.TableMetadata, mode string, keys []string, entitySet func(string) (string, error)) *importTable {
	return &importTable{md: md, mode: mode, keys: keys, entitySet: entitySet, cache: map[string]columnPlan{}}
}

// checkKeys checks the --key columns against the table: they must be columns, and an alternate
// key of the table when the service listed them. Nothing to check without --key.
func (t *importTable) checkKeys() error {
	if len(t.keys) == 0 {
		return nil
	}
	if t.mode == "create" {
		return fmt.Errorf("--key %s names an alternate key, which only --mode update or upsert uses", strings.Join(t.keys, ","))
	}
	for _, k := range t.keys {
		if _, ok := t.md.Column(k); !ok {
			return fmt.Errorf("--key: %s has no column %q", t.md.EntitySetName, k)
		}
	}
	if t.md.KeysKnown {
		if _, ok := t.md.Key(t.keys...); !ok {
			var have []string
			for _, k := range t.md.Keys {
				have = append(have, k.Name+" ("+strings.Join(k.KeyAttributes, ",")+")")
			}
			if len(have) == 0 {
				return fmt.Errorf("--key %s: %s has no alternate keys; define one in the table first, or import by primary id (%s)", strings.Join(t.keys, ","), t.md.EntitySetName, t.md.PrimaryIDAttribute)
			}
			return fmt.Errorf("--key %s is not an alternate key of %s; its keys are %s", strings.Join(t.keys, ","), t.md.EntitySetName, strings.Join(have, ", "))
		}
	}
	return nil
}

// isKey reports whether column is one of the --key columns.
func (t *importTable) isKey(column string) bool {
	return slices.ContainsFunc(t.keys, func(k string) bool { return strings.EqualFold(k, column) })
}

// plan returns how the input column name is read (cached).
func (t *importTable) plan(name string) columnPlan {
	if p, ok := t.cachedPlan(name); ok {
		return p
	}
	var p columnPlan
	var ro *readOnlyError
	if slices.ContainsFunc(t.skipNames, func(n string) bool { return strings.EqualFold(n, name) }) {
		t.skip(name, skipReasonFlag)
		p = columnPlan{drop: true}
	} else if p = t.resolve(name); t.skipReadOnly && errors.As(p.err, &ro) {
		t.skip(name, ro.reason)
		p = columnPlan{drop: true}
	}
	t.mu.Lock()
	if len(t.cache) < maxPlanCache {
		t.cache[name] = p
	}
	t.mu.Unlock()
	return p
}

// cachedPlan returns the plan made for the column name, if any. It is safe to call while
// another goroutine runs plan.
func (t *importTable) cachedPlan(name string) (columnPlan, bool) {
	t.mu.RLock()
	p, ok := t.cache[name]
	t.mu.RUnlock()
	return p, ok
}

// skip records that the input column name is left out, and why (once per name).
func (t *importTable) skip(name, reason string) {
	if !slices.ContainsFunc(t.skipped, func(s skippedColumn) bool { return s.name == name }) {
		t.skipped = append(t.skipped, skippedColumn{name: name, reason: reason})
	}
}

// readOnlyAnnotation reports whether name is an annotation an export or a read writes, which an
// import leaves out: "@odata.etag", "name@OData.Community.Display.V1.FormattedValue",
// "name@formatted", …
func readOnlyAnnotation(name string) bool {
	switch name {
	case "@odata.etag", "@odata.context", "@odata.id", "@odata.editLink", "@odata.type":
		return true
	}
	at := strings.IndexByte(name, '@')
	if at < 0 {
		return false
	}
	ann := name[at+1:]
	// "<column>@formatted" is the CSV column "d365 export --formatted" writes.
	return ann == "formatted" || strings.HasPrefix(ann, "OData.Community.Display.V1.") || strings.HasPrefix(ann, "Microsoft.Dynamics.CRM.")
}

func (t *importTable) resolve(name string) columnPlan {
	md := t.md
	if readOnlyAnnotation(name) {
		return columnPlan{drop: true}
	}
	if nav, ok := strings.CutSuffix(name, "@odata.bind"); ok {
		l, found := md.Lookup(nav)
		if !found {
			return columnPlan{err: fmt.Errorf("%s has no lookup navigation property %q; %s", md.EntitySetName, nav, t.lookupHint())}
		}
		if err := t.writable(l.Attribute); err != nil {
			return columnPlan{err: err}
		}
		p := t.bindPlan(l.NavigationProperty, t.bindTargets(l))
		p.lookup = l.Attribute
		return p
	}
	if strings.ContainsRune(name, '@') {
		return columnPlan{err: fmt.Errorf("%q is an annotation an import cannot send; only <navigation>@odata.bind columns are written", name)}
	}
	if attr, ok := strings.CutPrefix(name, "_"); ok && strings.HasSuffix(attr, "_value") {
		attr = strings.TrimSuffix(attr, "_value")
		c, found := md.Column(attr)
		if found && c.IsLookup() {
			if err := t.writable(c.LogicalName); err != nil {
				return columnPlan{err: err}
			}
			var navs []string
			for _, l := range md.Lookups {
				if l.Attribute == c.LogicalName {
					navs = append(navs, l.NavigationProperty)
				}
			}
			if len(navs) > 1 {
				return t.polyPlan(name, c.LogicalName, navs)
			}
			if len(navs) == 0 {
				return columnPlan{err: fmt.Errorf("%s has no navigation property for the lookup %s", md.EntitySetName, c.LogicalName)}
			}
			l, _ := md.Lookup(navs[0])
			if targets := t.bindTargets(l); len(targets) > 1 {
				// One navigation property to several tables (ownerid: systemuser or team).
				return t.polyPlan(name, c.LogicalName, navs)
			}
			return t.bindPlan(l.NavigationProperty, t.bindTargets(l))
		}
	}
	c, found := md.Column(name)
	if !found {
		return columnPlan{err: fmt.Errorf("%s has no column %q (column names are logical names, such as %s)", md.EntitySetName, name, t.exampleColumns())}
	}
	if c.IsLookup() {
		var navs []string
		for _, l := range md.Lookups {
			if l.Attribute == c.LogicalName {
				navs = append(navs, l.NavigationProperty)
			}
		}
		return columnPlan{err: fmt.Errorf("%s is a lookup: name the column %s and write references such as %s(<id>)", c.LogicalName, bindNames(navs), t.setHint(c.Targets))}
	}
	if err := t.writable(c.LogicalName); err != nil {
		return columnPlan{err: err}
	}
	ct, err := cellTypeOf(c)
	if err != nil {
		return columnPlan{err: &readOnlyError{reason: err.Error()}}
	}
	return columnPlan{property: c.LogicalName, cell: ct}
}

// writable checks that the mode may write the column. The primary id and the --key columns
// address rows and are always allowed.
func (t *importTable) writable(column string) error {
	c, ok := t.md.Column(column)
	if !ok {
		return nil
	}
	if c.IsPrimaryID || t.isKey(column) {
		return nil
	}
	switch t.mode {
	case "create":
		if !c.IsValidForCreate {
			return &readOnlyError{reason: fmt.Sprintf("%s cannot be set when a row is created (the service computes it)", c.LogicalName)}
		}
	case "update":
		if !c.IsValidForUpdate {
			return &readOnlyError{reason: fmt.Sprintf("%s cannot be changed by an update", c.LogicalName)}
		}
	default:
		if !c.IsValidForCreate && !c.IsValidForUpdate {
			return &readOnlyError{reason: fmt.Sprintf("%s cannot be written (the service computes it)", c.LogicalName)}
		}
	}
	return nil
}

// ownerTable is the table Dataverse's owner relationships (owner_accounts, …) reference: the
// abstract principal that systemuser and team derive from. It has no entity set of its own.
const ownerTable = "owner"

// bindTargets are the tables a reference through the lookup l may name: its relationship's
// table, or for an owner lookup (ownerid) the column's concrete targets, systemuser and team.
func (t *importTable) bindTargets(l *dataverse.LookupMetadata) []string {
	if len(l.Targets) == 1 && l.Targets[0] == ownerTable {
		if c, ok := t.md.Column(l.Attribute); ok && len(c.Targets) > 0 {
			return c.Targets
		}
	}
	return l.Targets
}

// bindPlan reads references through the navigation property nav pointing to targets.
func (t *importTable) bindPlan(nav string, targets []string) columnPlan {
	ct := cellType{kind: cellBind}
	for _, target := range targets {
		set, err := t.entitySet(target)
		if err != nil {
			return columnPlan{err: fmt.Errorf("reading the metadata of %s, the target of %s: %w", target, nav, err)}
		}
		ct.bindSets = append(ct.bindSets, set)
	}
	if len(ct.bindSets) == 1 {
		ct.bindSet = ct.bindSets[0]
	}
	return columnPlan{property: nav + "@odata.bind", cell: ct}
}

// cellTypeOf chooses how the column's values are read.
func cellTypeOf(c *dataverse.ColumnMetadata) (cellType, error) {
	switch c.AttributeType {
	case "String", "Memo":
		return cellType{kind: cellText, maxLength: c.MaxLength}, nil
	case "Integer":
		return cellType{kind: cellInt32}, nil
	case "BigInt":
		return cellType{kind: cellInt64}, nil
	case "Decimal", "Money", "Double":
		return cellType{kind: cellDecimal}, nil
	case "Boolean":
		return cellType{kind: cellBool}, nil
	case "DateTime":
		if c.DateTimeFormat == "DateOnly" || c.DateTimeBehavior == "DateOnly" {
			return cellType{kind: cellDate}, nil
		}
		return cellType{kind: cellDateTime}, nil
	case "Picklist", "State", "Status":
		return cellType{kind: cellChoice}, nil
	case "Uniqueidentifier":
		return cellType{kind: cellGUID}, nil
	case "Virtual":
		if c.AttributeTypeName == "MultiSelectPicklistType" {
			return cellType{kind: cellChoices}, nil
		}
	}
	return cellType{}, fmt.Errorf("%s is a %s column, which an import cannot write", c.LogicalName, c.AttributeType)
}

// value checks a JSON Lines value against the column's type and returns the value to send:
// strings where the Web API takes strings (text, dates, GUIDs, references), numbers and booleans
// as JSON has them. null is sent as null (it clears the column).
func (ct *cellType) value(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch ct.kind {
	case cellText, cellDate, cellDateTime, cellGUID, cellBind, cellChoices:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("is %s, not %s (a JSON string)", jsonKind(v), ct.kind)
		}
		out, err := ct.parse(s)
		if err == nil && ct.kind == cellText {
			return v, nil // the text unchanged: its box serves, where boxing it again would allocate
		}
		return out, err
	case cellBool:
		if _, ok := v.(bool); !ok {
			return nil, fmt.Errorf("is %s, not true or false", jsonKind(v))
		}
		return v, nil
	default:
		n, ok := v.(json.Number)
		if !ok {
			return nil, fmt.Errorf("is %s, not %s (a JSON number)", jsonKind(v), ct.kind)
		}
		return ct.parse(n.String())
	}
}

// jsonKind names the JSON type of a decoded value for messages.
func jsonKind(v any) string {
	switch x := v.(type) {
	case string:
		return "the string " + quoteCell(x)
	case json.Number:
		return "the number " + x.String()
	case bool:
		return fmt.Sprintf("%v", x)
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

func bindNames(navs []string) string {
	out := make([]string, len(navs))
	for i, n := range navs {
		out[i] = n + "@odata.bind"
	}
	return strings.Join(out, " or ")
}

func (t *importTable) setHint(targets []string) string {
	for _, target := range targets {
		if set, err := t.entitySet(target); err == nil {
			return set
		}
	}
	return "accounts"
}

func (t *importTable) lookupHint() string {
	var names []string
	for _, l := range t.md.Lookups {
		c, ok := t.md.Column(l.Attribute)
		if ok && (c.IsValidForCreate || c.IsValidForUpdate) {
			names = append(names, l.NavigationProperty)
		}
		if len(names) == 6 {
			names = append(names, "…")
			break
		}
	}
	if len(names) == 0 {
		return "it has no writable lookups"
	}
	return "its lookups include " + strings.Join(names, ", ")
}

func (t *importTable) exampleColumns() string {
	var names []string
	if t.md.PrimaryNameAttribute != "" {
		names = append(names, t.md.PrimaryNameAttribute)
	}
	names = append(names, t.md.PrimaryIDAttribute)
	return strings.Join(names, ", ")
}
