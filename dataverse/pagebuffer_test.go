package dataverse

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// TestPageBufferRead: a body is read whole whatever the reader's pieces; one that fits the
// buffer reuses its storage, one that outgrows it lands in one allocation of its size plus an
// eighth; an error leaves no half body behind.
func TestPageBufferRead(t *testing.T) {
	body := func(n int) []byte { return bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n] }
	readers := map[string]func([]byte) io.Reader{
		"whole":      func(b []byte) io.Reader { return bytes.NewReader(b) },
		"one byte":   func(b []byte) io.Reader { return iotest.OneByteReader(bytes.NewReader(b)) },
		"halves":     func(b []byte) io.Reader { return iotest.HalfReader(bytes.NewReader(b)) },
		"EOF inline": func(b []byte) io.Reader { return iotest.DataErrReader(bytes.NewReader(b)) },
	}
	cases := []struct {
		name       string
		storage    int // the buffer's capacity before the read
		size, hint int
		reused     bool // read into the existing storage
		wantCap    int  // 0: not checked
	}{
		{name: "empty body", storage: 0, size: 0, reused: true},
		{name: "fits", storage: 4096, size: 1000, reused: true},
		{name: "exactly the storage", storage: 1000, size: 1000, reused: true},
		{name: "first page, no storage", storage: 0, size: 3*pageChunk + 123, wantCap: (3*pageChunk + 123) * 9 / 8},
		{name: "outgrows the storage", storage: 1000, size: 5000, wantCap: 5000 + 5000/8},
		{name: "announced length", storage: 0, size: 5000, hint: 5000, wantCap: 5001},
		{name: "announced length within the storage", storage: 8000, size: 5000, hint: 5000, reused: true},
	}
	for rname, reader := range readers {
		for _, tc := range cases {
			if rname == "one byte" && tc.size > 100000 {
				continue // correct, only slow
			}
			t.Run(rname+"/"+tc.name, func(t *testing.T) {
				p := &pageBuffer{b: make([]byte, 0, tc.storage)}
				storage := p.b[:cap(p.b)]
				want := body(tc.size)
				if err := p.read(reader(want), int64(tc.hint)); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(p.bytes(), want) {
					t.Fatalf("read %d bytes, want the %d of the body", len(p.bytes()), len(want))
				}
				if reused := cap(storage) > 0 && len(p.b) > 0 && &p.b[:1][0] == &storage[0]; tc.reused && tc.size > 0 && !reused {
					t.Error("the body did not reuse the buffer's storage")
				}
				if tc.wantCap != 0 && cap(p.b) != tc.wantCap {
					t.Errorf("capacity %d, want %d", cap(p.b), tc.wantCap)
				}
			})
		}
	}
	t.Run("error", func(t *testing.T) {
		boom := errors.New("connection reset")
		for _, storage := range []int{0, 10, 1 << 20} {
			p := &pageBuffer{b: make([]byte, 0, storage)}
			r := io.MultiReader(strings.NewReader(strings.Repeat("x", 100)), iotest.ErrReader(boom))
			if err := p.read(r, 0); !errors.Is(err, boom) {
				t.Fatalf("storage %d: error %v, want %v", storage, err, boom)
			}
			if len(p.bytes()) != 0 {
				t.Errorf("storage %d: %d bytes kept after the error", storage, len(p.bytes()))
			}
		}
	})
}
