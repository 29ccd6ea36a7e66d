package webapi

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/odata"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// apiError is a failure answered with Dataverse's error envelope. Its
// codes and the errors of fixed wording are in package dverr.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.message }

func newError(status int, code, format string, args ...any) *apiError {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// fromCatalogue is an error of dverr's catalogue.
func fromCatalogue(e *dverr.Error) *apiError {
	return &apiError{status: e.Status, code: e.Code, message: e.Message}
}

// wire is the envelope's view of e.
func (e *apiError) wire() *dverr.Error {
	return &dverr.Error{Status: e.status, Code: e.code, Message: e.message}
}

func errResourceNotFound(segment string) *apiError {
	return fromCatalogue(dverr.ResourceNotFound(segment))
}

func errPropertyNotFound(name string, t interface{ EntityTypeName() string }) *apiError {
	return fromCatalogue(dverr.PropertyNotFound(name, t.EntityTypeName()))
}

// errNotMemberOfOrganization is Dataverse's answer to a caller without an
// application user in the organization (UserNotMemberOfOrg), here for a
// token issued by another tenant.
func errNotMemberOfOrganization() *apiError {
	return fromCatalogue(dverr.NotMemberOfOrganization())
}

func errNoHTTPResource(url string) *apiError {
	return fromCatalogue(dverr.NoHTTPResource(url))
}

func errMethodNotAllowed(method string) *apiError {
	return fromCatalogue(dverr.MethodNotAllowed(method))
}

func errNotImplemented(what string) *apiError {
	return fromCatalogue(dverr.NotImplemented(what))
}

func errUnexpected() *apiError { return fromCatalogue(dverr.Unexpected()) }

// toAPIError maps any failure to the status, code and message to send.
func toAPIError(err error) (*apiError, bool) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae, true
	}
	var de *dverr.Error
	if errors.As(err, &de) {
		return fromCatalogue(de), true
	}
	var se *store.Error
	if errors.As(err, &se) {
		return storeError(se), true
	}
	var syn *odata.SyntaxError
	if errors.As(err, &syn) {
		return &apiError{status: http.StatusBadRequest, code: dverr.CodeQuerySyntax, message: syn.Msg}, true
	}
	return errUnexpected(), false
}

// logFailure logs a failure answered with ae: a server error (5xx, or
// any failure toAPIError did not know) at Error with the underlying
// error, the only place its cause is kept, since the envelope says only
// "An unexpected error occurred."; a refusal at Info with its reason.
//
// A failure of a request whose client went away (ctx done) is logged at
// Info: it is the cancellation, not a server error.
func (h *Handler) logFailure(ctx context.Context, msg string, err error, ae *apiError, known bool, attrs ...any) {
	if ctx.Err() != nil {
		h.log.Info(msg+" (the client went away)", append(attrs, "err", err)...)
		return
	}
	if !known || ae.status >= http.StatusInternalServerError {
		h.log.Error(msg, append(attrs, "status", ae.status, "code", ae.code, "err", err)...)
		return
	}
	h.log.Info(msg, append(attrs, "status", ae.status, "code", ae.code, "reason", ae.message)...)
}

// storeError maps a store failure's kind (and reason) to the status and
// code Dataverse answers it with: the one place where the store's kinds
// meet wire codes.
func storeError(se *store.Error) *apiError {
	status, code := storeKindWire(se.Kind, se.Reason)
	return &apiError{status: status, code: code, message: se.Message}
}

func storeKindWire(k store.Kind, r store.Reason) (status int, code string) {
	switch k {
	case store.KindNotFound:
		return http.StatusNotFound, dverr.CodeObjectDoesNotExist
	case store.KindValidation:
		return http.StatusBadRequest, validationCode(r)
	case store.KindPrivilege:
		return http.StatusForbidden, dverr.CodePrivilegeDenied
	case store.KindNoUser:
		return http.StatusForbidden, dverr.CodeUserNotMemberOfOrg
	case store.KindAccess:
		return dverr.StatusRecordAccess, dverr.CodeRecordAccessDenied
	case store.KindDisabled:
		return dverr.StatusUserDisabled, dverr.CodeUserDisabled
	case store.KindNoRoles:
		return dverr.StatusNoRoles, dverr.CodeUserNotAssignedRoles
	case store.KindConcurrency:
		return http.StatusPreconditionFailed, dverr.CodeConcurrencyVersionMismatch
	case store.KindDuplicate:
		return http.StatusPreconditionFailed, dverr.CodeDuplicateRecord
	case store.KindAssociation:
		return dverr.StatusAssociation, dverr.CodeCannotDeleteDueToAssociation
	}
	return http.StatusInternalServerError, dverr.CodeUnexpected
}

func validationCode(r store.Reason) string {
	switch r {
	case store.ReasonRequiredMissing:
		return dverr.CodeRequiredMissing
	case store.ReasonOptionSetValueOutOfRange:
		return dverr.CodeOptionSetValueOutOfRange
	case store.ReasonInvalidStateTransition:
		return dverr.CodeInvalidStateTransition
	case store.ReasonBusinessUnitDisabled:
		return dverr.CodeBusinessNotEnabled
	case store.ReasonAggregateLimit:
		return dverr.CodeAggregateLimit
	case store.ReasonTooManyJoins:
		return dverr.CodeTooManyJoins
	case store.ReasonJoinTypeMismatch:
		return dverr.CodeJoinTypeMismatch
	}
	return dverr.CodeValidation
}

// writeError sends the error envelope {"error":{"code":…,"message":…}}.
func writeError(w http.ResponseWriter, e *apiError) { writeErrorDetails(w, e, preferences{}) }

// writeErrorDetails sends the error envelope, with the error-detail
// annotations Prefer: odata.include-annotations asks for.
func writeErrorDetails(w http.ResponseWriter, e *apiError, prefer preferences) {
	// The envelope's size, so it is built in one allocation: the frame
	// and the code and message, and with annotations their names, the
	// help link and the message again.
	size := 48 + len(e.code) + len(e.message)
	var want func(string) bool
	if len(prefer.includeAnnotations) > 0 {
		want = prefer.wantsAnnotation
		size += 448 + len(e.code) + len(e.message)
	}
	body := dverr.AppendEnvelope(make([]byte, 0, size), e.wire(), want)
	w.Header().Set("Content-Type", contentTypeJSON)
	w.WriteHeader(e.status)
	_, _ = w.Write(body)
}
