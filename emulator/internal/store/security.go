package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/d365s2s/d365/emulator/internal/schema"
	"github.com/google/uuid"
)

// Depth is how far a privilege reaches, as Dataverse's privilege depth
// masks: a user's own rows, their business unit's, their business unit
// and its descendants', or the whole organization's.
type Depth int

// The depths, ordered; a user holding a privilege through several roles
// gets the deepest.
const (
	DepthNone         Depth = 0
	DepthUser         Depth = 1 // Basic
	DepthBusinessUnit Depth = 2 // Local
	DepthParentChild  Depth = 4 // Deep
	DepthOrganization Depth = 8 // Global
)

// String returns Dataverse's name of the depth (Basic, Local, Deep,
// Global).
func (d Depth) String() string {
	switch d {
	case DepthUser:
		return "Basic"
	case DepthBusinessUnit:
		return "Local"
	case DepthParentChild:
		return "Deep"
	case DepthOrganization:
		return "Global"
	}
	return "None"
}

// Verb is the operation a table privilege allows.
type Verb string

// The table privilege verbs (prv<Verb><Table>).
const (
	VerbCreate   Verb = "Create"
	VerbRead     Verb = "Read"
	VerbWrite    Verb = "Write"
	VerbDelete   Verb = "Delete"
	VerbAppend   Verb = "Append"
	VerbAppendTo Verb = "AppendTo"
	VerbAssign   Verb = "Assign"
	VerbShare    Verb = "Share"
)

// accessRights are Dataverse's AccessRights values of each verb.
var accessRights = map[Verb]int{
	VerbRead: 1, VerbWrite: 2, VerbAppend: 4, VerbAppendTo: 16, VerbCreate: 32,
	VerbDelete: 65536, VerbShare: 262144, VerbAssign: 524288,
}

// Names of privileges that are not about one table.
const (
	// PrivilegeActOnBehalfOf lets a caller impersonate another user.
	PrivilegeActOnBehalfOf = "prvActOnBehalfOfAnotherUser"
	// PrivilegeBypassCustomPlugins lets a caller skip custom synchronous
	// plug-ins (MSCRM.BypassCustomPluginExecution: true).
	PrivilegeBypassCustomPlugins = "prvBypassCustomPlugins"
	// PrivilegeBypassCustomBusinessLogic lets a caller skip custom
	// synchronous and asynchronous logic
	// (MSCRM.BypassBusinessLogicExecution: CustomSync,CustomAsync).
	PrivilegeBypassCustomBusinessLogic = "prvBypassCustomBusinessLogic"
)

// globalPrivileges are the privileges that are not about one table, in
// the catalogue of every organization; System Administrator holds them.
var globalPrivileges = []string{PrivilegeActOnBehalfOf, PrivilegeBypassCustomPlugins, PrivilegeBypassCustomBusinessLogic}

// RequirePrivilege checks that p holds a privilege that is not about one
// table (PrivilegeBypassCustomPlugins…) at any depth. A missing privilege
// is Dataverse's PrivilegeDenied error naming the user and the privilege.
func (s *Store) RequirePrivilege(p *Principal, privilege string) error {
	if p.Depth(privilege) != DepthNone {
		return nil
	}
	return s.privilegeError(p, privilege, nil)
}

// PrivilegeName returns the name of the privilege guarding verb on t:
// "prvReadContact", "prvCreateActivity" (task), "prvWriteUser"
// (systemuser).
func PrivilegeName(verb Verb, t *schema.Table) string {
	return "prv" + string(verb) + t.PrivilegeName
}

// tableVerbs lists the privileges a table has: organization has Read and
// Write only, systemuser cannot be deleted, and Assign and Share exist
// only for user-owned tables.
func tableVerbs(t *schema.Table) []Verb {
	switch t.LogicalName {
	case "organization":
		return []Verb{VerbRead, VerbWrite}
	case "systemuser":
		return []Verb{VerbCreate, VerbRead, VerbWrite, VerbAppend, VerbAppendTo}
	}
	verbs := []Verb{VerbCreate, VerbRead, VerbWrite, VerbDelete, VerbAppend, VerbAppendTo}
	if t.Ownership == schema.OwnershipUser {
		verbs = append(verbs, VerbAssign, VerbShare)
	}
	return verbs
}

