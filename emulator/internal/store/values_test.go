package store

import "testing"

// decimalOne serves the exchange rate of every row given money from a table
// built once; it must give what parsing "1" gives at every scale, inside the
// table and beyond it.
func TestDecimalOneIsOneAtEachScale(t *testing.T) {
	for _, tc := range []struct {
		scale int
		want  string
	}{
		{0, "1"}, {2, "1.00"}, {4, "1.0000"}, {10, "1.0000000000"}, {12, "1.000000000000"},
	} {
		parsed, err := ParseDecimal("1", tc.scale)
		if err != nil {
			t.Fatal(err)
		}
		if got := decimalOne(tc.scale); got != parsed || got.String() != tc.want {
			t.Errorf("decimalOne(%d) = %q, want %q (ParseDecimal gives %q)", tc.scale, got, tc.want, parsed)
		}
	}
}
