package identity

import (
	"context"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/google/uuid"
)

// Secret is a client secret (password credential) to register on an app.
type Secret struct {
	// ID is the secret's key ID, a GUID (the portal's "Secret ID"; not the secret).
	ID string
	// DisplayName is the description shown beside the secret.
	DisplayName string
	// Value is the secret itself. It is never stored, logged or printed: the service keeps a
	// salted hash and, like Entra, the first three characters as a hint.
	Value string
	// Expires is when the secret stops working (AADSTS7000222 afterwards); zero means never.
	Expires time.Time
}

// String describes the secret without its value.
func (s Secret) String() string {
	return "secret " + s.ID + " (" + s.DisplayName + ") [REDACTED]"
}

// GoString keeps the value out of %#v.
func (s Secret) GoString() string {
	return fmt.Sprintf("identity.Secret{ID:%q, DisplayName:%q, Value:\"[REDACTED]\", Expires:%s}", s.ID, s.DisplayName, s.Expires.Format(time.RFC3339))
}

// LogValue keeps the value out of structured logs.
func (s Secret) LogValue() slog.Value {
	return slog.GroupValue(slog.String("id", s.ID), slog.String("display_name", s.DisplayName), slog.String("value", "[REDACTED]"))
}

// SecretInfo is what can be shown about a registered secret: never its value.
type SecretInfo struct {
	ID          string
	ClientID    string
	DisplayName string
	// Hint is the first three characters of the value, as the Entra portal shows them.
	Hint    string
	Expires time.Time // zero = never
	Created time.Time
}

// Expired reports whether the secret has expired at now.
func (i SecretInfo) Expired(now time.Time) bool { return !i.Expires.IsZero() && !now.Before(i.Expires) }

// Secret hashing: PBKDF2-SHA-256 with a random 16-byte salt. The parameters are stored with each
// hash so they can change without invalidating stored secrets. The iteration count is modest
// because every token request verifies against each of the app's secrets.
const (
	secretHashScheme     = "pbkdf2-sha256"
	secretHashIterations = 4096
	secretSaltBytes      = 16
	secretHashBytes      = 32
	secretHintLength     = 3
	maxSecretLength      = 256
)

// secretValueAlphabet is the character set of Entra-generated secret values.
const secretValueAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-_~"

// NewSecretValue generates a secret value shaped like the ones Entra generates: 40 characters,
// three random ones, then "8Q~", then 34 more from letters, digits and ".-_~".
func NewSecretValue() (string, error) {
	var b strings.Builder
	b.Grow(40)
	pick := func(n int) error {
		buf := make([]byte, n)
		if _, err := rand.Read(buf); err != nil {
			return err
		}
		for _, c := range buf {
			// 66 symbols; the slight modulo bias is irrelevant for 200+ bits of entropy.
			b.WriteByte(secretValueAlphabet[int(c)%len(secretValueAlphabet)])
		}
		return nil
	}
	if err := pick(3); err != nil {
		return "", fmt.Errorf("identity: generate secret: %w", err)
	}
	b.WriteString("8Q~")
	if err := pick(34); err != nil {
		return "", fmt.Errorf("identity: generate secret: %w", err)
	}
	return b.String(), nil
}

// EnsureSecret registers sec on the app if no secret with sec.ID exists. An existing secret is
// left as it is if it belongs to the same app and has the same value; otherwise it is an
// ErrConflict (remove it first to change it).
func (s *Service) EnsureSecret(ctx context.Context, clientID string, sec Secret) error {
	id, err := canonicalGUID("secret ID", sec.ID)
	if err != nil {
		return err
	}
	if err := checkSecretValue(sec.Value); err != nil {
		return err
	}
	app, err := s.App(ctx, clientID)
	if err != nil {
		return fmt.Errorf("identity: add secret %s: %w", id, err)
	}
	var owner, hash string
	err = s.db.QueryRowContext(ctx, `SELECT client_id, hash FROM entra_secrets WHERE id = ?`, id).Scan(&owner, &hash)
	switch {
	case err == nil:
		if owner != app.ClientID {
			return fmt.Errorf("identity: secret %s belongs to app %s, not %s: %w", id, owner, app.ClientID, ErrConflict)
		}
		if !secretMatches(hash, sec.Value) {
			return fmt.Errorf("identity: secret %s of app %s exists with a different value; remove it first to replace it: %w", id, app.ClientID, ErrConflict)
		}
		return nil
	case !errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("identity: add secret %s: %w", id, err)
	}
	_, err = s.insertSecret(ctx, app.ClientID, id, sec)
	return err
}