// Principal is the Dataverse user a request runs as, with the privileges
// of its roles (direct and through teams).
type Principal struct {
	// UserID is the systemuserid.
	UserID uuid.UUID
	// BusinessUnitID is the user's business unit.
	BusinessUnitID uuid.UUID
	// OrganizationID is the organization.
	OrganizationID uuid.UUID
	// ApplicationID and ObjectID are the application user's applicationid
	// and azureactivedirectoryobjectid; empty for other users.
	ApplicationID, ObjectID string
	// FullName is the user's name.
	FullName string
	// Disabled mirrors systemuser.isdisabled.
	Disabled bool
	// DisabledBusinessUnit is, when the user's business unit or one of
	// its parents is disabled, the nearest such unit (its ID and Name
	// set); zero otherwise. Such a user cannot use the service.
	DisabledBusinessUnit BusinessUnit
	// AccessMode is systemuser.accessmode (4 = non-interactive).
	AccessMode int64
	// RoleCount is the number of roles assigned to the user directly.
	RoleCount int
	// CallerID is, when another user is impersonated, the application
	// user that made the request (recorded as createdonbehalfby /
	// modifiedonbehalfby); uuid.Nil otherwise.
	CallerID uuid.UUID

	privileges map[string]Depth
	teams      []string
	totalPrivs int
	// delegate is, under impersonation, the caller's own principal, and
	// own the impersonated user's privileges before the intersection with
	// the caller's: a privilege the intersection dropped is missing from
	// the delegate, whom the privilege error then names.
	delegate *Principal
	own      map[string]Depth
}

// Depth returns the depth at which the principal holds a privilege.
func (p *Principal) Depth(privilege string) Depth { return p.privileges[privilege] }

// PrivilegeCount returns the number of distinct privileges the principal
// holds.
func (p *Principal) PrivilegeCount() int { return len(p.privileges) }

// ApplicationUser loads the application user whose applicationid is the
// given client id. It fails with KindNoUser (the caller is not a member of
// the organization), KindDisabled or KindNoRoles, each carrying
// Dataverse's code and message.
func (s *Store) ApplicationUser(ctx context.Context, applicationID string) (*Principal, error) {
	appID, err := uuid.Parse(applicationID)
	if err != nil {
		return nil, errNotMember()
	}
	key := appID.String()
	epoch := s.securityEpoch.Load()
	var p *Principal
	if c, ok := s.principals.Load(key); ok && c.(*cachedPrincipal).epoch == epoch {
		p = c.(*cachedPrincipal).p
	} else {
		if p, err = s.loadPrincipal(ctx, `"applicationid" = ?`, key); err != nil {
			return nil, err
		}
		s.principals.Store(key, &cachedPrincipal{epoch: epoch, p: p})
	}
	clone := *p // callers may set CallerID; privileges and teams are shared, read-only
	p = &clone
	if err := p.disabledError(); err != nil {
		return nil, err
	}
	if p.RoleCount == 0 && len(p.privileges) == 0 {
		return nil, &Error{Kind: KindNoRoles, Message: fmt.Sprintf("The user (Id = %s) has not been assigned any roles.", p.UserID)}
	}
	return p, nil
}

// User loads any systemuser by id, without the enabled and role checks
// (for impersonation, where the caller checks what it needs).
func (s *Store) User(ctx context.Context, id uuid.UUID) (*Principal, error) {
	p, err := s.loadPrincipal(ctx, `"systemuserid" = ?`, id.String())
	if KindOf(err) == KindNoUser {
		return nil, notFound("systemuser", id.String())
	}
	return p, err
}

// The refusals of a user who cannot use the service: disabled, or in a
// disabled business unit. Dataverse documents that the users of a
// disabled business unit (or of one under it) cannot sign in, not what
// their requests get back [unverified]: the emulator answers them as a
// disabled user (KindDisabled, the same status) with a
// message that names the business unit, which the request log then shows
// as the reason. Dataverse's catalogue also has BusinessNotEnabled
// (ReasonBusinessUnitDisabled, "The specified business unit is disabled."),
// the candidate should a live check show otherwise.
const (
	userDisabledFormat = "The user with SystemUserId=%s in OrganizationContext=%s is disabled. Disabled users cannot access the system. Consider enabling this user. Also, users are disabled if they don't have a license assigned to them."
	// businessUnitDisabledFormat takes the user, the organization, and
	// the disabled business unit's name and ID.
	businessUnitDisabledFormat = "The user with SystemUserId=%s in OrganizationContext=%s cannot access the system: the business unit '%s' (Id=%s) is disabled. Users of a disabled business unit, or of one under it, cannot access the system. Enable the business unit or move the user to an enabled one."
)

