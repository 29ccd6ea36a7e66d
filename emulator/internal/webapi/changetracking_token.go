package webapi

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/d365s2s/d365/emulator/internal/store"
)

// deltaToken is a change-tracking position: a version of the store's
// sequence and when it was taken. Its text is Dataverse's documented form,
// "<version>!<MM/dd/yyyy HH:mm:ss>" (919042!08/22/2017 08:10:44), the time
// in UTC [unverified zone]. Clients treat it as opaque.
type deltaToken struct {
	version int64
	at      time.Time
}

// deltaTokenTimeLayout is the token's time, as in Microsoft's examples.
const deltaTokenTimeLayout = "01/02/2006 15:04:05"

func (d deltaToken) String() string {
	return strconv.FormatInt(d.version, 10) + "!" + d.at.UTC().Format(deltaTokenTimeLayout)
}

var errBadDeltaToken = errors.New("webapi: not a delta token")

// parseDeltaToken reads a token written by deltaToken.String.
func parseDeltaToken(s string) (deltaToken, error) {
	num, when, ok := strings.Cut(s, "!")
	if !ok || num == "" || len(num) > 18 || strings.TrimLeft(num, "0123456789") != "" {
		return deltaToken{}, errBadDeltaToken
	}
	v, err := strconv.ParseInt(num, 10, 64)
	if err != nil || v < 0 {
		return deltaToken{}, errBadDeltaToken
	}
	at, err := time.Parse(deltaTokenTimeLayout, when)
	if err != nil {
		return deltaToken{}, errBadDeltaToken
	}
	return deltaToken{version: v, at: at}, nil
}

// escapeDeltaToken percent-encodes a token for a URL as Dataverse's delta
// links show it: everything but letters and digits, in lower-case hex
// (919042%2108%2f22%2f2017%2008%3a10%3a44).
func escapeDeltaToken(s string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// trackingPhase is what a page of a change-tracking read holds.
type trackingPhase string

const (
	phaseInitial trackingPhase = "initial" // the full read, by primary key
	phaseChanged trackingPhase = "changed" // a delta's new and changed rows, by version
	phaseDeleted trackingPhase = "deleted" // a delta's tombstones, by version
)

// trackingCursor is where the next page of a change-tracking read starts.
// It travels in the pagingcookie of the skip token, as JSON, so that a
// nextLink followed without Prefer: odata.track-changes still continues in
// tracking mode (change-tracking.md §2).
type trackingCursor struct {
	Phase trackingPhase `json:"p"`
	// Version and At are the position the read ends at: the version taken
	// when its first page was read, which the final delta link carries.
	Version int64 `json:"v"`
	At      int64 `json:"at"` // Unix seconds
	// Keys is the store cursor of the initial and changed phases.
	Keys json.RawMessage `json:"k,omitempty"`
	// DeletedVersion and DeletedID are the last tombstone written.
	DeletedVersion int64  `json:"dv,omitempty"`
	DeletedID      string `json:"di,omitempty"`
}

// trackingSkipTokenPattern is the skip token of a change-tracking page:
// Dataverse's paging-cookie form, with istracking="True" [unverified: what
// real tracked pages carry is undocumented].
var trackingSkipTokenPattern = regexp.MustCompile(`^<cookie pagenumber="([0-9]{1,9})" pagingcookie="([A-Za-z0-9_-]*)" istracking="True" />$`)

// isTrackingSkipToken reports whether a $skiptoken continues a
// change-tracking read.
func isTrackingSkipToken(token string) bool {
	return strings.HasSuffix(token, `istracking="True" />`)
}

func encodeTrackingSkipToken(c trackingCursor, pageNumber int) (string, error) {
	text, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	return `<cookie pagenumber="` + strconv.Itoa(pageNumber) + `" pagingcookie="` +
		base64.RawURLEncoding.EncodeToString(text) + `" istracking="True" />`, nil
}

// decodeTrackingSkipToken reads a token of encodeTrackingSkipToken.
func decodeTrackingSkipToken(token string) (trackingCursor, int, error) {
	m := trackingSkipTokenPattern.FindStringSubmatch(token)
	if m == nil {
		return trackingCursor{}, 0, errBadSkipToken()
	}
	page, _ := strconv.Atoi(m[1])
	text, err := base64.RawURLEncoding.DecodeString(m[2])
	if err != nil {
		return trackingCursor{}, 0, errBadSkipToken()
	}
	var c trackingCursor
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || dec.More() {
		return trackingCursor{}, 0, errBadSkipToken()
	}
	switch c.Phase {
	case phaseInitial, phaseChanged:
		if len(c.Keys) == 0 {
			return trackingCursor{}, 0, errBadSkipToken()
		}
	case phaseDeleted:
		if c.DeletedID == "" {
			return trackingCursor{}, 0, errBadSkipToken()
		}
	default:
		return trackingCursor{}, 0, errBadSkipToken()
	}
	if c.Version < 0 {
		return trackingCursor{}, 0, errBadSkipToken()
	}
	return c, page, nil
}

// storeCursor returns the store cursor of the initial and changed phases.
func (c trackingCursor) storeCursor() (*store.Cursor, error) {
	var cur store.Cursor
	if err := cur.UnmarshalText(c.Keys); err != nil {
		return nil, errBadSkipToken()
	}
	return &cur, nil
}

// token is the position the read ends at.
func (c trackingCursor) token() deltaToken {
	return deltaToken{version: c.Version, at: time.Unix(c.At, 0).UTC()}
}
