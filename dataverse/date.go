package dataverse

import (
	"time"
)

// MarshalText writes the date as YYYY-MM-DD, the JSON form of a date-only column (birthdate,
// anniversary) in a create or update body, so a Record or struct holding a Date is sent as
// "2024-01-31" rather than as an object. A date that is not a real calendar day of the years 1 to
// 9999 is refused, as in FormatLiteral.
func (d Date) MarshalText() ([]byte, error) {
	if err := checkDate(d); err != nil {
		return nil, err
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads YYYY-MM-DD, as Dataverse returns date-only columns, or an RFC 3339 time
// (how it returns a date shown as date-only but stored as a time), taking the calendar day as
// written, in the time's own offset.
func (d *Date) UnmarshalText(b []byte) error {
	s := string(b)
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		*d = DateOf(t)
		return nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		*d = DateOf(t)
		return nil
	}
	return invalidf("dataverse: %q is not a date: want YYYY-MM-DD (2024-01-31) or an RFC 3339 time", s)
}
