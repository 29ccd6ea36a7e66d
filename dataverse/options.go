package dataverse

import (
	"net/http"
	"strings"

	"github.com/google/uuid"
)

// RequestOptions are the per-request options every operation accepts
// (each XxxOptions type embeds it). The zero value sends none of them.
//
// See https://learn.microsoft.com/power-apps/developer/data-platform/optional-parameters
// and https://learn.microsoft.com/power-apps/developer/data-platform/webapi/impersonate-another-user-web-api
type RequestOptions struct {
	// CallerObjectID impersonates the user with this Microsoft Entra object
	// id (header CallerObjectId). The application user needs the
	// prvActOnBehalfOfAnotherUser privilege (Delegate role).
	CallerObjectID uuid.UUID

	// CallerID impersonates the systemuser with this id (legacy header
	// MSCRMCallerID). Prefer CallerObjectID.
	CallerID uuid.UUID

	// BypassCustomPluginExecution skips custom synchronous plug-ins
	// (header MSCRM.BypassCustomPluginExecution: true); needs
	// prvBypassCustomPlugins.
	BypassCustomPluginExecution bool

	// BypassBusinessLogicExecution skips custom business logic; values are
	// "CustomSync", "CustomAsync" or both (header
	// MSCRM.BypassBusinessLogicExecution); needs prvBypassCustomBusinessLogic.
	BypassBusinessLogicExecution []string

	// BypassBusinessLogicExecutionStepIDs skips the plug-in steps with
	// these ids (header MSCRM.BypassBusinessLogicExecutionStepIds).
	BypassBusinessLogicExecutionStepIDs []uuid.UUID

	// DuplicateDetection turns duplicate detection on for this create or
	// update (header MSCRM.SuppressDuplicateDetection: false). The Web API
	// does not detect duplicates unless asked; a duplicate then fails with
	// 412 CodeDuplicateDetected.
	DuplicateDetection bool

	// SuppressCallbackRegistrationExpanderJob keeps Power Automate flows
	// from being triggered by this request.
	SuppressCallbackRegistrationExpanderJob bool

	// SolutionUniqueName adds a created or updated solution component to
	// this unmanaged solution (header MSCRM.SolutionUniqueName).
	SolutionUniqueName string

	// StrongConsistency bypasses the caches for metadata, labels and
	// permissions (header Consistency: Strong), for reads right after a
	// schema or security change.
	StrongConsistency bool

	// Tag is a string passed to plug-ins as the shared variable "tag"
	// (query parameter tag=).
	Tag string

	// Header holds extra request headers. They are applied last and replace
	// headers of the same name that the client set.
	Header http.Header
}

// apply writes the options onto h and returns the extra query parameters
// (already encoded, "&"-joined) they add.
func (o *RequestOptions) apply(h http.Header) (query string, err error) {
	if o == nil {
		return "", nil
	}
	if o.CallerObjectID != uuid.Nil {
		h.Set("CallerObjectId", o.CallerObjectID.String())
	}
	if o.CallerID != uuid.Nil {
		h.Set("MSCRMCallerID", o.CallerID.String())
	}
	if o.BypassCustomPluginExecution {
		h.Set("MSCRM.BypassCustomPluginExecution", "true")
	}
	if len(o.BypassBusinessLogicExecution) > 0 {
		for _, v := range o.BypassBusinessLogicExecution {
			if v != "CustomSync" && v != "CustomAsync" {
				return "", invalidf("dataverse: BypassBusinessLogicExecution value %q is not CustomSync or CustomAsync", v)
			}
		}
		h.Set("MSCRM.BypassBusinessLogicExecution", strings.Join(o.BypassBusinessLogicExecution, ","))
	}
	if len(o.BypassBusinessLogicExecutionStepIDs) > 0 {
		ids := make([]string, len(o.BypassBusinessLogicExecutionStepIDs))
		for i, id := range o.BypassBusinessLogicExecutionStepIDs {
			ids[i] = id.String()
		}
		h.Set("MSCRM.BypassBusinessLogicExecutionStepIds", strings.Join(ids, ","))
	}
	if o.DuplicateDetection {
		h.Set("MSCRM.SuppressDuplicateDetection", "false")
	}
	if o.SuppressCallbackRegistrationExpanderJob {
		h.Set("MSCRM.SuppressCallbackRegistrationExpanderJob", "true")
	}
	if o.SolutionUniqueName != "" {
		h.Set("MSCRM.SolutionUniqueName", o.SolutionUniqueName)
	}
	if o.StrongConsistency {
		h.Set("Consistency", "Strong")
	}
	for name, values := range o.Header {
		if len(values) == 0 {
			continue
		}
		h.Del(name)
		for _, v := range values {
			if strings.ContainsAny(v, "\r\n") {
				return "", invalidf("dataverse: header %s contains a line break", name)
			}
			h.Add(name, v)
		}
	}
	if o.Tag != "" {
		query = "tag=" + escapeComponent(o.Tag)
	}
	return query, nil
}
