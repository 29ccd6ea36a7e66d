package httpheader

import (
	"math"
	"net/http"
	"strings"
	"time"
)

// RetryAfter reads a Retry-After header value as RFC 9110 §10.2.3 defines it, relative to
// now: delay-seconds ("120") or an HTTP-date in any of the three forms a recipient must accept
// (IMF-fixdate, RFC 850, asctime). It also accepts a decimal fraction of seconds ("1.5"), which
// some gateways send. Surrounding white space is ignored.
//
// It returns 0 for an empty, malformed, zero or past value. A date's delay is rounded up to a
// whole second (the date's own precision), so the wait never ends before the date. A delay too
// large for a time.Duration becomes the largest one, so that a caller bounding its waits gives
// up instead of retrying at once.
func RetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if d, ok := parseDelaySeconds(v); ok {
		return d
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return 0
	}
	d := t.Sub(now) // saturates at the largest Duration
	switch {
	case d <= 0:
		return 0
	case d > math.MaxInt64-time.Second:
		return math.MaxInt64
	}
	if r := d % time.Second; r != 0 {
		d += time.Second - r
	}
	return d
}

// parseDelaySeconds reads 1*DIGIT [ "." 1*DIGIT ]; ok is false for anything else (signs,
// exponents, "Inf", a bare ".5").
func parseDelaySeconds(v string) (d time.Duration, ok bool) {
	whole, frac, hasDot := strings.Cut(v, ".")
	if !allDigits(whole) || (hasDot && !allDigits(frac)) {
		return 0, false
	}
	const maxSeconds = math.MaxInt64 / int64(time.Second)
	var secs int64
	for i := 0; i < len(whole); i++ {
		secs = secs*10 + int64(whole[i]-'0')
		if secs > maxSeconds {
			return math.MaxInt64, true
		}
	}
	var nanos int64
	scale := int64(time.Second)
	for i := 0; i < len(frac) && scale > 1; i++ {
		scale /= 10
		nanos += int64(frac[i]-'0') * scale
	}
	if secs == maxSeconds && nanos > math.MaxInt64%int64(time.Second) {
		return math.MaxInt64, true
	}
	return time.Duration(secs)*time.Second + time.Duration(nanos), true
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
