package emulator

import (
	"context"
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/scenario"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// DefaultExpireChangeTrackingInDays is the organization's ExpireChangeTrackingInDays unless a
// scenario (organization.expireChangeTrackingInDays) or SetExpireChangeTrackingInDays says
// otherwise: Microsoft Learn documents 7 days for tracked deletes
// (https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems).
const DefaultExpireChangeTrackingInDays = store.DefaultExpireChangeTrackingInDays

// initChangeTracking sets the organization's ExpireChangeTrackingInDays from the scenario (or the
// default) and remembers it for Reset.
func (e *Emulator) initChangeTracking(plan *scenario.Plan) error {
	e.expireChangeTrackingInDays = DefaultExpireChangeTrackingInDays
	if plan != nil && plan.ExpireChangeTrackingInDays != nil {
		e.expireChangeTrackingInDays = *plan.ExpireChangeTrackingInDays
	}
	return e.SetExpireChangeTrackingInDays(e.expireChangeTrackingInDays)
}

// ExpireChangeTrackingInDays returns the organization's ExpireChangeTrackingInDays: how many days
// a change-tracking delta token stays valid (on the emulator's clock, so SetClockOffset ages
// tokens).
func (e *Emulator) ExpireChangeTrackingInDays() int { return e.store.ExpireChangeTrackingInDays() }

// SetExpireChangeTrackingInDays sets the organization's ExpireChangeTrackingInDays, 0 to 365
// (organization.expirechangetrackingindays,
// https://learn.microsoft.com/power-apps/developer/data-platform/reference/entities/organization#BKMK_ExpireChangeTrackingInDays).
// A delta token older than that many days is answered 0x80044352 "Version stamp associated with
// the client has expired. Please perform a full sync."; 0 expires every token at once. Reset
// returns to the scenario's value (or the default).
func (e *Emulator) SetExpireChangeTrackingInDays(days int) error {
	if err := e.store.SetExpireChangeTrackingInDays(days); err != nil {
		return invalidf("expireChangeTrackingInDays %d is out of range: give 0 to %d days", days, store.MaxExpireChangeTrackingInDays)
	}
	return nil
}

// changeTrackingState is the admin API's view of the change-tracking settings.
type changeTrackingState struct {
	ExpireChangeTrackingInDays *int `json:"expireChangeTrackingInDays"`
}

// adminGetChangeTracking answers GET /_emulator/change-tracking.
func (e *Emulator) adminGetChangeTracking(w http.ResponseWriter, _ *http.Request) {
	days := e.ExpireChangeTrackingInDays()
	writeJSONResponse(w, http.StatusOK, changeTrackingState{ExpireChangeTrackingInDays: &days})
}

// adminSetChangeTracking answers PUT /_emulator/change-tracking.
func (e *Emulator) adminSetChangeTracking(w http.ResponseWriter, r *http.Request) {
	var req changeTrackingState
	if err := decodeBody(r, &req, false); err != nil {
		writeErr(w, err)
		return
	}
	if req.ExpireChangeTrackingInDays == nil {
		writeErr(w, invalidf(`give the number of days, e.g. {"expireChangeTrackingInDays": 7}`))
		return
	}
	if err := e.SetExpireChangeTrackingInDays(*req.ExpireChangeTrackingInDays); err != nil {
		writeErr(w, err)
		return
	}
	e.adminGetChangeTracking(w, r)
}

// ChangeTracking reports whether change tracking is on for the table with logical name table
// (EntityMetadata.ChangeTrackingEnabled): its schema's value, or what SetChangeTracking last set.
func (e *Emulator) ChangeTracking(table string) (bool, error) {
	t, err := e.trackableTable(table)
	if err != nil {
		return false, err
	}
	return e.store.ChangeTracked(t), nil
}

// SetChangeTracking switches change tracking on or off for the table with logical name table,
// as updating its definition's ChangeTrackingEnabled does in Dataverse
// (https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems).
// Switched off, the table's deletes are no longer kept and every change-tracking read of it,
// a saved delta link included, is answered 0x80072491 "Entity {0} isn't enabled for change
// tracking."; EntityDefinitions shows ChangeTrackingEnabled false. Switched on again, a delta
// token taken before is answered 0x80044352 (expired: the changes made while tracking was off
// are not known) and a new full load with Prefer: odata.track-changes starts over. The switch
// lasts until Reset (which returns every table to its schema's value) or the emulator stops: it
// is kept in memory, not in the data directory. The $metadata document's
// ChangeTracking annotation keeps the schema's value.
func (e *Emulator) SetChangeTracking(ctx context.Context, table string, on bool) error {
	t, err := e.trackableTable(table)
	if err != nil {
		return err
	}
	if _, err := e.store.SetChangeTracking(ctx, t, on); err != nil {
		return fromStore(err)
	}
	return nil
}

// trackableTable finds the table a change-tracking switch names by its logical name.
func (e *Emulator) trackableTable(table string) (*schema.Table, error) {
	sch := e.store.Schema()
	if t, ok := sch.Table(table); ok {
		if t.EntitySetName == "" || t.Intersect != nil {
			return nil, invalidf("table %q is an intersect table, which cannot have change tracking", table)
		}
		return t, nil
	}
	if t, ok := sch.TableBySet(table); ok {
		return nil, notFoundf("no table has the logical name %q; %q is the entity set of %q: give the logical name", table, table, t.LogicalName)
	}
	if t, ok := sch.Table(strings.ToLower(table)); ok {
		return nil, notFoundf("no table has the logical name %q; logical names are lower case: %q", table, t.LogicalName)
	}
	return nil, notFoundf("no table has the logical name %q", table)
}

// tableChangeTracking is the admin API's view of one table's change-tracking switch.
type tableChangeTracking struct {
	Table                 string `json:"table"`
	ChangeTrackingEnabled *bool  `json:"changeTrackingEnabled"`
}

// adminGetTableChangeTracking answers GET /_emulator/change-tracking/tables/{table}.
func (e *Emulator) adminGetTableChangeTracking(w http.ResponseWriter, r *http.Request) {
	table := r.PathValue("table")
	on, err := e.ChangeTracking(table)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSONResponse(w, http.StatusOK, tableChangeTracking{Table: table, ChangeTrackingEnabled: &on})
}

// adminSetTableChangeTracking answers PUT /_emulator/change-tracking/tables/{table}.
func (e *Emulator) adminSetTableChangeTracking(w http.ResponseWriter, r *http.Request) {
	var req tableChangeTracking
	if err := decodeBody(r, &req, false); err != nil {
		writeErr(w, err)
		return
	}
	if req.ChangeTrackingEnabled == nil {
		writeErr(w, invalidf(`give the switch, e.g. {"changeTrackingEnabled": false}`))
		return
	}
	if err := e.SetChangeTracking(r.Context(), r.PathValue("table"), *req.ChangeTrackingEnabled); err != nil {
		writeErr(w, err)
		return
	}
	e.adminGetTableChangeTracking(w, r)
}
