package webapi

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
)

func TestParseContentRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want contentRange
		err  string
	}{
		{"bytes 0-4194303/25870370", contentRange{0, 4194303, 25870370}, ""},
		{"bytes 25165824-25870369/25870370", contentRange{25165824, 25870369, 25870370}, ""},
		{" bytes 0-0/1 ", contentRange{0, 0, 1}, ""},
		{"bytes 0-9/*", contentRange{}, `"*" is not a byte offset`},
		{"bytes=0-9/10", contentRange{}, `does not start with "bytes "`},
		{"bytes 5-4/10", contentRange{}, "first <= last < total"},
		{"bytes 0-10/10", contentRange{}, "first <= last < total"},
		{"bytes -1-4/10", contentRange{}, `"" is not a byte offset`},
		{"bytes 0-4", contentRange{}, `no "/<total>"`},
		{"bytes +0-4/10", contentRange{}, "is not a byte offset"},
		{"bytes 0-99999999999999999999/1", contentRange{}, "is not a byte offset"},
	} {
		got, err := parseContentRange(tc.in)
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("parseContentRange(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("parseContentRange(%q) error %v, want one containing %q", tc.in, err, tc.err)
		}
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in         string
		size       int64
		start, end int64
		ok         bool
		wantErr    bool
	}{
		{"bytes=0-4194303", 10, 0, 9, true, false},
		{"bytes=3-5", 10, 3, 5, true, false},
		{"bytes=7-", 10, 7, 9, true, false},
		{"bytes=-3", 10, 7, 9, true, false},
		{"bytes=-30", 10, 0, 9, true, false},
		{"bytes=10-", 10, 0, 0, false, false},
		{"bytes=-0", 10, 0, 0, false, false},
		{"bytes=5-3", 10, 0, 0, false, true},
		{"bytes=0-1,3-4", 10, 0, 0, false, true},
		{"items=0-1", 10, 0, 0, false, true},
		{"bytes=a-1", 10, 0, 0, false, true},
	} {
		start, end, ok, err := parseRange(tc.in, tc.size)
		if (err != nil) != tc.wantErr || ok != tc.ok || (ok && (start != tc.start || end != tc.end)) {
			t.Errorf("parseRange(%q, %d) = %d, %d, %v, %v", tc.in, tc.size, start, end, ok, err)
		}
	}
}

func TestCheckBlockID(t *testing.T) {
	guid := base64.StdEncoding.EncodeToString([]byte("98c88968-736f-4bb5-8279-6e678014b31d"))
	for _, tc := range []struct {
		id string
		ok bool
	}{
		{guid, true},
		{"OThjODg5NjgtNzM2Zi00YmI1LTgyNzktNmU2NzgwMTRiMzFk", true},
		{base64.StdEncoding.EncodeToString(make([]byte, 64)), true},
		{base64.StdEncoding.EncodeToString(make([]byte, 65)), false},
		{"", false},
		{"not base64!", false},
		{base64.URLEncoding.EncodeToString([]byte{0xfb, 0xff}), false},
	} {
		if err := checkBlockID(tc.id); (err == nil) != tc.ok {
			t.Errorf("checkBlockID(%q) = %v, want ok %v", tc.id, err, tc.ok)
		}
	}
}

// FuzzParseContentRange: whatever the header, the parser never panics, and an accepted range
// lies within its total and prints back to itself.
func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-4194303/25870370", "bytes 0-0/1", "bytes 5-4/10", "bytes */10", "bytes 0-9/*", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cr, err := parseContentRange(s)
		if err != nil {
			return
		}
		if cr.start < 0 || cr.end < cr.start || cr.end >= cr.total {
			t.Fatalf("parseContentRange(%q) accepted %+v", s, cr)
		}
		again, err := parseContentRange(fmt.Sprintf("bytes %d-%d/%d", cr.start, cr.end, cr.total))
		if err != nil || again != cr {
			t.Fatalf("parseContentRange(%q) = %+v does not round-trip: %+v, %v", s, cr, again, err)
		}
	})
}

// FuzzParseRange: an accepted range is a non-empty span inside the file.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-99", "bytes=-5", "bytes=7-", "bytes=5-3", "bytes=0-1,2-3", "bytes="} {
		f.Add(s, int64(100))
	}
	f.Fuzz(func(t *testing.T, s string, size int64) {
		if size < 0 {
			size = -size
		}
		start, end, ok, err := parseRange(s, size)
		if err != nil || !ok {
			return
		}
		if start < 0 || end < start || end >= size {
			t.Fatalf("parseRange(%q, %d) = %d-%d", s, size, start, end)
		}
	})
}

// FuzzCheckBlockID: an accepted block id is standard base64 of 1 to 64 bytes.
func FuzzCheckBlockID(f *testing.F) {
	for _, s := range []string{"OThjODg5NjgtNzM2Zi00YmI1LTgyNzktNmU2NzgwMTRiMzFk", "", "AA==", "A", "-_8="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		if checkBlockID(id) != nil {
			return
		}
		raw, err := base64.StdEncoding.DecodeString(id)
		if err != nil || len(raw) == 0 || len(raw) > maxBlockIDBytes {
			t.Fatalf("checkBlockID accepted %q (%d bytes, %v)", id, len(raw), err)
		}
	})
}