// AddSecret generates a new secret for the app, as the portal's "New client secret" does. It
// returns the secret's metadata and its value; the value cannot be read back later.
func (s *Service) AddSecret(ctx context.Context, clientID, displayName string, expires time.Time) (SecretInfo, string, error) {
	app, err := s.App(ctx, clientID)
	if err != nil {
		return SecretInfo{}, "", fmt.Errorf("identity: add secret: %w", err)
	}
	value, err := NewSecretValue()
	if err != nil {
		return SecretInfo{}, "", err
	}
	info, err := s.insertSecret(ctx, app.ClientID, uuid.NewString(), Secret{DisplayName: displayName, Value: value, Expires: expires})
	if err != nil {
		return SecretInfo{}, "", err
	}
	return info, value, nil
}

func (s *Service) insertSecret(ctx context.Context, clientID, id string, sec Secret) (SecretInfo, error) {
	hash, err := hashSecret(sec.Value)
	if err != nil {
		return SecretInfo{}, err
	}
	info := SecretInfo{
		ID:          id,
		ClientID:    clientID,
		DisplayName: strings.TrimSpace(sec.DisplayName),
		Hint:        secretHint(sec.Value),
		Expires:     sec.Expires.UTC(),
		Created:     s.now().UTC(),
	}
	if sec.Expires.IsZero() {
		info.Expires = time.Time{}
	}
	if _, err := s.exec(ctx, `INSERT INTO entra_secrets (id, client_id, display_name, hint, hash, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, info.ID, clientID, info.DisplayName, info.Hint, hash, dbTime(info.Expires), dbTime(info.Created)); err != nil {
		return SecretInfo{}, fmt.Errorf("identity: add secret %s to app %s: %w", id, clientID, err)
	}
	s.log.Info("client secret added", "client_id", clientID, "secret_id", id, "hint", info.Hint, "expires", info.Expires)
	return info, nil
}

// Secrets lists an app's secrets (metadata only), oldest first.
func (s *Service) Secrets(ctx context.Context, clientID string) ([]SecretInfo, error) {
	app, err := s.App(ctx, clientID)
	if err != nil {
		return nil, err
	}
	secrets, err := s.loadSecrets(ctx, app.ClientID)
	if err != nil {
		return nil, err
	}
	out := make([]SecretInfo, len(secrets))
	for i, sec := range secrets {
		out[i] = sec.SecretInfo
	}
	return out, nil
}

// RemoveSecret deletes one secret of an app.
func (s *Service) RemoveSecret(ctx context.Context, clientID, secretID string) error {
	clientID = strings.ToLower(strings.TrimSpace(clientID))
	secretID = strings.ToLower(strings.TrimSpace(secretID))
	res, err := s.exec(ctx, `DELETE FROM entra_secrets WHERE client_id = ? AND id = ?`, clientID, secretID)
	if err != nil {
		return fmt.Errorf("identity: remove secret %s: %w", secretID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("identity: secret %q of app %q: %w", secretID, clientID, ErrNotFound)
	}
	s.log.Info("client secret removed", "client_id", clientID, "secret_id", secretID)
	return nil
}

// storedSecret is a secret row: its metadata and its hash.
type storedSecret struct {
	SecretInfo
	hash string
}

func (s *Service) loadSecrets(ctx context.Context, clientID string) ([]storedSecret, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, display_name, hint, hash, expires_at, created_at
		FROM entra_secrets WHERE client_id = ? ORDER BY rowid`, clientID)
	if err != nil {
		return nil, fmt.Errorf("identity: list secrets of app %s: %w", clientID, err)
	}
	defer rows.Close()
	var out []storedSecret
	for rows.Next() {
		sec := storedSecret{SecretInfo: SecretInfo{ClientID: clientID}}
		var expires, created string
		if err := rows.Scan(&sec.ID, &sec.DisplayName, &sec.Hint, &sec.hash, &expires, &created); err != nil {
			return nil, fmt.Errorf("identity: list secrets of app %s: %w", clientID, err)
		}
		if sec.Expires, err = parseDBTime(expires); err != nil {
			return nil, err
		}
		if sec.Created, err = parseDBTime(created); err != nil {
			return nil, err
		}
		out = append(out, sec)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("identity: list secrets of app %s: %w", clientID, err)
	}
	return out, nil
}

