package scenario

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/identity"
	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/d365s2s/d365/emulator/internal/store"
)

// Plan is a checked scenario: every reference resolved, every value converted, every file read.
// Applying it can then only fail on what needs the store (privilege names) or on I/O.
type Plan struct {
	// Schema is the built-in tables with the scenario's own.
	Schema *schema.Schema
	// OrgTenantID is the tenant the organization belongs to.
	OrgTenantID string
	// TokenLifetime is the scenario's token lifetime; zero when it names none.
	TokenLifetime time.Duration
	// ExpireChangeTrackingInDays is the organization's; nil when the scenario names none.
	ExpireChangeTrackingInDays *int

	sc            *Scenario
	tenants       []Tenant
	businessUnits []BusinessUnit
	roles         []plannedRole
	apps          []plannedApp
	users         []plannedUser
	rows          []plannedRowSet
}

// Privilege is a privilege of a role, as the emulator's ParsePrivilege reads it.
type Privilege struct {
	Name  string
	Depth string
}

// NewApp is an app registration to create; its fields are those of emulator.NewApp.
type NewApp struct {
	DisplayName, Tenant, ClientID, ObjectID string
	Disabled                                bool
}

// NewApplicationUser is an application user to create; its fields are those of
// emulator.NewApplicationUser (App is a client ID).
type NewApplicationUser struct {
	App          string
	Roles        []string
	BusinessUnit string
	FullName     string
	Disabled     bool
}

// PlanOptions are what a plan needs from the emulator.
type PlanOptions struct {
	// ParsePrivilege reads "prvReadContact:organization"; its error says what is wrong.
	ParsePrivilege func(string) (Privilege, error)
	// DefaultTenant is the tenant of a scenario that lists none.
	DefaultTenant Tenant
}

type plannedApp struct {
	index   int
	app     NewApp
	secrets []plannedSecret
	certs   []plannedCert
}

type plannedSecret struct {
	path        []any
	id          string
	description string
	value       string
	expires     func(now time.Time) time.Time // nil: never
}

type plannedCert struct {
	path []any
	data []byte
}

type plannedRole struct {
	path       []any
	name       string
	privileges []Privilege
}

type plannedUser struct {
	path []any
	user NewApplicationUser
}

// scenarioSchema compiles the built-in tables with the scenario's own.
func (sc *Scenario) scenarioSchema() (*schema.Schema, error) {
	defs := make([]*schema.Definition, 0, len(sc.Schema.Files)+1)
	for i, f := range sc.Schema.Files {
		data, err := readScenarioFile(sc.resolve(f))
		if err != nil {
			return nil, sc.errorAt(path("schema", "files", i), "%v", err)
		}
		def, err := schema.Parse(data, f)
		if err != nil {
			return nil, sc.errorAt(path("schema", "files", i), "%s", strings.TrimPrefix(err.Error(), "schema: "))
		}
		defs = append(defs, def)
	}
	if inline := sc.Schema.Definition; len(inline.Tables) > 0 || len(inline.Relationships) > 0 {
		defs = append(defs, &inline)
	}
	if len(defs) == 0 {
		return schema.Builtin(), nil
	}
	s, err := schema.WithBuiltin(defs...)
	if err != nil {
		return nil, sc.errorAt(path("schema"), "%s", strings.TrimPrefix(err.Error(), "schema: "))
	}
	return s, nil
}

