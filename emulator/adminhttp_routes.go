package emulator

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"
)

// adminRoute is one route of the admin API: the method and path pattern http.ServeMux matches,
// and the handler. adminRouteTable lists them all; TestAdminRouteTableMatchesDoc checks the table
// in doc.go against it.
type adminRoute struct {
	method, path string
	handler      func(*Emulator, http.ResponseWriter, *http.Request)
}

// adminRouteTable is the admin API. Every route mirrors an *Emulator method (and an
// adminclient.Client method); the traffic routes (limits, faults, log) come from the traffic
// package and are added by adminRoutes.
var adminRouteTable = []adminRoute{
	{"GET", "/_emulator/health", (*Emulator).adminHealth},
	// Tenants.
	{"GET", "/_emulator/tenants", (*Emulator).adminListTenants},
	{"POST", "/_emulator/tenants", (*Emulator).adminAddTenant},
	{"GET", "/_emulator/tenants/{tenant}", (*Emulator).adminGetTenant},
	// App registrations.
	{"GET", "/_emulator/apps", (*Emulator).adminListApps},
	{"POST", "/_emulator/apps", (*Emulator).adminCreateApp},
	{"GET", "/_emulator/apps/{app}", (*Emulator).adminGetApp},
	{"PATCH", "/_emulator/apps/{app}", (*Emulator).adminPatchApp},
	{"DELETE", "/_emulator/apps/{app}", (*Emulator).adminRemoveApp},
	// Secrets.
	{"GET", "/_emulator/apps/{app}/secrets", (*Emulator).adminListSecrets},
	{"POST", "/_emulator/apps/{app}/secrets", (*Emulator).adminAddSecret},
	{"DELETE", "/_emulator/apps/{app}/secrets/{id}", (*Emulator).adminRemoveSecret},
	// Certificates.
	{"GET", "/_emulator/apps/{app}/certificates", (*Emulator).adminListCertificates},
	{"POST", "/_emulator/apps/{app}/certificates", (*Emulator).adminAddCertificate},
	{"DELETE", "/_emulator/apps/{app}/certificates/{id}", (*Emulator).adminRemoveCertificate},
	// Application users.
	{"GET", "/_emulator/appusers", (*Emulator).adminListAppUsers},
	{"POST", "/_emulator/appusers", (*Emulator).adminCreateAppUser},
	{"GET", "/_emulator/appusers/{app}", (*Emulator).adminGetAppUser},
	{"PATCH", "/_emulator/appusers/{app}", (*Emulator).adminPatchAppUser},
	{"DELETE", "/_emulator/appusers/{app}", (*Emulator).adminRemoveAppUser},
	// Security roles, privileges, business units.
	{"GET", "/_emulator/roles", (*Emulator).adminListRoles},
	{"POST", "/_emulator/roles", (*Emulator).adminCreateRole},
	{"GET", "/_emulator/roles/{role}", (*Emulator).adminGetRole},
	{"PATCH", "/_emulator/roles/{role}", (*Emulator).adminPatchRole},
	{"DELETE", "/_emulator/roles/{role}", (*Emulator).adminRemoveRole},
	{"GET", "/_emulator/privileges", (*Emulator).adminListPrivileges},
	{"GET", "/_emulator/businessunits", (*Emulator).adminListBusinessUnits},
	{"POST", "/_emulator/businessunits", (*Emulator).adminCreateBusinessUnit},
	{"GET", "/_emulator/businessunits/{bu}", (*Emulator).adminGetBusinessUnit},
	{"PATCH", "/_emulator/businessunits/{bu}", (*Emulator).adminPatchBusinessUnit},
	// Whole state.
	{"POST", "/_emulator/reset", (*Emulator).adminReset},
	{"GET", "/_emulator/snapshots", (*Emulator).adminListSnapshots},
	{"POST", "/_emulator/snapshots", (*Emulator).adminSaveSnapshot},
	{"POST", "/_emulator/snapshots/{name}/restore", (*Emulator).adminRestoreSnapshot},
	{"DELETE", "/_emulator/snapshots/{name}", (*Emulator).adminRemoveSnapshot},
	// Time.
	{"GET", "/_emulator/clock", (*Emulator).adminGetClock},
	{"PUT", "/_emulator/clock", (*Emulator).adminSetClock},
	{"GET", "/_emulator/token-lifetime", (*Emulator).adminGetTokenLifetime},
	{"PUT", "/_emulator/token-lifetime", (*Emulator).adminSetTokenLifetime},
	{"GET", "/_emulator/change-tracking", (*Emulator).adminGetChangeTracking},
	{"PUT", "/_emulator/change-tracking", (*Emulator).adminSetChangeTracking},
	{"GET", "/_emulator/change-tracking/tables/{table}", (*Emulator).adminGetTableChangeTracking},
	{"PUT", "/_emulator/change-tracking/tables/{table}", (*Emulator).adminSetTableChangeTracking},
	{"GET", "/_emulator/signing-keys", (*Emulator).adminListSigningKeys},
	{"POST", "/_emulator/signing-keys", (*Emulator).adminRotateSigningKey},
}

