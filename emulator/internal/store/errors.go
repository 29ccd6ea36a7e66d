package store

import (
	"errors"
	"fmt"

	"github.com/d365s2s/d365/emulator/internal/schema"
)

// Kind classifies a store failure; the Web API maps it to an HTTP status.
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

// Error is a failure with Dataverse's error code and message.
type Error struct {
	Kind Kind
	// Code is the Dataverse error code as written in the error envelope
	// ("0x80040217").
	Code string
	// Message is Dataverse's message text.
	Message string
}

// Error returns the message Dataverse would put in the error envelope.
func (e *Error) Error() string { return e.Message }

// Is makes errors.Is(err, &Error{Kind: k}) match on the kind alone.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == "" && t.Message == "" && t.Kind == e.Kind
}

// KindOf returns the kind of a store *Error in err's chain, or 0.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

// Dataverse error codes the store produces.
const (
	CodeObjectDoesNotExist         = "0x80040217"
	CodeValidation                 = "0x80044331"
	CodeOptionSetValueOutOfRange   = "0x8004431a"
	CodePrivilegeDenied            = "0x80040220"
	CodeConcurrencyVersionMismatch = "0x80060882"
	CodeDuplicateRecord            = "0x80040237"
	CodeUserNotMemberOfOrg         = "0x80072560"
	CodeUserNotAssignedRoles       = "0x80042f09"
	// CodeUserDisabled is the code of "The user with SystemUserId=… is
	// disabled." [unverified: the reference gives the message but no code].
	CodeUserDisabled = "0x80040225"
	// CodeCannotDeleteDueToAssociation is refused deletes of rows still
	// referenced through a Restrict relationship [unverified code].
	CodeCannotDeleteDueToAssociation = "0x80040227"
	// CodeRecordAccessDenied is the code for a privilege whose depth does
	// not reach the row [unverified: the reference gives the message shape
	// only].
	CodeRecordAccessDenied = "0x80040220"
	// CodeInvalidStateTransition is a statuscode that does not belong to
	// the statecode [unverified code and message].
	CodeInvalidStateTransition = "0x80040203"
	// CodeRequiredMissing is a SystemRequired column left empty or nulled:
	// RequiredFieldMissing in Dataverse's error catalogue ("Required field
	// missing."), answered 400.
	CodeRequiredMissing = "0x80040200"
)

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
	return &Error{Kind: KindValidation, Code: CodeRequiredMissing,
		Message: fmt.Sprintf(requiredMissingFormat, c.LogicalName, c.Table.LogicalName)}
}

func requiredNulled(c *schema.Column) *Error {
	return &Error{Kind: KindValidation, Code: CodeRequiredMissing,
		Message: fmt.Sprintf(requiredNulledFormat, c.LogicalName, c.Table.LogicalName)}
}

func notFound(table, id string) *Error {
	return &Error{Kind: KindNotFound, Code: CodeObjectDoesNotExist,
		Message: fmt.Sprintf("%s With Id = %s Does Not Exist", table, id)}
}

func validationf(format string, args ...any) *Error {
	return &Error{Kind: KindValidation, Code: CodeValidation, Message: fmt.Sprintf(format, args...)}
}