// disabledError is the refusal of a disabled user or of a user in a
// disabled business unit; nil for a user who may use the service.
func (p *Principal) disabledError() *Error {
	switch {
	case p.Disabled:
		return &Error{Kind: KindDisabled, Message: fmt.Sprintf(userDisabledFormat, p.UserID, p.OrganizationID)}
	case p.DisabledBusinessUnit.ID != "":
		bu := p.DisabledBusinessUnit
		return &Error{Kind: KindDisabled, Message: fmt.Sprintf(businessUnitDisabledFormat, p.UserID, p.OrganizationID, bu.Name, bu.ID)}
	}
	return nil
}

func errNotMember() *Error {
	return &Error{Kind: KindNoUser, Message: "The user is not a member of the organization."}
}

func (s *Store) loadPrincipal(ctx context.Context, where string, arg any) (*Principal, error) {
	var (
		id, bu, name, appID, objID sql.NullString
		disabled, accessMode       sql.NullInt64
	)
	err := s.db.QueryRowContext(ctx, `SELECT "systemuserid", "businessunitid", "fullname", "applicationid",
		"azureactivedirectoryobjectid", "isdisabled", "accessmode" FROM "systemuser" WHERE `+where, arg).
		Scan(&id, &bu, &name, &appID, &objID, &disabled, &accessMode)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNotMember()
	}
	if err != nil {
		return nil, fmt.Errorf("store: load user: %w", err)
	}
	p := &Principal{
		FullName:      name.String,
		ApplicationID: appID.String,
		ObjectID:      objID.String,
		Disabled:      disabled.Int64 != 0,
		AccessMode:    accessMode.Int64,
	}
	p.UserID, _ = uuid.Parse(id.String)
	p.BusinessUnitID, _ = uuid.Parse(bu.String)
	p.OrganizationID, _ = uuid.Parse(s.org.OrganizationID)
	if err := s.loadDisabledBusinessUnit(ctx, p); err != nil {
		return nil, err
	}
	if err := s.loadPrivileges(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

// loadDisabledBusinessUnit finds the nearest disabled business unit on
// the way from the user's own to the root. Disabling a unit disables
// those under it too, so this is normally the user's own; the walk also
// covers a unit created under a disabled one through the Web API.
func (s *Store) loadDisabledBusinessUnit(ctx context.Context, p *Principal) error {
	if p.BusinessUnitID == uuid.Nil {
		return nil
	}
	err := s.db.QueryRowContext(ctx, `WITH RECURSIVE up("id", "parent", "name", "off", "depth") AS (
			SELECT "businessunitid", "parentbusinessunitid", "name", coalesce("isdisabled", 0), 0 FROM "businessunit" WHERE "businessunitid" = ?
			UNION ALL
			SELECT b."businessunitid", b."parentbusinessunitid", b."name", coalesce(b."isdisabled", 0), up."depth" + 1
			FROM "businessunit" b JOIN up ON b."businessunitid" = up."parent" WHERE up."depth" < ?)
		SELECT "id", "name" FROM up WHERE "off" <> 0 ORDER BY "depth" LIMIT 1`, p.BusinessUnitID.String(), maxBusinessUnitDepth).
		Scan(&p.DisabledBusinessUnit.ID, &p.DisabledBusinessUnit.Name)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: load the user's business unit: %w", err)
	}
	p.DisabledBusinessUnit.Disabled = true
	return nil
}

func (s *Store) loadPrivileges(ctx context.Context, p *Principal) error {
	uid := p.UserID.String()
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM "systemuserroles" WHERE "systemuserid" = ?`, uid).Scan(&p.RoleCount); err != nil {
		return fmt.Errorf("store: load roles: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT "teamid" FROM "teammembership" WHERE "systemuserid" = ?`, uid)
	if err != nil {
		return fmt.Errorf("store: load teams: %w", err)
	}
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			rows.Close()
			return err
		}
		p.teams = append(p.teams, t)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.db.QueryContext(ctx, `SELECT p."name", max(rp."depth")
		FROM "_dv_roleprivilege" rp JOIN "_dv_privilege" p ON p."privilegeid" = rp."privilegeid"
		WHERE rp."roleid" IN (
			SELECT "roleid" FROM "systemuserroles" WHERE "systemuserid" = ?1
			UNION
			SELECT tr."roleid" FROM "teamroles" tr JOIN "teammembership" tm ON tm."teamid" = tr."teamid" WHERE tm."systemuserid" = ?1
		)
		GROUP BY p."name"`, uid)
	if err != nil {
		return fmt.Errorf("store: load privileges: %w", err)
	}
	defer rows.Close()
	p.privileges = map[string]Depth{}
	for rows.Next() {
		var name string
		var depth int
		if err := rows.Scan(&name, &depth); err != nil {
			return err
		}
		p.privileges[name] = Depth(depth)
	}
	p.totalPrivs = len(s.privileges)
	return rows.Err()
}

