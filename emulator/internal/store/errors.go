package store

import (
	"errors"
	"fmt"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// Kind classifies a store failure; the Web API maps it (with its Reason)
// to an HTTP status and a Dataverse error code, all in one function of
// package webapi. The store holds no wire code.
type Kind uint8

// The failure kinds.
const (
	KindNotFound    Kind = iota + 1 // row (or referenced row) does not exist: 404
	KindValidation                  // a value breaks the column's rules: 400
	KindPrivilege                   // the caller lacks a privilege: 403
	KindAccess                      // the caller's privilege does not reach the row: 403
	KindDisabled                    // the caller's user is disabled
	KindNoRoles                     // the caller's user has no security role
	KindConcurrency                 // ETag mismatch: 412
	KindDuplicate                   // key already exists: 412
	KindAssociation                 // delete blocked by a Restrict relationship: 405
	KindNoUser                      // no application user for the app: 403
)

// Reason refines a KindValidation failure where Dataverse answers with a
// code of its own; ReasonNone is the generic validation error.
type Reason uint8

// The validation reasons.
const (
	ReasonNone                     Reason = iota
	ReasonRequiredMissing                 // a SystemRequired column left empty or nulled
	ReasonOptionSetValueOutOfRange        // a choice value the column does not list
	ReasonInvalidStateTransition          // a statuscode that does not belong to the statecode
	ReasonBusinessUnitDisabled            // a business unit created under a disabled parent
	ReasonAggregateLimit                  // an aggregation over more than AggregateRowLimit rows
	ReasonTooManyJoins                    // more than MaxJoins joins
	ReasonJoinTypeMismatch                // join columns of different types
)

// Error is a failure with its kind and Dataverse's message.
type Error struct {
	Kind Kind
	// Reason refines KindValidation; ReasonNone otherwise.
	Reason Reason
	// Privilege is the missing privilege's name (prvReadcontact) of a
	// KindPrivilege failure.
	Privilege string
	// Message is Dataverse's message text.
	Message string
}

// Error returns the message Dataverse would put in the error envelope.
func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, &Error{Kind: k}) match on the kind alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Reason == ReasonNone && t.Privilege == "" && t.Message == "" && t.Kind == e.Kind
}

// KindOf returns the kind of a store *Error in err's chain, or 0.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// The messages of RequiredFieldMissing for one column, with the column's
// and the table's logical names [unverified: the catalogue gives only the
// generic "Required field missing."; these name the column and the fix].
const (
	// requiredMissingFormat is a create that gives no value for a
	// SystemRequired column.
	requiredMissingFormat = "A validation error occurred.  A value for the '%s' attribute of the '%s' entity is required."
	// requiredNulledFormat is an update that sets a SystemRequired column
	// to null (PATCH with null, PUT {"value":null}, DELETE of the
	// property, or of a required lookup's $ref).
	requiredNulledFormat = "A validation error occurred.  The '%s' attribute of the '%s' entity is SystemRequired and cannot be set to null."
)

func requiredMissing(c *schema.Column) *Error {
	return &Error{Kind: KindValidation, Reason: ReasonRequiredMissing,
		Message: fmt.Sprintf(requiredMissingFormat, c.LogicalName, c.Table.LogicalName)}
}

func requiredNulled(c *schema.Column) *Error {
	return &Error{Kind: KindValidation, Reason: ReasonRequiredMissing,
		Message: fmt.Sprintf(requiredNulledFormat, c.LogicalName, c.Table.LogicalName)}
}

func notFound(table, id string) *Error {
	return &Error{Kind: KindNotFound,
		Message: fmt.Sprintf("%s With Id = %s Does Not Exist", table, id)}
}

func validationf(format string, args ...any) *Error {
	return &Error{Kind: KindValidation, Message: fmt.Sprintf(format, args...)}
}
