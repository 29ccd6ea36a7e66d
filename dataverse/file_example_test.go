package dataverse_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"log"
	"math/rand/v2"

	"github.com/d365s2s/d365/dataverse"
	"github.com/d365s2s/d365/emulator"
)

// Upload a 10 MB file to a file column and download it again. Both sides stream: above 4 MB the
// upload goes in Content-Range chunks and the download in Range requests, and neither holds the
// file in memory.
func ExampleClient_UploadFile() {
	sc, err := emulator.ParseScenario([]byte(filesScenario), "files.yaml") // a new_document table with a File column new_file
	if err != nil {
		log.Fatal(err)
	}
	client, stop := exampleClient(sc)
	defer stop()
	ctx := context.Background()

	doc, err := client.Create(ctx, "new_documents", map[string]any{"new_name": "Contract"}, nil)
	if err != nil {
		log.Fatal(err)
	}
	content := io.LimitReader(rand.NewChaCha8([32]byte{}), 10<<20) // any io.Reader: a file, a pipe…
	up, err := client.UploadFile(ctx, "new_documents", doc.ID, "new_file", "contract.pdf", content,
		&dataverse.FileUploadOptions{Size: 10 << 20})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("uploaded %s: %d bytes, %s\n", up.Name, up.Size, up.Mode)

	h := sha256.New() // any io.Writer: a file, an HTTP response…
	down, err := client.DownloadFile(ctx, "new_documents", doc.ID, "new_file", h, nil)
	if err != nil {
		log.Fatal(err)
	}
	same := sha256.New()
	if _, err := io.Copy(same, io.LimitReader(rand.NewChaCha8([32]byte{}), 10<<20)); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("downloaded %s: %d bytes, %s, same content: %v\n", down.Name, down.Size, down.Mode, bytes.Equal(h.Sum(nil), same.Sum(nil)))
	// Output:
	// uploaded contract.pdf: 10485760 bytes, chunked
	// downloaded contract.pdf: 10485760 bytes, chunked, same content: true
}