// secretCheck is the outcome of checking a presented secret against an app's secrets.
type secretCheck int

const (
	secretWrong secretCheck = iota
	secretValid
	secretExpired
)

// checkSecret compares value with every secret of the app. A match with an unexpired secret wins;
// a match with only expired ones is secretExpired.
func (s *Service) checkSecret(ctx context.Context, clientID, value string, now time.Time) (secretCheck, string, error) {
	secrets, err := s.loadSecrets(ctx, clientID)
	if err != nil {
		return secretWrong, "", err
	}
	result, matchedID := secretWrong, ""
	for _, sec := range secrets {
		if !secretMatches(sec.hash, value) {
			continue
		}
		if !sec.Expired(now) {
			return secretValid, sec.ID, nil
		}
		result, matchedID = secretExpired, sec.ID
	}
	return result, matchedID, nil
}

func checkSecretValue(v string) error {
	if v == "" {
		return fmt.Errorf("identity: the secret value is empty: %w", ErrInvalid)
	}
	if len(v) > maxSecretLength {
		return fmt.Errorf("identity: the secret value is longer than %d bytes: %w", maxSecretLength, ErrInvalid)
	}
	for _, r := range v {
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return fmt.Errorf("identity: the secret value contains control characters or invalid UTF-8: %w", ErrInvalid)
		}
	}
	return nil
}

// secretHint is the first three characters of the value (Entra's passwordCredential.hint).
func secretHint(v string) string {
	r := []rune(v)
	if len(r) > secretHintLength {
		r = r[:secretHintLength]
	}
	return string(r)
}

func hashSecret(value string) (string, error) {
	salt := make([]byte, secretSaltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("identity: hash secret: %w", err)
	}
	sum, err := pbkdf2.Key(sha256.New, value, salt, secretHashIterations, secretHashBytes)
	if err != nil {
		return "", fmt.Errorf("identity: hash secret: %w", err)
	}
	return secretHashScheme + "$" + strconv.Itoa(secretHashIterations) + "$" +
		base64.RawStdEncoding.EncodeToString(salt) + "$" + base64.RawStdEncoding.EncodeToString(sum), nil
}

// secretMatches reports whether value hashes to stored, in constant time for the comparison.
func secretMatches(stored, value string) bool {
	parts := strings.Split(stored, "$")
	if len(parts) != 4 || parts[0] != secretHashScheme {
		return false
	}
	iter, err := strconv.Atoi(parts[1])
	if err != nil || iter < 1 || iter > 10_000_000 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[2])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, value, salt, iter, len(want))
	if err != nil {
		return false
	}
	return subtle.ConstantTimeCompare(got, want) == 1
}

// SecretAccepted reports whether the token endpoint would accept value as a client secret of the
// app now: it matches one of the app's stored hashes and has not expired. The emulator uses it on
// a restart to tell whether a secret it knows (a scenario's, the seeded one) still works.
func (s *Service) SecretAccepted(ctx context.Context, clientID, value string) (bool, error) {
	check, _, err := s.checkSecret(ctx, clientID, value, s.now())
	return check == secretValid, err
}
