package emulator

import "testing"

// FuzzParsePrivilege checks that privilege specs parse or fail cleanly, and that what parses
// prints back to itself.
func FuzzParsePrivilege(f *testing.F) {
	for _, seed := range []string{"prvReadContact", "prvReadContact:organization", "prvWriteAccount:Local", ":", "x:y:z", ""} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePrivilege(s)
		if err != nil {
			if !isInvalid(err) {
				t.Fatalf("ParsePrivilege(%q): %v is not ErrInvalid", s, err)
			}
			return
		}
		again, err := ParsePrivilege(p.String())
		if err != nil || again != p {
			t.Fatalf("ParsePrivilege(%q) = %+v, but its String %q parses to %+v, %v", s, p, p.String(), again, err)
		}
	})
}

func isInvalid(err error) bool {
	ae, ok := err.(*adminError)
	return ok && ae.kind == ErrInvalid
}
