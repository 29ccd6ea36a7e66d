package emulator

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"time"
)

// adminRoutes registers the admin API. Every route mirrors an *Emulator method; doc.go lists
// them.
func (e *Emulator) adminRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /_emulator/health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`)
	})

	// Tenants.
	mux.HandleFunc("GET /_emulator/tenants", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK)(e.Tenants(r.Context()))
	})
	mux.HandleFunc("POST /_emulator/tenants", func(w http.ResponseWriter, r *http.Request) {
		var t Tenant
		if err := decodeBody(r, &t, false); err != nil {
			writeErr(w, err)
			return
		}
		respond(w, http.StatusCreated)(e.AddTenant(r.Context(), t))
	})
	mux.HandleFunc("GET /_emulator/tenants/{tenant}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK)(e.Tenant(r.Context(), r.PathValue("tenant")))
	})

	// App registrations.
	mux.HandleFunc("GET /_emulator/apps", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK)(e.Apps(r.Context(), r.URL.Query().Get("tenant")))
	})
	mux.HandleFunc("POST /_emulator/apps", e.serveCreateApp)
	mux.HandleFunc("GET /_emulator/apps/{app}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK)(e.App(r.Context(), r.PathValue("app")))
	})
	mux.HandleFunc("PATCH /_emulator/apps/{app}", func(w http.ResponseWriter, r *http.Request) {
		disabled, ok := decodeDisabled(w, r, "an app")
		if !ok {
			return
		}
		if err := e.SetAppEnabled(r.Context(), r.PathValue("app"), !disabled); err != nil {
			writeErr(w, err)
			return
		}
		respond(w, http.StatusOK)(e.App(r.Context(), r.PathValue("app")))
	})
	mux.HandleFunc("DELETE /_emulator/apps/{app}", func(w http.ResponseWriter, r *http.Request) {
		noContent(w, e.RemoveApp(r.Context(), r.PathValue("app")))
	})

	// Secrets.
	mux.HandleFunc("GET /_emulator/apps/{app}/secrets", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK)(e.Secrets(r.Context(), r.PathValue("app")))
	})
	mux.HandleFunc("POST /_emulator/apps/{app}/secrets", func(w http.ResponseWriter, r *http.Request) {
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
	})
	mux.HandleFunc("DELETE /_emulator/apps/{app}/secrets/{id}", func(w http.ResponseWriter, r *http.Request) {
		noContent(w, e.RemoveSecret(r.Context(), r.PathValue("app"), r.PathValue("id")))
	})

	// Certificates.
	mux.HandleFunc("GET /_emulator/apps/{app}/certificates", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK)(e.Certificates(r.Context(), r.PathValue("app")))
	})
	mux.HandleFunc("POST /_emulator/apps/{app}/certificates", func(w http.ResponseWriter, r *http.Request) {
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
	})
	mux.HandleFunc("DELETE /_emulator/apps/{app}/certificates/{id}", func(w http.ResponseWriter, r *http.Request) {
		noContent(w, e.RemoveCertificate(r.Context(), r.PathValue("app"), r.PathValue("id")))
	})

	// Application users.
	mux.HandleFunc("GET /_emulator/appusers", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK)(e.ApplicationUsers(r.Context()))
	})
	mux.HandleFunc("POST /_emulator/appusers", func(w http.ResponseWriter, r *http.Request) {
		var u NewApplicationUser
		if err := decodeBody(r, &u, false); err != nil {
			writeErr(w, err)
			return
		}
		respond(w, http.StatusCreated)(e.CreateApplicationUser(r.Context(), u))
	})
	mux.HandleFunc("GET /_emulator/appusers/{app}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK)(e.ApplicationUser(r.Context(), r.PathValue("app")))
	})
	mux.HandleFunc("PATCH /_emulator/appusers/{app}", func(w http.ResponseWriter, r *http.Request) {
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
	})
	mux.HandleFunc("DELETE /_emulator/appusers/{app}", func(w http.ResponseWriter, r *http.Request) {
		noContent(w, e.RemoveApplicationUser(r.Context(), r.PathValue("app")))
	})

	// Security roles, privileges, business units.
	mux.HandleFunc("GET /_emulator/roles", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK)(e.Roles(r.Context()))
	})
	mux.HandleFunc("POST /_emulator/roles", func(w http.ResponseWriter, r *http.Request) {
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
	})
	mux.HandleFunc("GET /_emulator/roles/{role}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK)(e.Role(r.Context(), r.PathValue("role")))
	})
	mux.HandleFunc("PATCH /_emulator/roles/{role}", func(w http.ResponseWriter, r *http.Request) {
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
	})
	mux.HandleFunc("DELETE /_emulator/roles/{role}", func(w http.ResponseWriter, r *http.Request) {
		noContent(w, e.RemoveRole(r.Context(), r.PathValue("role")))
	})
	mux.HandleFunc("GET /_emulator/privileges", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONResponse(w, http.StatusOK, e.Privileges())
	})
	mux.HandleFunc("GET /_emulator/businessunits", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK)(e.BusinessUnits(r.Context()))
	})
	mux.HandleFunc("POST /_emulator/businessunits", func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			Name   string `json:"name"`
			Parent string `json:"parent"`
		}
		if err := decodeBody(r, &req, false); err != nil {
			writeErr(w, err)
			return
		}
		respond(w, http.StatusCreated)(e.CreateBusinessUnit(r.Context(), req.Name, req.Parent))
	})
	mux.HandleFunc("GET /_emulator/businessunits/{bu}", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusOK)(e.BusinessUnit(r.Context(), r.PathValue("bu")))
	})
	mux.HandleFunc("PATCH /_emulator/businessunits/{bu}", func(w http.ResponseWriter, r *http.Request) {
		disabled, ok := decodeDisabled(w, r, "a business unit")
		if !ok {
			return
		}
		if err := e.SetBusinessUnitEnabled(r.Context(), r.PathValue("bu"), !disabled); err != nil {
			writeErr(w, err)
			return
		}
		respond(w, http.StatusOK)(e.BusinessUnit(r.Context(), r.PathValue("bu")))
	})

	// Whole state.
	mux.HandleFunc("POST /_emulator/reset", func(w http.ResponseWriter, r *http.Request) {
		noContent(w, e.Reset(r.Context()))
	})
	mux.HandleFunc("GET /_emulator/snapshots", func(w http.ResponseWriter, _ *http.Request) {
		respond(w, http.StatusOK)(e.Snapshots())
	})
	mux.HandleFunc("POST /_emulator/snapshots", func(w http.ResponseWriter, r *http.Request) {
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
	})
	mux.HandleFunc("POST /_emulator/snapshots/{name}/restore", func(w http.ResponseWriter, r *http.Request) {
		noContent(w, e.Restore(r.Context(), r.PathValue("name")))
	})
	mux.HandleFunc("DELETE /_emulator/snapshots/{name}", func(w http.ResponseWriter, r *http.Request) {
		noContent(w, e.RemoveSnapshot(r.PathValue("name")))
	})

	// Time.
	mux.HandleFunc("GET /_emulator/clock", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONResponse(w, http.StatusOK, e.clockState())
	})
	mux.HandleFunc("PUT /_emulator/clock", func(w http.ResponseWriter, r *http.Request) {
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
	})
	mux.HandleFunc("GET /_emulator/token-lifetime", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONResponse(w, http.StatusOK, map[string]string{"lifetime": e.TokenLifetime().String()})
	})
	mux.HandleFunc("PUT /_emulator/token-lifetime", func(w http.ResponseWriter, r *http.Request) {
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
	})
	mux.HandleFunc("GET /_emulator/signing-keys", func(w http.ResponseWriter, _ *http.Request) {
		writeJSONResponse(w, http.StatusOK, e.SigningKeys())
	})
	mux.HandleFunc("POST /_emulator/signing-keys", func(w http.ResponseWriter, r *http.Request) {
		respond(w, http.StatusCreated)(e.RotateSigningKey(r.Context()))
	})

	e.trafficRoutes(mux)
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

// serveCreateApp handles POST /_emulator/apps: a NewApp, optionally with "secret" to add a first
// client secret in the same call (what `d365 emulator app create` does).
func (e *Emulator) serveCreateApp(w http.ResponseWriter, r *http.Request) {
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