// accessModeNames are the AccessMode names used in privilege errors.
var accessModeNames = map[int64]string{
	0: "ReadWrite", 1: "Administrative", 2: "Read", 3: "SupportUser", 4: "NonInteractive", 5: "DelegatedAdmin",
}

// Require checks that p holds the privilege for verb on t at any depth and
// returns that depth. A missing privilege is Dataverse's PrivilegeDenied
// error naming the user, the privilege and the table.
func (s *Store) Require(p *Principal, verb Verb, t *schema.Table) (Depth, error) {
	name := PrivilegeName(verb, t)
	if d := p.privileges[name]; d != DepthNone {
		return d, nil
	}
	return DepthNone, s.privilegeError(p, name, t)
}

func (s *Store) privilegeError(p *Principal, privilege string, t *schema.Table) *Error {
	caller := p.UserID
	if p.CallerID != uuid.Nil {
		caller = p.CallerID
	}
	if d := p.delegate; d != nil && p.own[privilege] != DepthNone && d.privileges[privilege] == DepthNone {
		// The impersonated user holds the privilege; the intersection
		// with the caller's privileges dropped it: the caller lacks it.
		p = d
	} else if p.own != nil {
		// Describe the impersonated user as it is, not the intersection.
		own := *p
		own.privileges = p.own
		p = &own
	}
	aad := p.ObjectID
	if aad == "" {
		aad = uuid.Nil.String()
	}
	entity := ""
	if t != nil {
		entity = fmt.Sprintf(" on OTC=%d for entity '%s' (LocalizedName='%s')", t.ObjectTypeCode, t.LogicalName, t.DisplayName)
	}
	return &Error{Kind: KindPrivilege, Privilege: privilege, Message: fmt.Sprintf(
		"Principal user (Id=%s, type=8, roleCount=%d, privilegeCount=%d, accessMode='%s', AADObjectId='%s', MetadataCachePrivilegesCount=%d, businessUnitId=%s), is missing %s privilege (Id=%s)%s. context.Caller=%s. Consider adding missed privilege to one of the principal (user/team) roles.",
		p.UserID, p.RoleCount, len(p.privileges), accessModeNames[p.AccessMode], aad, p.totalPrivs, p.BusinessUnitID,
		privilege, s.privileges[privilege], entity, caller)}
}

// recordAccessError is the failure for a privilege held at a depth that
// does not reach the row [unverified message shape, per the reference].
func recordAccessError(p *Principal, verb Verb, t *schema.Table, id string) *Error {
	return &Error{Kind: KindAccess, Message: fmt.Sprintf(
		"Principal with id %s does not have %sAccess right(s) for record with id %s of entity %s.",
		p.UserID, verb, id, t.LogicalName)}
}

// ownership describes who owns a row, for depth checks.
type ownership struct {
	user, team, businessUnit string
}

// reaches reports whether a privilege at depth d covers a row owned as o.
func (s *Store) reaches(ctx context.Context, q querier, p *Principal, d Depth, o ownership) (bool, error) {
	switch d {
	case DepthOrganization:
		return true, nil
	case DepthNone:
		return false, nil
	case DepthUser:
		if o.user != "" && o.user == p.UserID.String() {
			return true, nil
		}
		for _, t := range p.teams {
			if o.team == t {
				return true, nil
			}
		}
		return o.user == "" && o.team == "" && o.businessUnit == "", nil
	}
	if o.businessUnit == "" {
		return true, nil
	}
	if o.businessUnit == p.BusinessUnitID.String() {
		return true, nil
	}
	if d == DepthBusinessUnit {
		return false, nil
	}
	var n int
	err := q.QueryRowContext(ctx, `WITH RECURSIVE sub("id") AS (
			SELECT ? UNION SELECT b."businessunitid" FROM "businessunit" b JOIN sub ON b."parentbusinessunitid" = sub."id")
		SELECT count(*) FROM sub WHERE "id" = ?`, p.BusinessUnitID.String(), o.businessUnit).Scan(&n)
	return n > 0, err
}

