package webapi

import (
	"net/http"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/dverr"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// The optional parameters that bypass custom business logic, as request
// headers (https://learn.microsoft.com/power-apps/developer/data-platform/bypass-custom-business-logic).
// The emulator runs no plug-ins, so bypassing changes nothing but the
// privilege check: a caller without the privilege is refused as Dataverse
// refuses it.
const (
	headerBypassCustomPlugins = "MSCRM.BypassCustomPluginExecution"
	headerBypassBusinessLogic = "MSCRM.BypassBusinessLogicExecution"
)

// bypassLogicValues are the values MSCRM.BypassBusinessLogicExecution
// takes, alone or comma-separated.
var bypassLogicValues = []string{"CustomSync", "CustomAsync"}

// checkBypass refuses a request whose bypass headers ask for a bypass the
// principal holds no privilege for: MSCRM.BypassCustomPluginExecution:
// true needs prvBypassCustomPlugins, MSCRM.BypassBusinessLogicExecution
// needs prvBypassCustomBusinessLogic. A missing privilege is the
// PrivilegeDenied error (403 0x80040220) naming it [unverified: the docs
// name the privileges but not the error; this is the shape of every other
// missing privilege]. A value the header does not take is 400.
func (req *request) checkBypass() error {
	h := req.r.Header
	if values, ok := h[http.CanonicalHeaderKey(headerBypassCustomPlugins)]; ok {
		v := strings.TrimSpace(strings.Join(values, ","))
		switch {
		case strings.EqualFold(v, "true"):
			if err := req.h.store.RequirePrivilege(req.p, store.PrivilegeBypassCustomPlugins); err != nil {
				return err
			}
		case strings.EqualFold(v, "false"):
		default:
			return newError(http.StatusBadRequest, dverr.CodeInvalidBypassValue,
				"The value '%s' of the %s header is not valid. Send true to bypass custom synchronous plug-ins, or false.", truncate(v, 64), headerBypassCustomPlugins)
		}
	}
	if values, ok := h[http.CanonicalHeaderKey(headerBypassBusinessLogic)]; ok {
		v := strings.Join(values, ",")
		if !validBypassLogic(v) {
			return newError(http.StatusBadRequest, dverr.CodeInvalidBypassValue,
				"The value '%s' of the %s header is not valid. The allowed values are CustomSync, CustomAsync, or both separated by a comma (CustomSync,CustomAsync).",
				truncate(strings.TrimSpace(v), 64), headerBypassBusinessLogic)
		}
		if err := req.h.store.RequirePrivilege(req.p, store.PrivilegeBypassCustomBusinessLogic); err != nil {
			return err
		}
	}
	return nil
}

// validBypassLogic reports whether v is CustomSync, CustomAsync or both,
// comma-separated (in any case, with spaces around the commas).
func validBypassLogic(v string) bool {
	items := strings.Split(v, ",")
	seen := map[string]bool{}
	for _, item := range items {
		item = strings.TrimSpace(item)
		ok := false
		for _, allowed := range bypassLogicValues {
			if strings.EqualFold(item, allowed) && !seen[allowed] {
				seen[allowed], ok = true, true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
