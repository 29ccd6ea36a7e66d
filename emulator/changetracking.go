package emulator

import (
	"net/http"

	"github.com/d365s2s/d365/emulator/internal/scenario"
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
