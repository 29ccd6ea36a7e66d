package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/d365s2s/d365/emulator/internal/aadsts"
)

// Tenant is an Entra tenant (directory). Token requests may name it by ID or by Domain.
type Tenant struct {
	// ID is the tenant (directory) GUID; tokens carry it as tid.
	ID string
	// Domain is the tenant's verified domain, e.g. contoso.onmicrosoft.com.
	Domain string
	// DisplayName is the directory name Entra shows in messages ("…not found in the directory
	// 'Contoso'"). Empty means Domain.
	DisplayName string
}

// tenantlessSegments are the authority path segments that name no single tenant.
var tenantlessSegments = map[string]bool{"common": true, "organizations": true, "consumers": true}

// emptyGUID is the all-zero GUID, which Entra rejects as a tenant.
const emptyGUID = "00000000-0000-0000-0000-000000000000"

// EnsureTenant creates t if no tenant with t.ID exists. An existing tenant is left as it is,
// unless its domain differs, which is an ErrConflict; so is a domain another tenant already has.
func (s *Service) EnsureTenant(ctx context.Context, t Tenant) error {
	id, err := canonicalGUID("tenant ID", t.ID)
	if err != nil {
		return err
	}
	if id == emptyGUID {
		return fmt.Errorf("identity: tenant ID %s is the empty GUID, which Entra never issues: %w", id, ErrInvalid)
	}
	domain := strings.ToLower(strings.TrimSpace(t.Domain))
	if !isDomainName(domain) {
		return fmt.Errorf("identity: tenant domain %q is not a DNS name such as contoso.onmicrosoft.com: %w", t.Domain, ErrInvalid)
	}
	name := strings.TrimSpace(t.DisplayName)
	if name == "" {
		name = domain
	}
	created := false
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		var existingID, existingDomain string
		err := tx.QueryRowContext(ctx, `SELECT id, domain FROM entra_tenants WHERE id = ? OR domain = ? COLLATE NOCASE`, id, domain).
			Scan(&existingID, &existingDomain)
		switch {
		case err == nil && existingID == id && strings.EqualFold(existingDomain, domain):
			return nil
		case err == nil && existingID == id:
			return fmt.Errorf("identity: tenant %s already exists with domain %s, not %s: %w", id, existingDomain, domain, ErrConflict)
		case err == nil:
			return fmt.Errorf("identity: domain %s already belongs to tenant %s: %w", domain, existingID, ErrConflict)
		case !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("identity: ensure tenant %s: %w", id, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO entra_tenants (id, domain, display_name, created_at) VALUES (?, ?, ?, ?)`,
			id, domain, name, dbTime(s.now())); err != nil {
			return fmt.Errorf("identity: create tenant %s: %w", id, err)
		}
		created = true
		return nil
	})
	if err != nil || !created {
		return err
	}
	s.log.Info("tenant created", "tenant_id", id, "domain", domain)
	return nil
}

// Tenant returns the tenant whose ID or domain is idOrDomain (case-insensitive).
func (s *Service) Tenant(ctx context.Context, idOrDomain string) (Tenant, error) {
	key := strings.ToLower(strings.TrimSpace(idOrDomain))
	var t Tenant
	err := s.db.QueryRowContext(ctx, `SELECT id, domain, display_name FROM entra_tenants WHERE id = ? OR domain = ? COLLATE NOCASE`, key, key).
		Scan(&t.ID, &t.Domain, &t.DisplayName)
	if errors.Is(err, sql.ErrNoRows) {
		return Tenant{}, fmt.Errorf("identity: tenant %q: %w", idOrDomain, ErrNotFound)
	}
	if err != nil {
		return Tenant{}, fmt.Errorf("identity: look up tenant %q: %w", idOrDomain, err)
	}
	return t, nil
}

// Tenants lists all tenants, ordered by domain.
func (s *Service) Tenants(ctx context.Context) ([]Tenant, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, domain, display_name FROM entra_tenants ORDER BY domain`)
	if err != nil {
		return nil, fmt.Errorf("identity: list tenants: %w", err)
	}
	defer rows.Close()
	var out []Tenant
	for rows.Next() {
		var t Tenant
		if err := rows.Scan(&t.ID, &t.Domain, &t.DisplayName); err != nil {
			return nil, fmt.Errorf("identity: list tenants: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("identity: list tenants: %w", err)
	}
	return out, nil
}

// resolveTenantSegment maps the {tenant} path segment of an Entra URL to a tenant the way Entra
// does: a GUID is looked up by ID, a DNS name by domain, anything else is malformed (900023).
func (s *Service) resolveTenantSegment(ctx context.Context, seg string) (Tenant, *aadsts.Error) {
	if looksLikeGUID(seg) {
		if strings.EqualFold(seg, emptyGUID) {
			return Tenant{}, aadsts.EmptyTenantGUID(seg)
		}
	} else if !isDomainName(strings.ToLower(seg)) {
		return Tenant{}, aadsts.TenantMalformed(seg)
	}
	t, err := s.Tenant(ctx, seg)
	if errors.Is(err, ErrNotFound) {
		return Tenant{}, aadsts.TenantNotFound(seg)
	}
	if err != nil {
		s.log.Error("tenant lookup failed", "error", err)
		return Tenant{}, aadsts.Transient()
	}
	return t, nil
}

// name is how Entra names a tenant in messages: its display name, else its ID.
func (t Tenant) name() string {
	if t.DisplayName != "" {
		return t.DisplayName
	}
	return t.ID
}

// looksLikeGUID reports whether s is a GUID in the 8-4-4-4-12 form.
func looksLikeGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	_, err := uuid.Parse(s)
	return err == nil
}

// canonicalGUID checks that s is a GUID in the 8-4-4-4-12 form and returns it in lower case.
func canonicalGUID(what, s string) (string, error) {
	s = strings.TrimSpace(s)
	if !looksLikeGUID(s) {
		return "", fmt.Errorf("identity: %s %q is not a GUID such as 72f988bf-86f1-41af-91ab-2d7cd011db47: %w", what, s, ErrInvalid)
	}
	return strings.ToLower(s), nil
}

// isDomainName reports whether s (lower case) is a DNS name of at least two labels, each of
// letters, digits and inner hyphens.
func isDomainName(s string) bool {
	if len(s) == 0 || len(s) > 253 || !strings.Contains(s, ".") {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}
