package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/google/uuid"
)

// App is an app registration together with its service principal in its home tenant.
type App struct {
	// ClientID is the application (client) ID; tokens carry it as appid.
	ClientID string
	// TenantID is the home tenant's ID (or domain, when registering).
	TenantID string
	// ObjectID is the service principal's object ID; tokens carry it as oid and sub, and the
	// Dataverse application user records it. Empty when registering means a new random GUID.
	ObjectID string
	// DisplayName is the app's name, shown in messages such as AADSTS7000112. Empty means the
	// client ID.
	DisplayName string
	// Disabled apps get AADSTS7000112 from the token endpoint.
	Disabled bool
}

// EnsureApp registers a if no app with a.ClientID exists. An existing app is left as it is (its
// enabled state, secrets and certificates survive restarts that re-seed it), unless it belongs to
// another tenant or has another object ID, which is an ErrConflict.
func (s *Service) EnsureApp(ctx context.Context, a App) error {
	clientID, err := canonicalGUID("client ID", a.ClientID)
	if err != nil {
		return err
	}
	tenant, err := s.Tenant(ctx, a.TenantID)
	if err != nil {
		return fmt.Errorf("identity: register app %s: %w", clientID, err)
	}
	objectID := strings.TrimSpace(a.ObjectID)
	if objectID != "" {
		if objectID, err = canonicalGUID("service principal object ID", objectID); err != nil {
			return err
		}
	}
	name := strings.TrimSpace(a.DisplayName)
	if name == "" {
		name = clientID
	}

	created := false
	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		existing, err := queryApp(ctx, tx, clientID)
		switch {
		case err == nil:
			if existing.TenantID != tenant.ID {
				return fmt.Errorf("identity: app %s is already registered in tenant %s, not %s: %w", clientID, existing.TenantID, tenant.ID, ErrConflict)
			}
			if objectID != "" && existing.ObjectID != objectID {
				return fmt.Errorf("identity: app %s already has service principal %s, not %s: %w", clientID, existing.ObjectID, objectID, ErrConflict)
			}
			return nil
		case !errors.Is(err, ErrNotFound):
			return err
		}
		if objectID == "" {
			objectID = uuid.NewString()
		} else {
			var other string
			err := tx.QueryRowContext(ctx, `SELECT client_id FROM entra_apps WHERE object_id = ?`, objectID).Scan(&other)
			if err == nil {
				return fmt.Errorf("identity: object ID %s already belongs to app %s: %w", objectID, other, ErrConflict)
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return fmt.Errorf("identity: register app %s: %w", clientID, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO entra_apps (client_id, tenant_id, object_id, display_name, disabled, created_at)
			VALUES (?, ?, ?, ?, ?, ?)`, clientID, tenant.ID, objectID, name, a.Disabled, dbTime(s.now())); err != nil {
			return fmt.Errorf("identity: register app %s: %w", clientID, err)
		}
		created = true
		return nil
	})
	if err != nil || !created {
		return err
	}
	s.log.Info("app registered", "client_id", clientID, "tenant_id", tenant.ID, "object_id", objectID, "disabled", a.Disabled)
	return nil
}

// App returns the app registration with the given client ID.
func (s *Service) App(ctx context.Context, clientID string) (App, error) {
	return queryApp(ctx, s.db, strings.ToLower(strings.TrimSpace(clientID)))
}

// Apps lists the app registrations of one tenant (by ID or domain), or of all tenants when
// tenant is empty, ordered by display name.
func (s *Service) Apps(ctx context.Context, tenant string) ([]App, error) {
	query := `SELECT client_id, tenant_id, object_id, display_name, disabled FROM entra_apps`
	var args []any
	if tenant != "" {
		t, err := s.Tenant(ctx, tenant)
		if err != nil {
			return nil, err
		}
		query += ` WHERE tenant_id = ?`
		args = append(args, t.ID)
	}
	rows, err := s.db.QueryContext(ctx, query+` ORDER BY display_name, client_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("identity: list apps: %w", err)
	}
	defer rows.Close()
	var out []App
	for rows.Next() {
		var a App
		if err := rows.Scan(&a.ClientID, &a.TenantID, &a.ObjectID, &a.DisplayName, &a.Disabled); err != nil {
			return nil, fmt.Errorf("identity: list apps: %w", err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("identity: list apps: %w", err)
	}
	return out, nil
}

// DisableApp disables an app: its token requests get AADSTS7000112 until EnableApp. Tokens
// issued before stay valid until they expire, as in Entra.
func (s *Service) DisableApp(ctx context.Context, clientID string) error {
	return s.setAppDisabled(ctx, clientID, true)
}

// EnableApp re-enables an app disabled with DisableApp.
func (s *Service) EnableApp(ctx context.Context, clientID string) error {
	return s.setAppDisabled(ctx, clientID, false)
}

func (s *Service) setAppDisabled(ctx context.Context, clientID string, disabled bool) error {
	clientID = strings.ToLower(strings.TrimSpace(clientID))
	res, err := s.exec(ctx, `UPDATE entra_apps SET disabled = ? WHERE client_id = ?`, disabled, clientID)
	if err != nil {
		return fmt.Errorf("identity: update app %s: %w", clientID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("identity: app %q: %w", clientID, ErrNotFound)
	}
	s.log.Info("app updated", "client_id", clientID, "disabled", disabled)
	return nil
}

// RemoveApp deletes an app registration with its secrets and certificates.
func (s *Service) RemoveApp(ctx context.Context, clientID string) error {
	clientID = strings.ToLower(strings.TrimSpace(clientID))
	err := s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		for _, stmt := range []string{
			`DELETE FROM entra_secrets WHERE client_id = ?`,
			`DELETE FROM entra_certificates WHERE client_id = ?`,
		} {
			if _, err := tx.ExecContext(ctx, stmt, clientID); err != nil {
				return fmt.Errorf("identity: remove app %s: %w", clientID, err)
			}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM entra_apps WHERE client_id = ?`, clientID)
		if err != nil {
			return fmt.Errorf("identity: remove app %s: %w", clientID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("identity: app %q: %w", clientID, ErrNotFound)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.log.Info("app removed", "client_id", clientID)
	return nil
}

// querier is what *sql.DB and *sql.Tx have in common for reads.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func queryApp(ctx context.Context, q querier, clientID string) (App, error) {
	var a App
	err := q.QueryRowContext(ctx, `SELECT client_id, tenant_id, object_id, display_name, disabled FROM entra_apps WHERE client_id = ?`, clientID).
		Scan(&a.ClientID, &a.TenantID, &a.ObjectID, &a.DisplayName, &a.Disabled)
	if errors.Is(err, sql.ErrNoRows) {
		return App{}, fmt.Errorf("identity: app %q: %w", clientID, ErrNotFound)
	}
	if err != nil {
		return App{}, fmt.Errorf("identity: look up app %s: %w", clientID, err)
	}
	return a, nil
}
