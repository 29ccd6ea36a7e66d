package webapi

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestDeltaTokenRoundTripAndEscaping(t *testing.T) {
	tok := deltaToken{version: 919042, at: time.Date(2017, 8, 22, 8, 10, 44, 0, time.UTC)}
	// The documented link form: 919042%2108%2f22%2f2017%2008%3a10%3a44.
	if got, want := escapeDeltaToken(tok.String()), "919042%2108%2f22%2f2017%2008%3a10%3a44"; got != want {
		t.Errorf("escaped token = %q, want Microsoft's %q", got, want)
	}
	back, err := parseDeltaToken("919042!08/22/2017 08:10:44")
	if err != nil || back != tok {
		t.Errorf("parse = %+v, %v; want %+v", back, err, tok)
	}
	for _, bad := range []string{"", "!", "919042", "919042!", "x!08/22/2017 08:10:44", "-1!08/22/2017 08:10:44",
		"919042!2017-08-22", "99999999999999999999!08/22/2017 08:10:44", "+5!08/22/2017 08:10:44"} {
		if _, err := parseDeltaToken(bad); err == nil {
			t.Errorf("parseDeltaToken(%q) succeeded", bad)
		}
	}
}

func FuzzParseDeltaToken(f *testing.F) {
	f.Add("919042!08/22/2017 08:10:44")
	f.Add("0!01/01/0001 00:00:00")
	f.Add("1!13/40/2017 25:61:61")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := parseDeltaToken(s)
		if err != nil {
			if !errors.Is(err, errBadDeltaToken) {
				t.Fatalf("error %v is not errBadDeltaToken", err)
			}
			return
		}
		again, err := parseDeltaToken(tok.String())
		if err != nil || again != tok {
			t.Fatalf("%q parsed to %+v, whose text %q parses to %+v, %v", s, tok, tok.String(), again, err)
		}
		// A delta link carries the escaped token; the query parser must give it back.
		v, err := url.ParseQuery("$deltatoken=" + escapeDeltaToken(tok.String()))
		if err != nil || v.Get("$deltatoken") != tok.String() {
			t.Fatalf("escaped %q reads back as %q, %v", tok.String(), v.Get("$deltatoken"), err)
		}
	})
}

func FuzzDecodeTrackingSkipToken(f *testing.F) {
	for _, c := range []trackingCursor{
		{Phase: phaseInitial, Version: 1042, At: 1700000000, Keys: []byte(`["0190a1b2-0000-7000-8000-000000000001"]`)},
		{Phase: phaseChanged, Version: 1042, At: 1700000000, Keys: []byte(`[1040,"0190a1b2-0000-7000-8000-000000000001"]`)},
		{Phase: phaseDeleted, Version: 1042, At: 1700000000, DeletedVersion: 1041, DeletedID: "0190a1b2-0000-7000-8000-000000000001"},
	} {
		tok, err := encodeTrackingSkipToken(c, 3)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(tok)
	}
	f.Add(`<cookie pagenumber="2" pagingcookie="e30" istracking="True" />`)
	f.Fuzz(func(t *testing.T, token string) {
		c, page, err := decodeTrackingSkipToken(token)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != http.StatusBadRequest {
				t.Fatalf("error %v is not a 400", err)
			}
			return
		}
		if c.Phase != phaseDeleted {
			if _, err := c.storeCursor(); err != nil {
				return // checked against the query when it runs
			}
		}
		again, err := encodeTrackingSkipToken(c, page)
		if err != nil {
			t.Fatal(err)
		}
		c2, page2, err := decodeTrackingSkipToken(again)
		if err != nil || page2 != page || c2.Phase != c.Phase || c2.Version != c.Version || c2.DeletedID != c.DeletedID {
			t.Fatalf("re-encoded %q decodes to %+v, %d, %v; want %+v, %d", again, c2, page2, err, c, page)
		}
	})
}
