package dataverse

import (
	"context"
	"net/http"
	"testing"
)

// TestUpdateByKeyIDFromRepresentation: a PATCH with return=representation answers 200 with the
// record and no OData-EntityId header (webapi.md §1.2), so UpdateByKey must find the id in the
// representation's primary key, as its documentation promises. (Found by the end-to-end tests
// against the emulator.)
func TestUpdateByKeyIDFromRepresentation(t *testing.T) {
	t.Parallel()
	f := newFakeAPI(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Prefer") != "return=representation" {
			t.Errorf("Prefer = %q", r.Header.Get("Prefer"))
		}
		w.Header().Set("ETag", `W/"7"`)
		writeJSON(w, http.StatusOK, `{"@odata.etag":"W/\"7\"","contactid":"`+idA.String()+`","lastname":"x"}`)
	}, nil)
	res, err := f.client.UpdateByKey(context.Background(), "contacts", AlternateKey{"emailaddress1": "a@example.com"},
		Record{"lastname": "x"}, &UpdateOptions{ReturnRepresentation: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.ID != idA || res.EntityID != "" || res.Created || res.ETag != `W/"7"` {
		t.Errorf("UpdateByKey = %+v, want ID %v from the representation", res, idA)
	}
}
