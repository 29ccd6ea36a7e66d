package identity

import (
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// minCertificateKeyBits is the smallest RSA key accepted for a client certificate.
const minCertificateKeyBits = 2048

// CertificateInfo describes a certificate registered on an app (a key credential).
type CertificateInfo struct {
	ClientID string
	// KeyID is the key credential's GUID.
	KeyID string
	// DisplayName is the certificate's subject common name, as the portal shows it.
	DisplayName string
	// ThumbprintSHA1 is the upper-case hex SHA-1 of the DER certificate: the portal's
	// "Thumbprint" and what AADSTS700027 quotes.
	ThumbprintSHA1 string
	// ThumbprintSHA256 is the upper-case hex SHA-256 of the DER certificate (x5t#S256).
	ThumbprintSHA256 string
	Subject          string
	NotBefore        time.Time
	NotAfter         time.Time
	Created          time.Time
}

// registeredCertificate is a certificate row with its parsed public key.
type registeredCertificate struct {
	CertificateInfo
	sha1   []byte
	sha256 []byte
	key    *rsa.PublicKey
}

// ParseCertificatePEM reads the certificates in data: PEM "CERTIFICATE" blocks (other blocks,
// such as a private key, are skipped and never kept) or, when data holds no PEM, one DER
// certificate.
func ParseCertificatePEM(data []byte) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest, sawPEM := data, false
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		sawPEM = true
		if block.Type != "CERTIFICATE" {
			continue
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("identity: PEM certificate %d does not parse: %w", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if !sawPEM {
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, fmt.Errorf("identity: the data is neither PEM nor a DER certificate: %w", err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("identity: the PEM data holds no CERTIFICATE block: %w", ErrInvalid)
	}
	return certs, nil
}

// AddCertificate registers cert's public key as a credential of the app ("Upload certificate" in
// the portal). Clients then authenticate with assertions signed by the matching private key. The
// key must be RSA of at least 2048 bits. Adding a certificate that is already registered returns
// the existing entry.
func (s *Service) AddCertificate(ctx context.Context, clientID string, cert *x509.Certificate) (CertificateInfo, error) {
	if cert == nil {
		return CertificateInfo{}, fmt.Errorf("identity: add certificate: nil certificate: %w", ErrInvalid)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return CertificateInfo{}, fmt.Errorf("identity: certificate %q has a %v key; Entra client certificates (and MSAL) need RSA: %w",
			cert.Subject.CommonName, cert.PublicKeyAlgorithm, ErrInvalid)
	}
	if pub.N.BitLen() < minCertificateKeyBits {
		return CertificateInfo{}, fmt.Errorf("identity: certificate %q has a %d-bit RSA key; use at least %d bits: %w",
			cert.Subject.CommonName, pub.N.BitLen(), minCertificateKeyBits, ErrInvalid)
	}
	app, err := s.App(ctx, clientID)
	if err != nil {
		return CertificateInfo{}, fmt.Errorf("identity: add certificate: %w", err)
	}
	sum1, sum256 := sha1.Sum(cert.Raw), sha256.Sum256(cert.Raw)
	info := CertificateInfo{
		ClientID:         app.ClientID,
		KeyID:            uuid.NewString(),
		DisplayName:      cert.Subject.CommonName,
		ThumbprintSHA1:   strings.ToUpper(hex.EncodeToString(sum1[:])),
		ThumbprintSHA256: strings.ToUpper(hex.EncodeToString(sum256[:])),
		Subject:          cert.Subject.String(),
		NotBefore:        cert.NotBefore.UTC(),
		NotAfter:         cert.NotAfter.UTC(),
		Created:          s.now().UTC(),
	}
	existing, err := s.loadCertificates(ctx, app.ClientID)
	if err != nil {
		return CertificateInfo{}, err
	}
	for _, c := range existing {
		if c.ThumbprintSHA256 == info.ThumbprintSHA256 {
			return c.CertificateInfo, nil
		}
	}
	if _, err := s.exec(ctx, `INSERT INTO entra_certificates
		(client_id, key_id, thumbprint_sha1, thumbprint_sha256, display_name, der, not_before, not_after, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		info.ClientID, info.KeyID, info.ThumbprintSHA1, info.ThumbprintSHA256, info.DisplayName, cert.Raw,
		dbTime(info.NotBefore), dbTime(info.NotAfter), dbTime(info.Created)); err != nil {
		return CertificateInfo{}, fmt.Errorf("identity: add certificate to app %s: %w", app.ClientID, err)
	}
	s.log.Info("certificate added", "client_id", app.ClientID, "thumbprint", info.ThumbprintSHA1, "not_after", info.NotAfter)
	return info, nil
}

// Certificates lists the certificates registered on an app, oldest first.
func (s *Service) Certificates(ctx context.Context, clientID string) ([]CertificateInfo, error) {
	app, err := s.App(ctx, clientID)
	if err != nil {
		return nil, err
	}
	certs, err := s.loadCertificates(ctx, app.ClientID)
	if err != nil {
		return nil, err
	}
	out := make([]CertificateInfo, len(certs))
	for i, c := range certs {
		out[i] = c.CertificateInfo
	}
	return out, nil
}

// RemoveCertificate deletes a certificate from an app. id is its SHA-1 or SHA-256 thumbprint in
// hex (any case) or its key ID.
func (s *Service) RemoveCertificate(ctx context.Context, clientID, id string) error {
	clientID = strings.ToLower(strings.TrimSpace(clientID))
	id = strings.TrimSpace(id)
	res, err := s.exec(ctx, `DELETE FROM entra_certificates WHERE client_id = ? AND
		(thumbprint_sha1 = ? OR thumbprint_sha256 = ? OR key_id = ?)`, clientID, strings.ToUpper(id), strings.ToUpper(id), strings.ToLower(id))
	if err != nil {
		return fmt.Errorf("identity: remove certificate %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("identity: certificate %q of app %q: %w", id, clientID, ErrNotFound)
	}
	s.log.Info("certificate removed", "client_id", clientID, "certificate", id)
	return nil
}

func (s *Service) loadCertificates(ctx context.Context, clientID string) ([]registeredCertificate, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key_id, display_name, der, created_at
		FROM entra_certificates WHERE client_id = ? ORDER BY rowid`, clientID)
	if err != nil {
		return nil, fmt.Errorf("identity: list certificates of app %s: %w", clientID, err)
	}
	defer rows.Close()
	var out []registeredCertificate
	for rows.Next() {
		var (
			keyID, name, created string
			der                  []byte
		)
		if err := rows.Scan(&keyID, &name, &der, &created); err != nil {
			return nil, fmt.Errorf("identity: list certificates of app %s: %w", clientID, err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("identity: stored certificate %s of app %s is corrupt: %w", keyID, clientID, err)
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return nil, fmt.Errorf("identity: stored certificate %s of app %s has no RSA key", keyID, clientID)
		}
		createdAt, err := parseDBTime(created)
		if err != nil {
			return nil, err
		}
		sum1, sum256 := sha1.Sum(der), sha256.Sum256(der)
		out = append(out, registeredCertificate{
			CertificateInfo: CertificateInfo{
				ClientID:         clientID,
				KeyID:            keyID,
				DisplayName:      name,
				ThumbprintSHA1:   strings.ToUpper(hex.EncodeToString(sum1[:])),
				ThumbprintSHA256: strings.ToUpper(hex.EncodeToString(sum256[:])),
				Subject:          cert.Subject.String(),
				NotBefore:        cert.NotBefore.UTC(),
				NotAfter:         cert.NotAfter.UTC(),
				Created:          createdAt,
			},
			sha1:   sum1[:],
			sha256: sum256[:],
			key:    pub,
		})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("identity: list certificates of app %s: %w", clientID, err)
	}
	return out, nil
}
