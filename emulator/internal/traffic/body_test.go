package traffic

import (
	"strings"
	"testing"
	"testing/iotest"
)

// readBody returns the body as it arrived, up to the limit, whatever the declared length and
// however the reads split it; a body declared large but short costs what arrived.
func TestReadBody(t *testing.T) {
	t.Parallel()
	big := strings.Repeat("0123456789", 30_000) // 300,000 bytes
	for _, tt := range []struct {
		name            string
		body            string
		declared, limit int64
		want            string
		maxCap          int
	}{
		{"small, declared", "hello", 5, 100, "hello", 6},
		{"small, undeclared", "hello", -1, 100, "hello", firstBodyChunk},
		{"large, declared", big, int64(len(big)), 1 << 20, big, len(big) + 1},
		{"large, undeclared", big, -1, 1 << 20, big, 4 * len(big)},
		{"over the limit", big, -1, 1000, big[:1000], 1000},
		{"over the limit, declared", big, int64(len(big)), 1000, big[:1000], 1000},
		{"declared large, six bytes sent", `{"a":1`, 32 << 20, 64 << 20, `{"a":1`, firstBodyChunk},
		{"longer than declared", "hello world", 5, 100, "hello world", 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readBody(strings.NewReader(tt.body), tt.declared, tt.limit, nil)
			if err != nil || string(got) != tt.want {
				t.Errorf("readBody = %d bytes, %v; want %d bytes", len(got), err, len(tt.want))
			}
			if cap(got) > tt.maxCap {
				t.Errorf("buffer capacity %d, want at most %d", cap(got), tt.maxCap)
			}
			got, err = readBody(iotest.OneByteReader(strings.NewReader(tt.body)), tt.declared, tt.limit, nil)
			if err != nil || string(got) != tt.want {
				t.Errorf("one byte at a time: %d bytes, %v; want %d bytes", len(got), err, len(tt.want))
			}
		})
	}
}