// adminRoutes returns every admin route: the table and the traffic package's routes.
func (e *Emulator) adminRoutes() []adminRoute {
	routes := slices.Clone(adminRouteTable)
	if e.traffic != nil {
		for _, r := range e.traffic.AdminRoutes() {
			h := r.Handler
			routes = append(routes, adminRoute{r.Method, r.Path, func(_ *Emulator, w http.ResponseWriter, r *http.Request) { h(w, r) }})
		}
	}
	return routes
}

// registerAdminRoutes adds every admin route to mux.
func (e *Emulator) registerAdminRoutes(mux *http.ServeMux) {
	for _, route := range e.adminRoutes() {
		handler := route.handler
		mux.HandleFunc(route.method+" "+route.path, func(w http.ResponseWriter, r *http.Request) { handler(e, w, r) })
	}
}

// adminHealth answers GET /_emulator/health.
func (e *Emulator) adminHealth(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"status":"ok"}`)
}

// adminListTenants answers GET /_emulator/tenants.
func (e *Emulator) adminListTenants(w http.ResponseWriter, r *http.Request) {
	respond(w, http.StatusOK)(e.Tenants(r.Context()))
}

// adminAddTenant answers POST /_emulator/tenants.
func (e *Emulator) adminAddTenant(w http.ResponseWriter, r *http.Request) {
	var t Tenant
	if err := decodeBody(r, &t, false); err != nil {
		writeErr(w, err)
		return
	}
	respond(w, http.StatusCreated)(e.AddTenant(r.Context(), t))
}

// adminGetTenant answers GET /_emulator/tenants/{tenant}.
func (e *Emulator) adminGetTenant(w http.ResponseWriter, r *http.Request) {
	respond(w, http.StatusOK)(e.Tenant(r.Context(), r.PathValue("tenant")))
}

// adminListApps answers GET /_emulator/apps.
func (e *Emulator) adminListApps(w http.ResponseWriter, r *http.Request) {
	respond(w, http.StatusOK)(e.Apps(r.Context(), r.URL.Query().Get("tenant")))
}

// adminGetApp answers GET /_emulator/apps/{app}.
func (e *Emulator) adminGetApp(w http.ResponseWriter, r *http.Request) {
	respond(w, http.StatusOK)(e.App(r.Context(), r.PathValue("app")))
}

// adminPatchApp answers PATCH /_emulator/apps/{app}.
func (e *Emulator) adminPatchApp(w http.ResponseWriter, r *http.Request) {
	disabled, ok := decodeDisabled(w, r, "an app")
	if !ok {
		return
	}
	if err := e.SetAppEnabled(r.Context(), r.PathValue("app"), !disabled); err != nil {
		writeErr(w, err)
		return
	}
	respond(w, http.StatusOK)(e.App(r.Context(), r.PathValue("app")))
}

// adminRemoveApp answers DELETE /_emulator/apps/{app}.
func (e *Emulator) adminRemoveApp(w http.ResponseWriter, r *http.Request) {
	noContent(w, e.RemoveApp(r.Context(), r.PathValue("app")))
}

// adminListSecrets answers GET /_emulator/apps/{app}/secrets.
func (e *Emulator) adminListSecrets(w http.ResponseWriter, r *http.Request) {
	respond(w, http.StatusOK)(e.Secrets(r.Context(), r.PathValue("app")))
}

// adminAddSecret answers POST /_emulator/apps/{app}/secrets.
func (e *Emulator) adminAddSecret(w http.ResponseWriter, r *http.Request) {
	var req secretRequest
	if err := decodeBody(r, &req, true); err != nil {
		writeErr(w, err)
		return
	}
	ns, err := req.newSecret(e.Now())
	if err != nil {
		writeErr(w, err)
		return
	}
	sec, value, err := e.AddSecret(r.Context(), r.PathValue("app"), ns)
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSONResponse(w, http.StatusCreated, CreatedSecret{Secret: sec, Value: value})
}

// adminRemoveSecret answers DELETE /_emulator/apps/{app}/secrets/{id}.
func (e *Emulator) adminRemoveSecret(w http.ResponseWriter, r *http.Request) {
	noContent(w, e.RemoveSecret(r.Context(), r.PathValue("app"), r.PathValue("id")))
}

// adminListCertificates answers GET /_emulator/apps/{app}/certificates.
func (e *Emulator) adminListCertificates(w http.ResponseWriter, r *http.Request) {
	respond(w, http.StatusOK)(e.Certificates(r.Context(), r.PathValue("app")))
}

// adminAddCertificate answers POST /_emulator/apps/{app}/certificates.
func (e *Emulator) adminAddCertificate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		PEM string `json:"pem"`
		DER string `json:"der"`
	}
	if err := decodeBody(r, &req, false); err != nil {
		writeErr(w, err)
		return
	}
	var data []byte
	switch {
	case (req.PEM == "") == (req.DER == ""):
		writeErr(w, invalidf(`give the certificate as {"pem": "-----BEGIN CERTIFICATE-----…"} or {"der": "<base64>"}`))
		return
	case req.PEM != "":
		data = []byte(req.PEM)
	default:
		var err error
		if data, err = base64.StdEncoding.DecodeString(req.DER); err != nil {
			writeErr(w, invalidf("der is not standard base64: %v", err))
			return
		}
	}
	respond(w, http.StatusCreated)(e.AddCertificate(r.Context(), r.PathValue("app"), data))
}

// adminRemoveCertificate answers DELETE /_emulator/apps/{app}/certificates/{id}.
func (e *Emulator) adminRemoveCertificate(w http.ResponseWriter, r *http.Request) {
	noContent(w, e.RemoveCertificate(r.Context(), r.PathValue("app"), r.PathValue("id")))
}

// adminListAppUsers answers GET /_emulator/appusers.
func (e *Emulator) adminListAppUsers(w http.ResponseWriter, r *http.Request) {
	respond(w, http.StatusOK)(e.ApplicationUsers(r.Context()))
}

// adminCreateAppUser answers POST /_emulator/appusers.
func (e *Emulator) adminCreateAppUser(w http.ResponseWriter, r *http.Request) {
	var u NewApplicationUser
	if err := decodeBody(r, &u, false); err != nil {
		writeErr(w, err)
		return
	}
	respond(w, http.StatusCreated)(e.CreateApplicationUser(r.Context(), u))
}

// adminGetAppUser answers GET /_emulator/appusers/{app}.
func (e *Emulator) adminGetAppUser(w http.ResponseWriter, r *http.Request) {
	respond(w, http.StatusOK)(e.ApplicationUser(r.Context(), r.PathValue("app")))
}

// adminPatchAppUser answers PATCH /_emulator/appusers/{app}.
func (e *Emulator) adminPatchAppUser(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Disabled     *bool     `json:"disabled"`
		Roles        *[]string `json:"roles"`
		BusinessUnit *string   `json:"businessUnit"`
	}
	if err := decodeBody(r, &body, false); err != nil {
		writeErr(w, err)
		return
	}
	if body.Disabled == nil && body.Roles == nil && body.BusinessUnit == nil {
		writeErr(w, invalidf(`PATCH an application user with "disabled", "roles" and/or "businessUnit"`))
		return
	}
	app := r.PathValue("app")
	if body.BusinessUnit != nil {
		if err := e.SetApplicationUserBusinessUnit(r.Context(), app, *body.BusinessUnit); err != nil {
			writeErr(w, err)
			return
		}
	}
	if body.Roles != nil {
		if err := e.SetApplicationUserRoles(r.Context(), app, *body.Roles); err != nil {
			writeErr(w, err)
			return
		}
	}
	if body.Disabled != nil {
		if err := e.SetApplicationUserEnabled(r.Context(), app, !*body.Disabled); err != nil {
			writeErr(w, err)
			return
		}
	}
	respond(w, http.StatusOK)(e.ApplicationUser(r.Context(), app))
}

// adminRemoveAppUser answers DELETE /_emulator/appusers/{app}.
func (e *Emulator) adminRemoveAppUser(w http.ResponseWriter, r *http.Request) {
	noContent(w, e.RemoveApplicationUser(r.Context(), r.PathValue("app")))
}

// adminListRoles answers GET /_emulator/roles.
func (e *Emulator) adminListRoles(w http.ResponseWriter, r *http.Request) {
	respond(w, http.StatusOK)(e.Roles(r.Context()))
}

// adminCreateRole answers POST /_emulator/roles.
func (e *Emulator) adminCreateRole(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name       string          `json:"name"`
		Privileges []privilegeSpec `json:"privileges"`
	}
	if err := decodeBody(r, &req, false); err != nil {
		writeErr(w, err)
		return
	}
	privs := make([]RolePrivilege, len(req.Privileges))
	for i, p := range req.Privileges {
		privs[i] = RolePrivilege(p)
	}
	respond(w, http.StatusCreated)(e.CreateRole(r.Context(), req.Name, privs))
}

// adminGetRole answers GET /_emulator/roles/{role}.
func (e *Emulator) adminGetRole(w http.ResponseWriter, r *http.Request) {
	respond(w, http.StatusOK)(e.Role(r.Context(), r.PathValue("role")))
}

// adminPatchRole answers PATCH /_emulator/roles/{role}.
func (e *Emulator) adminPatchRole(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Privileges *[]privilegeSpec `json:"privileges"`
	}
	if err := decodeBody(r, &req, false); err != nil {
		writeErr(w, err)
		return
	}
	if req.Privileges == nil {
		writeErr(w, invalidf(`PATCH a role with {"privileges": ["prvReadContact:organization", …]}: the list replaces the role's privileges`))
		return
	}
	privs := make([]RolePrivilege, len(*req.Privileges))
	for i, p := range *req.Privileges {
		privs[i] = RolePrivilege(p)
	}
	respond(w, http.StatusOK)(e.SetRolePrivileges(r.Context(), r.PathValue("role"), privs))
}

