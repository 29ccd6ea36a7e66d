package identity

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/base64"
	"fmt"
	"math/big"
	"time"
)

// Signing keys: RSA 2048 keys with a self-signed certificate each, like Entra's token signing
// keys. kid and x5t are both the base64url SHA-1 thumbprint of the certificate, as in Entra's
// JWKS. All keys ever created stay published, so tokens signed before a rotation keep validating
// until they expire.
const (
	signingKeyBits = 2048
	// signingCertSubject is the subject of Entra's own signing certificates.
	signingCertSubject = "accounts.accesscontrol.windows.net"
	signingCertLife    = 5 * 365 * 24 * time.Hour
)

// generateRSAKey creates signing keys. Tests may replace it (in TestMain, before any Service
// exists) with a faster source of keys.
var generateRSAKey = func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, signingKeyBits) }

// GenerateSigningKey creates a new RSA key of the size token signing keys have, for
// Options.FirstSigningKey. It is the slow part of starting a service on an empty database.
func GenerateSigningKey() (*rsa.PrivateKey, error) { return generateRSAKey() }

// SigningKeyInfo describes a token signing key published in the JWKS.
type SigningKeyInfo struct {
	// KeyID is the JWKS kid (and x5t) of the key.
	KeyID string
	// Active is true for the key that signs new tokens.
	Active   bool
	Created  time.Time
	NotAfter time.Time // end of the key's certificate
}

type signingKey struct {
	kid     string
	priv    *rsa.PrivateKey
	cert    *x509.Certificate
	created time.Time
	active  bool
}

// keySet is an immutable snapshot of the signing keys; it is replaced as a whole on rotation.
type keySet struct {
	active *signingKey
	all    []*signingKey // newest first
	byKid  map[string]*signingKey
}

// loadSigningKeys reads the published keys, or creates the first one (with first's key when
// given).
func (s *Service) loadSigningKeys(ctx context.Context, first func() (*rsa.PrivateKey, error)) error {
	set, err := s.readKeySet(ctx)
	if err != nil {
		return err
	}
	if set.active == nil {
		if first == nil {
			first = generateRSAKey
		}
		if _, err := s.rotateSigningKey(ctx, first); err != nil {
			return err
		}
		return nil
	}
	s.keys.Store(set)
	return nil
}

func (s *Service) readKeySet(ctx context.Context) (*keySet, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT kid, private_key, certificate, active, created_at
		FROM entra_signing_keys ORDER BY rowid DESC`)
	if err != nil {
		return nil, fmt.Errorf("identity: load signing keys: %w", err)
	}
	defer rows.Close()
	set := &keySet{byKid: map[string]*signingKey{}}
	for rows.Next() {
		var (
			k            signingKey
			privDER, der []byte
			created      string
		)
		if err := rows.Scan(&k.kid, &privDER, &der, &k.active, &created); err != nil {
			return nil, fmt.Errorf("identity: load signing keys: %w", err)
		}
		priv, err := x509.ParsePKCS8PrivateKey(privDER)
		if err != nil {
			return nil, fmt.Errorf("identity: stored signing key %s is corrupt: %w", k.kid, err)
		}
		var ok bool
		if k.priv, ok = priv.(*rsa.PrivateKey); !ok {
			return nil, fmt.Errorf("identity: stored signing key %s is not RSA", k.kid)
		}
		if k.cert, err = x509.ParseCertificate(der); err != nil {
			return nil, fmt.Errorf("identity: stored signing certificate %s is corrupt: %w", k.kid, err)
		}
		if k.created, err = parseDBTime(created); err != nil {
			return nil, err
		}
		key := &k
		set.all = append(set.all, key)
		set.byKid[key.kid] = key
		if key.active && set.active == nil {
			set.active = key
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("identity: load signing keys: %w", err)
	}
	return set, nil
}

// RotateSigningKey creates a new signing key and makes it the one that signs new tokens. The
// previous keys stay published in the JWKS, so tokens they signed stay valid until they expire.
func (s *Service) RotateSigningKey(ctx context.Context) (SigningKeyInfo, error) {
	return s.rotateSigningKey(ctx, generateRSAKey)
}

// rotateSigningKey is RotateSigningKey with the new key from newKey.
func (s *Service) rotateSigningKey(ctx context.Context, newKey func() (*rsa.PrivateKey, error)) (SigningKeyInfo, error) {
	s.rotateMu.Lock()
	defer s.rotateMu.Unlock()
	now := s.now()
	priv, err := newKey()
	if err != nil {
		return SigningKeyInfo{}, fmt.Errorf("identity: generate signing key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return SigningKeyInfo{}, fmt.Errorf("identity: generate signing key: %w", err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: signingCertSubject},
		NotBefore:             now.Add(-time.Hour).UTC(),
		NotAfter:              now.Add(signingCertLife).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return SigningKeyInfo{}, fmt.Errorf("identity: create signing certificate: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return SigningKeyInfo{}, fmt.Errorf("identity: encode signing key: %w", err)
	}
	kid := certThumbprintB64(der)

	err = s.db.WriteTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE entra_signing_keys SET active = 0 WHERE active <> 0`); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO entra_signing_keys (kid, private_key, certificate, active, created_at)
			VALUES (?, ?, ?, 1, ?)`, kid, privDER, der, dbTime(now))
		return err
	})
	if err != nil {
		return SigningKeyInfo{}, fmt.Errorf("identity: store signing key: %w", err)
	}
	set, err := s.readKeySet(ctx)
	if err != nil {
		return SigningKeyInfo{}, err
	}
	s.keys.Store(set)
	s.log.Info("signing key rotated", "kid", kid, "published_keys", len(set.all))
	return set.active.info(), nil
}

// SigningKeys lists the published signing keys, newest (the active one) first.
func (s *Service) SigningKeys() []SigningKeyInfo {
	set := s.keys.Load()
	out := make([]SigningKeyInfo, len(set.all))
	for i, k := range set.all {
		out[i] = k.info()
	}
	return out
}

func (k *signingKey) info() SigningKeyInfo {
	return SigningKeyInfo{KeyID: k.kid, Active: k.active, Created: k.created, NotAfter: k.cert.NotAfter}
}

// certThumbprintB64 is the base64url (unpadded) SHA-1 of a DER certificate: Entra's kid and x5t.
func certThumbprintB64(der []byte) string {
	sum := sha1.Sum(der)
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// jwk is one entry of a JSON Web Key Set, in Entra's field order.
type jwk struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	Kid    string   `json:"kid"`
	X5t    string   `json:"x5t"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X5c    []string `json:"x5c"`
	Issuer string   `json:"issuer,omitempty"`
}

// jwks renders the published keys. issuer is set on v2 key sets, as Entra does.
func (set *keySet) jwks(issuer string) map[string][]jwk {
	keys := make([]jwk, 0, len(set.all))
	for _, k := range set.all {
		pub := k.priv.PublicKey
		keys = append(keys, jwk{
			Kty:    "RSA",
			Use:    "sig",
			Kid:    k.kid,
			X5t:    k.kid,
			N:      base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
			E:      base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
			X5c:    []string{base64.StdEncoding.EncodeToString(k.cert.Raw)},
			Issuer: issuer,
		})
	}
	return map[string][]jwk{"keys": keys}
}