// Plan checks the whole scenario and resolves it, reporting every problem it finds.
func (sc *Scenario) Plan(o PlanOptions) (*Plan, error) {
	sch, err := sc.scenarioSchema()
	if err != nil {
		return nil, err
	}
	errs := &scenarioErrors{sc: sc}
	p := &Plan{sc: sc, Schema: sch}

	// Tenants, addressable by ID or domain.
	tenantKeys := map[string]string{} // lower-case ID or domain -> ID
	for i, t := range sc.Tenants {
		at := path("tenants", i)
		id := strings.ToLower(strings.TrimSpace(t.ID))
		if id == "" {
			id = uuid.NewString()
		} else if !isGUID(id) {
			errs.add(append(at, "id"), "%q is not a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47", t.ID)
			continue
		}
		domain := strings.ToLower(strings.TrimSpace(t.Domain))
		if domain == "" || !strings.Contains(domain, ".") {
			errs.add(append(at, "domain"), "a tenant needs a domain such as contoso.onmicrosoft.com")
			continue
		}
		if tenantKeys[id] != "" || tenantKeys[domain] != "" {
			errs.add(at, "tenant %s (%s) is listed twice", id, domain)
			continue
		}
		tenantKeys[id], tenantKeys[domain] = id, id
		p.tenants = append(p.tenants, Tenant{ID: id, Domain: domain, DisplayName: t.DisplayName})
	}
	if len(sc.Tenants) == 0 {
		def := o.DefaultTenant
		p.tenants = []Tenant{def}
		tenantKeys[strings.ToLower(def.ID)], tenantKeys[strings.ToLower(def.Domain)] = def.ID, def.ID
	}
	tenantOf := func(at []any, key string) string {
		if strings.TrimSpace(key) == "" {
			return ""
		}
		id := tenantKeys[strings.ToLower(strings.TrimSpace(key))]
		if id == "" {
			errs.add(at, "tenant %q is not one of the scenario's tenants", key)
		}
		return id
	}
	if len(p.tenants) > 0 {
		p.OrgTenantID = p.tenants[0].ID
	}
	if id := tenantOf(path("organization", "tenant"), sc.Organization.Tenant); id != "" {
		p.OrgTenantID = id
	}

	// Business units, parents before children.
	buNames := map[string]bool{}
	for i, bu := range sc.BusinessUnits {
		at := path("businessUnits", i)
		name := strings.TrimSpace(bu.Name)
		switch {
		case name == "":
			errs.add(append(at, "name"), "a business unit needs a name")
		case buNames[strings.ToLower(name)]:
			errs.add(append(at, "name"), "business unit %q is listed twice", name)
		case bu.Parent != "" && !buNames[strings.ToLower(strings.TrimSpace(bu.Parent))]:
			errs.add(append(at, "parent"), "parent business unit %q is not listed before %q", bu.Parent, name)
		default:
			buNames[strings.ToLower(name)] = true
			p.businessUnits = append(p.businessUnits, bu)
		}
	}

	// Roles: names here, privilege names once the store knows them (apply).
	roleNames := map[string]bool{strings.ToLower(store.SystemAdministrator): true}
	for i, r := range sc.Roles {
		at := path("roles", i)
		name := strings.TrimSpace(r.Name)
		if name == "" {
			errs.add(append(at, "name"), "a role needs a name")
			continue
		}
		if roleNames[strings.ToLower(name)] {
			errs.add(append(at, "name"), "role %q is listed twice (or is the built-in System Administrator)", name)
			continue
		}
		roleNames[strings.ToLower(name)] = true
		pr := plannedRole{path: at, name: name}
		for j, s := range r.Privileges {
			priv, err := o.ParsePrivilege(s)
			if err != nil {
				errs.add(append(at, "privileges", j), "%s", strings.TrimPrefix(err.Error(), "emulator: "))
				continue
			}
			pr.privileges = append(pr.privileges, priv)
		}
		p.roles = append(p.roles, pr)
	}

	// Apps with their credentials.
	appKeys := map[string]string{} // lower-case name or client ID -> client ID
	clientIDs := map[string]bool{}
	for i, a := range sc.Apps {
		at := path("apps", i)
		clientID := strings.ToLower(strings.TrimSpace(a.ClientID))
		if clientID == "" {
			clientID = uuid.NewString()
		} else if !isGUID(clientID) {
			errs.add(append(at, "clientId"), "%q is not a GUID", a.ClientID)
			continue
		}
		if clientIDs[clientID] {
			errs.add(append(at, "clientId"), "client ID %s is listed twice", clientID)
			continue
		}
		clientIDs[clientID] = true
		if a.ObjectID != "" && !isGUID(a.ObjectID) {
			errs.add(append(at, "objectId"), "%q is not a GUID", a.ObjectID)
		}
		tenant := p.OrgTenantID
		if a.Tenant != "" {
			tenant = tenantOf(append(at, "tenant"), a.Tenant)
		}
		name := strings.TrimSpace(a.Name)
		if name != "" {
			if appKeys[strings.ToLower(name)] != "" {
				errs.add(append(at, "name"), "two apps are named %q; application users could not tell them apart", name)
			}
			appKeys[strings.ToLower(name)] = clientID
		}
		appKeys[clientID] = clientID
		pa := plannedApp{index: i, app: NewApp{DisplayName: name, Tenant: tenant, ClientID: clientID, ObjectID: a.ObjectID, Disabled: a.Disabled}}
		for j, s := range a.Secrets {
			sat := append(slices.Clone(at), "secrets", j)
			if s.Value == "" {
				errs.add(append(sat, "value"), "a secret needs its value (what clients send as client_secret)")
				continue
			}
			id := strings.ToLower(strings.TrimSpace(s.ID))
			if id == "" {
				id = uuid.NewString()
			} else if !isGUID(id) {
				// The value is not repeated: a secret pasted into the wrong field would be.
				errs.add(append(sat, "id"), "the Secret ID is not a GUID (it is the secret's ID, such as 0f4c2c1e-…, not its value)")
				continue
			}
			expires, err := parseExpiry(s.Expires)
			if err != nil {
				errs.add(append(sat, "expires"), "%v", err)
				continue
			}
			pa.secrets = append(pa.secrets, plannedSecret{path: sat, id: id, description: s.Description, value: s.Value, expires: expires})
		}
		for j, c := range a.Certificates {
			cat := append(slices.Clone(at), "certificates", j)
			var data []byte
			switch {
			case (c.File == "") == (c.PEM == ""):
				errs.add(cat, "give a certificate either as file: or as pem:, not both or neither")
				continue
			case c.File != "":
				var err error
				if data, err = readScenarioFile(sc.resolve(c.File)); err != nil {
					errs.add(append(cat, "file"), "%v", err)
					continue
				}
			default:
				data = []byte(c.PEM)
			}
			if _, err := identity.ParseCertificatePEM(data); err != nil {
				errs.add(cat, "%s", strings.TrimPrefix(err.Error(), "identity: "))
				continue
			}
			pa.certs = append(pa.certs, plannedCert{path: cat, data: data})
		}
		p.apps = append(p.apps, pa)
	}

	// Application users.
	usersOf := map[string]bool{}
	for i, u := range sc.ApplicationUsers {
		at := path("applicationUsers", i)
		clientID := appKeys[strings.ToLower(strings.TrimSpace(u.App))]
		if clientID == "" {
			errs.add(append(at, "app"), "app %q is not one of the scenario's apps (give its name or client ID)", u.App)
			continue
		}
		if usersOf[clientID] {
			errs.add(append(at, "app"), "app %q already has an application user; Dataverse allows one per app", u.App)
			continue
		}
		usersOf[clientID] = true
		for j, r := range u.Roles {
			if !roleNames[strings.ToLower(strings.TrimSpace(r))] {
				errs.add(append(at, "roles", j), "role %q is not one of the scenario's roles (or System Administrator)", r)
			}
		}
		if u.BusinessUnit != "" && !buNames[strings.ToLower(strings.TrimSpace(u.BusinessUnit))] {
			errs.add(append(at, "businessUnit"), "business unit %q is not one of the scenario's business units", u.BusinessUnit)
		}
		p.users = append(p.users, plannedUser{path: at, user: NewApplicationUser{
			App: clientID, Roles: u.Roles, BusinessUnit: u.BusinessUnit, FullName: u.FullName, Disabled: u.Disabled,
		}})
	}

	p.rows = sc.planRows(sch, errs)

	if sc.TokenLifetime != "" {
		d, err := time.ParseDuration(sc.TokenLifetime)
		if err != nil || d < time.Second || d > identity.MaxTokenLifetime {
			errs.add(path("tokenLifetime"), "%q is not a duration from 1s to 24h such as 1h or 30s", sc.TokenLifetime)
		}
		p.TokenLifetime = d
	}
	if d := sc.Organization.ExpireChangeTrackingInDays; d != nil {
		if *d < 0 || *d > store.MaxExpireChangeTrackingInDays {
			errs.add(path("organization", "expireChangeTrackingInDays"), "%d is not a number of days from 0 to %d", *d, store.MaxExpireChangeTrackingInDays)
		}
		p.ExpireChangeTrackingInDays = d
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// maxScenarioFile bounds the certificate and schema files a scenario names.
const maxScenarioFile = 4 << 20

// readScenarioFile reads a file a scenario names: a regular file of at most 4 MiB (not a device
// or a pipe, which could block the start forever).
func readScenarioFile(name string) ([]byte, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", name)
	}
	if st.Size() > maxScenarioFile {
		return nil, fmt.Errorf("%s is larger than %d bytes; a certificate or schema file is far smaller", name, maxScenarioFile)
	}
	return os.ReadFile(name)
}

// parseExpiry reads a secret's expiry: an RFC 3339 time, a date, or a duration relative to the
// moment the scenario is applied.
func parseExpiry(s string) (func(time.Time) time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return func(time.Time) time.Time { return t }, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return func(time.Time) time.Time { return t }, nil
	}
	if d, err := time.ParseDuration(s); err == nil {
		return func(now time.Time) time.Time { return now.Add(d) }, nil
	}
	return nil, fmt.Errorf("%q is not a time (2030-01-01T00:00:00Z), a date (2030-01-01) or a duration from now (-24h, 720h)", s)
}

func isGUID(s string) bool {
	s = strings.TrimSpace(s)
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// sortedKeys returns a record's column names in a stable order.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