// adminRemoveRole answers DELETE /_emulator/roles/{role}.
func (e *Emulator) adminRemoveRole(w http.ResponseWriter, r *http.Request) {
	noContent(w, e.RemoveRole(r.Context(), r.PathValue("role")))
}

// adminListPrivileges answers GET /_emulator/privileges.
func (e *Emulator) adminListPrivileges(w http.ResponseWriter, _ *http.Request) {
	writeJSONResponse(w, http.StatusOK, e.Privileges())
}

// adminListBusinessUnits answers GET /_emulator/businessunits.
func (e *Emulator) adminListBusinessUnits(w http.ResponseWriter, r *http.Request) {
	respond(w, http.StatusOK)(e.BusinessUnits(r.Context()))
}

// adminCreateBusinessUnit answers POST /_emulator/businessunits.
func (e *Emulator) adminCreateBusinessUnit(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name   string `json:"name"`
		Parent string `json:"parent"`
	}
	if err := decodeBody(r, &req, false); err != nil {
		writeErr(w, err)
		return
	}
	respond(w, http.StatusCreated)(e.CreateBusinessUnit(r.Context(), req.Name, req.Parent))
}

// adminGetBusinessUnit answers GET /_emulator/businessunits/{bu}.
func (e *Emulator) adminGetBusinessUnit(w http.ResponseWriter, r *http.Request) {
	respond(w, http.StatusOK)(e.BusinessUnit(r.Context(), r.PathValue("bu")))
}

