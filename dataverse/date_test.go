package dataverse

import (
	"encoding/json"
	"errors"
	"testing"
	"time"
)

func TestDateJSON(t *testing.T) {
	t.Parallel()
	b, err := json.Marshal(Record{"birthdate": Date{2024, time.January, 31}})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"birthdate":"2024-01-31"}`; got != want {
		t.Errorf("json.Marshal = %s, want %s", got, want)
	}
	var s struct {
		Birth   Date  `json:"birthdate"`
		Missing *Date `json:"anniversary"`
	}
	if err := json.Unmarshal([]byte(`{"birthdate":"1815-12-10","anniversary":null}`), &s); err != nil {
		t.Fatal(err)
	}
	if s.Birth != (Date{1815, time.December, 10}) || s.Missing != nil {
		t.Errorf("decoded %+v", s)
	}
}

func TestDateUnmarshalText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want Date
		ok   bool
	}{
		{"2024-02-29", Date{2024, time.February, 29}, true},
		{"0001-01-01", Date{1, time.January, 1}, true},
		{"2024-01-31T00:00:00Z", Date{2024, time.January, 31}, true},
		{"2024-01-31T23:30:00-05:00", Date{2024, time.January, 31}, true}, // the day as written
		{"2023-02-29", Date{}, false},
		{"2024-1-31", Date{}, false},
		{"31/01/2024", Date{}, false},
		{"", Date{}, false},
	}
	for _, tt := range tests {
		var d Date
		err := d.UnmarshalText([]byte(tt.in))
		if tt.ok && (err != nil || d != tt.want) {
			t.Errorf("UnmarshalText(%q) = %v, %v; want %v", tt.in, d, err, tt.want)
		}
		if !tt.ok && !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("UnmarshalText(%q) = %v, %v; want an ErrInvalidArgument", tt.in, d, err)
		}
	}
}

func TestDateMarshalTextRefusesImpossibleDays(t *testing.T) {
	t.Parallel()
	for _, d := range []Date{{}, {2024, 13, 1}, {2023, time.February, 29}, {10000, time.January, 1}} {
		if _, err := json.Marshal(Record{"birthdate": d}); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("json.Marshal(%v) error = %v, want an ErrInvalidArgument", d, err)
		}
	}
}