// businessUnitColumn returns the column holding the business unit that
// owns a row: owningbusinessunit, or businessunitid on business-owned
// tables (systemuser, team, role).
func businessUnitColumn(t *schema.Table) *schema.Column {
	if c := t.SystemColumn(schema.RoleOwningBusinessUnit); c != nil {
		return c
	}
	if t.Ownership == schema.OwnershipBusiness {
		if c, ok := t.Column("businessunitid"); ok {
			return c
		}
		if t.LogicalName == "businessunit" {
			return t.PrimaryID()
		}
	}
	return nil
}

// accessScope returns the condition limiting a query on t to the rows a
// privilege at depth d reaches; nil for all rows.
func accessScope(p *Principal, d Depth, t *schema.Table) Cond {
	if d >= DepthOrganization || t.Ownership == schema.OwnershipOrganization || t.Ownership == schema.OwnershipNone {
		return nil
	}
	bu := businessUnitColumn(t)
	if d == DepthUser {
		if owner := t.SystemColumn(schema.RoleOwningUser); owner != nil {
			conds := []Cond{rawCond{sql: "{t}." + quoteIdent(owner.LogicalName) + " = ?", args: []any{p.UserID.String()}}}
			if team := t.SystemColumn(schema.RoleOwningTeam); team != nil && len(p.teams) > 0 {
				ph := strings.TrimSuffix(strings.Repeat("?,", len(p.teams)), ",")
				args := make([]any, len(p.teams))
				for i, id := range p.teams {
					args[i] = id
				}
				conds = append(conds, rawCond{sql: "{t}." + quoteIdent(team.LogicalName) + " IN (" + ph + ")", args: args})
			}
			return Or(conds...)
		}
		if t.LogicalName == "systemuser" {
			return rawCond{sql: "{t}." + quoteIdent("systemuserid") + " = ?", args: []any{p.UserID.String()}}
		}
	}
	if bu == nil {
		return nil
	}
	if d == DepthParentChild {
		return rawCond{sql: `{t}.` + quoteIdent(bu.LogicalName) + ` IN (WITH RECURSIVE sub("id") AS (
			SELECT ? UNION SELECT b."businessunitid" FROM "businessunit" b JOIN sub ON b."parentbusinessunitid" = sub."id") SELECT "id" FROM sub)`,
			args: []any{p.BusinessUnitID.String()}}
	}
	return rawCond{sql: "{t}." + quoteIdent(bu.LogicalName) + " = ?", args: []any{p.BusinessUnitID.String()}}
}

// querier is what reads need from *sql.DB and *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// UserByObjectID loads the systemuser whose azureactivedirectoryobjectid
// is the given Entra object id.
func (s *Store) UserByObjectID(ctx context.Context, objectID string) (*Principal, error) {
	oid, err := uuid.Parse(objectID)
	if err != nil {
		return nil, notFound("systemuser", objectID)
	}
	p, err := s.loadPrincipal(ctx, `"azureactivedirectoryobjectid" = ?`, oid.String())
	if KindOf(err) == KindNoUser {
		return nil, &Error{Kind: KindNotFound, Message: fmt.Sprintf("systemuser With azureactivedirectoryobjectid = %s Does Not Exist", oid)}
	}
	return p, err
}

// ImpersonationIntersects decides the rights of an impersonating
// request: true gives the intersection of the caller's and the
// impersonated user's privileges (the reference's account of
// MSCRMCallerID), false the impersonated user's alone [unverified].
const ImpersonationIntersects = true

// Impersonate returns the principal a request of caller runs as when it
// impersonates target (CallerObjectId / MSCRMCallerID). The caller needs
// prvActOnBehalfOfAnotherUser; the target must be enabled. The result is
// target, with CallerID set to the caller (recorded as createdonbehalfby
// and modifiedonbehalfby).
func (s *Store) Impersonate(caller, target *Principal) (*Principal, error) {
	if caller.Depth(PrivilegeActOnBehalfOf) == DepthNone {
		e := s.privilegeError(caller, PrivilegeActOnBehalfOf, nil)
		return nil, e
	}
	if err := target.disabledError(); err != nil {
		return nil, err
	}
	eff := *target
	eff.CallerID = caller.UserID
	eff.delegate, eff.own = caller, target.privileges
	if ImpersonationIntersects {
		eff.privileges = make(map[string]Depth, len(target.privileges))
		for name, d := range target.privileges {
			if c := caller.privileges[name]; c != DepthNone {
				eff.privileges[name] = min(c, d)
			}
		}
	}
	return &eff, nil
}