// adminPatchBusinessUnit answers PATCH /_emulator/businessunits/{bu}.
func (e *Emulator) adminPatchBusinessUnit(w http.ResponseWriter, r *http.Request) {
	disabled, ok := decodeDisabled(w, r, "a business unit")
	if !ok {
		return
	}
	if err := e.SetBusinessUnitEnabled(r.Context(), r.PathValue("bu"), !disabled); err != nil {
		writeErr(w, err)
		return
	}
	respond(w, http.StatusOK)(e.BusinessUnit(r.Context(), r.PathValue("bu")))
}

// adminReset answers POST /_emulator/reset.
func (e *Emulator) adminReset(w http.ResponseWriter, r *http.Request) {
	noContent(w, e.Reset(r.Context()))
}

// adminListSnapshots answers GET /_emulator/snapshots.
func (e *Emulator) adminListSnapshots(w http.ResponseWriter, _ *http.Request) {
	respond(w, http.StatusOK)(e.Snapshots())
}

// adminSaveSnapshot answers POST /_emulator/snapshots.
func (e *Emulator) adminSaveSnapshot(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, &req, false); err != nil {
		writeErr(w, err)
		return
	}
	if err := e.Snapshot(r.Context(), req.Name); err != nil {
		writeErr(w, err)
		return
	}
	writeJSONResponse(w, http.StatusCreated, req)
}

