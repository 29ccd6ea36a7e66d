package webapi

import (
	"errors"
	"fmt"
	"testing"

	"github.com/d365s2s/d365/emulator/internal/store"
)

// TestStoreKindWire pins the status and code each store failure is
// answered with: the codes the store carried itself before its failures
// became kinds, written out so a change to the catalogue shows here.
func TestStoreKindWire(t *testing.T) {
	tests := []struct {
		kind   store.Kind
		reason store.Reason
		status int
		code   string
	}{
		{store.KindNotFound, store.ReasonNone, 404, "0x80040217"},
		{store.KindValidation, store.ReasonNone, 400, "0x80044331"},
		{store.KindValidation, store.ReasonRequiredMissing, 400, "0x80040200"},
		{store.KindValidation, store.ReasonOptionSetValueOutOfRange, 400, "0x8004431a"},
		{store.KindValidation, store.ReasonInvalidStateTransition, 400, "0x80040203"},
		{store.KindValidation, store.ReasonBusinessUnitDisabled, 400, "0x8004032c"},
		{store.KindValidation, store.ReasonAggregateLimit, 400, "0x8004e023"},
		{store.KindValidation, store.ReasonTooManyJoins, 400, "0x8004430d"},
		{store.KindValidation, store.ReasonJoinTypeMismatch, 400, "0x80041104"},
		{store.KindPrivilege, store.ReasonNone, 403, "0x80040220"},
		{store.KindAccess, store.ReasonNone, 403, "0x80040220"},
		{store.KindDisabled, store.ReasonNone, 403, "0x80040225"},
		{store.KindNoRoles, store.ReasonNone, 403, "0x80042f09"},
		{store.KindConcurrency, store.ReasonNone, 412, "0x80060882"},
		{store.KindDuplicate, store.ReasonNone, 412, "0x80040237"},
		{store.KindAssociation, store.ReasonNone, 405, "0x80040227"},
		{store.KindNoUser, store.ReasonNone, 403, "0x80072560"},
	}
	for _, tt := range tests {
		se := &store.Error{Kind: tt.kind, Reason: tt.reason, Message: "m"}
		ae, ok := toAPIError(fmt.Errorf("wrapped: %w", se))
		if !ok || ae.status != tt.status || ae.code != tt.code || ae.message != "m" {
			t.Errorf("kind %d reason %d: %d %q %q, want %d %q", tt.kind, tt.reason, ae.status, ae.code, ae.message, tt.status, tt.code)
		}
	}
	if ae, ok := toAPIError(errors.New("disk on fire")); ok || ae.status != 500 || ae.code != "0x80040216" || ae.message != "An unexpected error occurred." {
		t.Errorf("unclassified error: %v %+v", ok, ae)
	}
}
