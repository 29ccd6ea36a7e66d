package dataverse

import (
	"regexp"
	"testing"
)

// The regular expressions the hand-written name checks replace: each
// check must accept exactly what its expression matches.
var nameCheckReferences = []struct {
	name  string
	re    *regexp.Regexp
	check func(string) bool
}{
	{"name", regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`), isName},
	{"sort key", regexp.MustCompile(`^[A-Za-z_@][A-Za-z0-9_./@]*( (asc|desc))?$`), isSortKey},
	{"annotation", regexp.MustCompile(`^[A-Za-z0-9_.*]+$`), isAnnotationName},
}

func TestNameChecks(t *testing.T) {
	tests := []struct {
		in                      string
		name, sortKey, annotate bool
	}{
		{"", false, false, false},
		{"fullname", true, true, true},
		{"_parentcustomerid_value", true, true, true},
		{"Account_Tasks", true, true, true},
		{"x1", true, true, true},
		{"1x", false, false, true},
		{"emailaddress1 ", false, false, false},
		{"full name", false, false, false},
		{"fullname,emailaddress1", false, false, false},
		{"contacts(1)", false, false, false},
		{"naïve", false, false, false},
		{"a\x00", false, false, false},
		{"a\n", false, false, false},
		{"createdon desc", false, true, false},
		{"createdon asc", false, true, false},
		{"createdon  asc", false, false, false},
		{"createdon ASC", false, false, false},
		{"createdon descending", false, false, false},
		{" asc", false, false, false},
		{"asc", true, true, true},
		{"a asc asc", false, false, false},
		{"@odata.etag", false, true, false},
		{"primarycontactid/fullname desc", false, true, false},
		{"/fullname", false, false, false},
		{".x", false, false, true},
		{"OData.Community.Display.V1.FormattedValue", false, true, true},
		{"*", false, false, true},
		{"OData.Community.Display.V1.*", false, false, true},
		{"[", false, false, false},
		{"`", false, false, false},
		{"{", false, false, false},
		{"@", false, true, false},
	}
	for _, tt := range tests {
		if got := isName(tt.in); got != tt.name {
			t.Errorf("isName(%q) = %v, want %v", tt.in, got, tt.name)
		}
		if got := isSortKey(tt.in); got != tt.sortKey {
			t.Errorf("isSortKey(%q) = %v, want %v", tt.in, got, tt.sortKey)
		}
		if got := isAnnotationName(tt.in); got != tt.annotate {
			t.Errorf("isAnnotationName(%q) = %v, want %v", tt.in, got, tt.annotate)
		}
		for _, ref := range nameCheckReferences {
			if got, want := ref.check(tt.in), ref.re.MatchString(tt.in); got != want {
				t.Errorf("%s check of %q = %v, its regexp says %v", ref.name, tt.in, got, want)
			}
		}
	}
}

// TestNameChecksEveryByte compares the checks with their expressions on
// every single byte, and every byte in the second and last place.
func TestNameChecksEveryByte(t *testing.T) {
	for c := 0; c < 256; c++ {
		for _, s := range []string{string([]byte{byte(c)}), "a" + string([]byte{byte(c)}), "a" + string([]byte{byte(c)}) + " desc"} {
			for _, ref := range nameCheckReferences {
				if got, want := ref.check(s), ref.re.MatchString(s); got != want {
					t.Errorf("%s check of %q = %v, its regexp says %v", ref.name, s, got, want)
				}
			}
		}
	}
}

func FuzzNameChecks(f *testing.F) {
	for _, s := range []string{"fullname", "_x_value", "createdon desc", "a/b.c@d asc", "OData.*", "1", " asc", "a  desc", "é"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, ref := range nameCheckReferences {
			if got, want := ref.check(s), ref.re.MatchString(s); got != want {
				t.Errorf("%s check of %q = %v, its regexp says %v", ref.name, s, got, want)
			}
		}
	})
}

func BenchmarkNameCheck(b *testing.B) {
	re := nameCheckReferences[0].re
	b.Run("regexp", func(b *testing.B) {
		for b.Loop() {
			_ = re.MatchString("emailaddress1")
		}
	})
	b.Run("loop", func(b *testing.B) {
		for b.Loop() {
			_ = isName("emailaddress1")
		}
	})
}