// adminRestoreSnapshot answers POST /_emulator/snapshots/{name}/restore.
func (e *Emulator) adminRestoreSnapshot(w http.ResponseWriter, r *http.Request) {
	noContent(w, e.Restore(r.Context(), r.PathValue("name")))
}

// adminRemoveSnapshot answers DELETE /_emulator/snapshots/{name}.
func (e *Emulator) adminRemoveSnapshot(w http.ResponseWriter, r *http.Request) {
	noContent(w, e.RemoveSnapshot(r.PathValue("name")))
}

// adminGetClock answers GET /_emulator/clock.
func (e *Emulator) adminGetClock(w http.ResponseWriter, _ *http.Request) {
	writeJSONResponse(w, http.StatusOK, e.clockState())
}

// adminSetClock answers PUT /_emulator/clock.
func (e *Emulator) adminSetClock(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Offset string `json:"offset"`
	}
	if err := decodeBody(r, &req, false); err != nil {
		writeErr(w, err)
		return
	}
	d, err := time.ParseDuration(req.Offset)
	if err != nil {
		writeErr(w, invalidf("offset %q is not a Go duration such as 90m or -2h", req.Offset))
		return
	}
	e.SetClockOffset(d)
	writeJSONResponse(w, http.StatusOK, e.clockState())
}

// adminGetTokenLifetime answers GET /_emulator/token-lifetime.
func (e *Emulator) adminGetTokenLifetime(w http.ResponseWriter, _ *http.Request) {
	writeJSONResponse(w, http.StatusOK, map[string]string{"lifetime": e.TokenLifetime().String()})
}

// adminSetTokenLifetime answers PUT /_emulator/token-lifetime.
func (e *Emulator) adminSetTokenLifetime(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Lifetime string `json:"lifetime"`
	}
	if err := decodeBody(r, &req, false); err != nil {
		writeErr(w, err)
		return
	}
	d, err := time.ParseDuration(req.Lifetime)
	if err != nil {
		writeErr(w, invalidf("lifetime %q is not a Go duration such as 5s or 1h", req.Lifetime))
		return
	}
	if err := e.SetTokenLifetime(d); err != nil {
		writeErr(w, err)
		return
	}
	writeJSONResponse(w, http.StatusOK, map[string]string{"lifetime": e.TokenLifetime().String()})
}

// adminListSigningKeys answers GET /_emulator/signing-keys.
func (e *Emulator) adminListSigningKeys(w http.ResponseWriter, _ *http.Request) {
	writeJSONResponse(w, http.StatusOK, e.SigningKeys())
}

// adminRotateSigningKey answers POST /_emulator/signing-keys.
func (e *Emulator) adminRotateSigningKey(w http.ResponseWriter, r *http.Request) {
	respond(w, http.StatusCreated)(e.RotateSigningKey(r.Context()))
}

// respond returns a function that writes a method's result or its error.
func respond(w http.ResponseWriter, status int) func(any, error) {
	return func(v any, err error) {
		if err != nil {
			writeErr(w, err)
			return
		}
		if rv := reflect.ValueOf(v); rv.Kind() == reflect.Slice && rv.IsNil() {
			v = []struct{}{} // an empty list is [], never null
		}
		writeJSONResponse(w, status, v)
	}
}

