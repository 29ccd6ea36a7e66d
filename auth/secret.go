package auth

import (
	"fmt"
	"log/slog"
)

// redacted is what every formatting path prints in place of a secret's value.
const redacted = "[REDACTED]"

// Secret holds a credential value (a client secret or a certificate password) that must never
// reach a log, an error or an output. Every way Go formats a value — fmt verbs including %v, %+v,
// %#v, %s, %q and %x, log/slog, encoding/json, yaml and any other encoding.TextMarshaler user —
// prints [REDACTED] for a non-empty Secret and an empty string for an empty one, so "is it set?"
// stays visible while the value does not. Call [Secret.Reveal] where the value is really needed.
//
// Decoding (json.Unmarshal, flag parsing into a string) assigns the value normally.
type Secret string

// Reveal returns the secret's value. Call it only to hand the value to the token endpoint.
func (s Secret) Reveal() string { return string(s) }

// IsSet reports whether the secret has a non-empty value.
func (s Secret) IsSet() bool { return s != "" }

func (s Secret) mask() string {
	if s == "" {
		return ""
	}
	return redacted
}

// String implements fmt.Stringer and returns a mask, never the value.
func (s Secret) String() string { return s.mask() }

// GoString implements fmt.GoStringer (%#v) and returns a mask, never the value.
func (s Secret) GoString() string { return fmt.Sprintf("auth.Secret(%q)", s.mask()) }

// Format implements fmt.Formatter so that every verb, including %x and %d, prints the mask.
func (s Secret) Format(f fmt.State, verb rune) {
	switch {
	case verb == 'v' && f.Flag('#'):
		fmt.Fprint(f, s.GoString())
	case verb == 'q':
		fmt.Fprintf(f, "%q", s.mask())
	default:
		fmt.Fprint(f, s.mask())
	}
}

// LogValue implements slog.LogValuer and returns the mask.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.mask()) }

// MarshalText implements encoding.TextMarshaler (used by encoding/json, yaml and others) and
// returns the mask, so a marshalled Config never contains the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.mask()), nil }