// noContent answers 204, or the error.
func noContent(w http.ResponseWriter, err error) {
	if err != nil {
		writeErr(w, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// CreatedApp is the answer to POST /_emulator/apps: the app, plus its first secret (with the
// value, shown this once) when the request asked for one.
type CreatedApp struct {
	App
	// Secret is the first client secret, when the request asked for one.
	Secret *CreatedSecret `json:"secret,omitempty"`
}

// CreatedSecret is the answer to POST /_emulator/apps/{clientId}/secrets: a new secret with its
// value, shown this once.
type CreatedSecret struct {
	Secret
	// Value is the secret itself; the emulator keeps only its hash.
	Value string `json:"value"`
}

// secretRequest is the body of POST /_emulator/apps/{app}/secrets.
type secretRequest struct {
	DisplayName string `json:"displayName"`
	// Expires is an RFC 3339 time; ExpiresIn a Go duration from now on the emulator's clock
	// ("-1h" adds an already expired secret).
	Expires   string `json:"expires"`
	ExpiresIn string `json:"expiresIn"`
	Value     string `json:"value"`
}

func (req secretRequest) newSecret(now time.Time) (NewSecret, error) {
	ns := NewSecret{DisplayName: req.DisplayName, Value: req.Value}
	switch {
	case req.Expires != "" && req.ExpiresIn != "":
		return NewSecret{}, invalidf("give expires or expiresIn, not both")
	case req.Expires != "":
		t, err := time.Parse(time.RFC3339, req.Expires)
		if err != nil {
			return NewSecret{}, invalidf("expires %q is not an RFC 3339 time such as 2030-01-01T00:00:00Z", req.Expires)
		}
		ns.Expires = t
	case req.ExpiresIn != "":
		d, err := time.ParseDuration(req.ExpiresIn)
		if err != nil {
			return NewSecret{}, invalidf("expiresIn %q is not a Go duration such as 24h or -1h", req.ExpiresIn)
		}
		ns.Expires = now.Add(d)
	}
	return ns, nil
}

// adminCreateApp handles POST /_emulator/apps: a NewApp, optionally with "secret" to add a first
// client secret in the same call (what `d365 emulator app create` does).
func (e *Emulator) adminCreateApp(w http.ResponseWriter, r *http.Request) {
	var req struct {
		NewApp
		Secret *secretRequest `json:"secret"`
	}
	if err := decodeBody(r, &req, true); err != nil {
		writeErr(w, err)
		return
	}
	var ns NewSecret
	if req.Secret != nil {
		var err error
		if ns, err = req.Secret.newSecret(e.Now()); err != nil {
			writeErr(w, err)
			return
		}
	}
	app, err := e.CreateApp(r.Context(), req.NewApp)
	if err != nil {
		writeErr(w, err)
		return
	}
	out := CreatedApp{App: app}
	if req.Secret != nil {
		sec, value, err := e.AddSecret(r.Context(), app.ClientID, ns)
		if err != nil {
			// Leave no app without the secret the caller asked for.
			_ = e.RemoveApp(r.Context(), app.ClientID)
			writeErr(w, err)
			return
		}
		out.Secret = &CreatedSecret{Secret: sec, Value: value}
	}
	writeJSONResponse(w, http.StatusCreated, out)
}

// privilegeSpec is a role privilege in a request: "prvReadContact:organization" or
// {"name": "prvReadContact", "depth": "organization"}.
type privilegeSpec RolePrivilege

func (p *privilegeSpec) UnmarshalJSON(data []byte) error {
	var s string
	if err := json.Unmarshal(data, &s); err == nil {
		rp, err := ParsePrivilege(s)
		if err != nil {
			return err
		}
		*p = privilegeSpec(rp)
		return nil
	}
	var obj struct {
		Name  string `json:"name"`
		Depth Depth  `json:"depth"`
	}
	if err := json.Unmarshal(data, &obj); err != nil {
		return invalidf(`a privilege is "prvReadContact:organization" or {"name": …, "depth": …}`)
	}
	*p = privilegeSpec{Name: strings.TrimSpace(obj.Name), Depth: obj.Depth}
	return nil
}

// clockView is the JSON of GET/PUT /_emulator/clock.
type clockView struct {
	Offset string    `json:"offset"`
	Now    time.Time `json:"now"`
}

func (e *Emulator) clockState() clockView {
	return clockView{Offset: e.ClockOffset().String(), Now: e.Now().UTC()}
}

// decodeDisabled reads a PATCH body of exactly {"disabled": true|false} for what ("an app", "a
// business unit"); it answers the request itself and returns ok false when the body is wrong.
func decodeDisabled(w http.ResponseWriter, r *http.Request, what string) (disabled, ok bool) {
	var body struct {
		Disabled *bool `json:"disabled"`
	}
	if err := decodeBody(r, &body, false); err != nil {
		writeErr(w, err)
		return false, false
	}
	if body.Disabled == nil {
		writeErr(w, invalidf(`PATCH %s with {"disabled": true} or {"disabled": false}`, what))
		return false, false
	}
	return *body.Disabled, true
}
