// Command fixture-images builds container images from rootfs trees the project
// owns and serves them to Trivy from a registry on loopback. Nothing is pulled.
//
//	fixture-images build -spec test/fixtures/e2e/images.json -out .tools/e2e/images [-var goapp=PATH]
//	    writes one OCI image layout holding every image of the spec, each
//	    annotated with its reference (org.opencontainers.image.ref.name); an
//	    image has one layer, or several ("layers"), which may hold seeded random
//	    content so that images share base layers of a realistic size
//	fixture-images serve -layout .tools/e2e/images [-addr 127.0.0.1:0]
//	    starts an in-memory registry, pushes every image of the layout into it,
//	    prints "registry 127.0.0.1:PORT" on stdout and serves until stdin closes
//	    or it receives SIGINT/SIGTERM
//
// The images are reproducible: file times are fixed, so digests depend only on content.
package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

const refAnnotation = "org.opencontainers.image.ref.name"

// fixedTime is every file's and image's time, so rebuilding yields the same digests.
var fixedTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// layerSpec is one layer: files from a rootfs tree, single files, and random content.
type layerSpec struct {
	// A directory, relative to the spec file (or absolute), copied as the layer's root.
	Rootfs string `json:"rootfs,omitempty"`
	// Extra files: path in the image to a source path; "{name}" is replaced by -var name=value.
	Files map[string]string `json:"files,omitempty"`
	// Executable paths in the layer (mode 0755); other files are 0644.
	Executables []string `json:"executables,omitempty"`
	// Incompressible bytes in one file, the same for the same seed: a layer the size of a real
	// one, which layers of other images can share by using the same seed.
	Random *randomSpec `json:"random,omitempty"`
}

type randomSpec struct {
	Bytes int64  `json:"bytes"`
	Seed  string `json:"seed"`
}

// imageSpec is one image of test/fixtures/e2e/images.json: one layer given inline, or several.
type imageSpec struct {
	// Repository and tag, without a registry host: e2e/alpine-vulnerable:1.0.
	Ref string `json:"ref"`
	layerSpec
	// Layers in order, base first; layers with the same content are the same blob in every image.
	Layers []layerSpec `json:"layers,omitempty"`
}

type entry struct {
	name string
	data []byte
	mode int64
}

// randomBytes is a deterministic stream from the seed (ChaCha8), as incompressible as real binaries.
func randomBytes(r randomSpec) []byte {
	key := sha256.Sum256([]byte(r.Seed))
	data := make([]byte, r.Bytes)
	_, _ = rand.NewChaCha8(key).Read(data)
	return data
}

func collect(spec layerSpec, ref, specDir string, vars map[string]string) ([]entry, error) {
	files := map[string]entry{}
	if spec.Rootfs != "" {
		root := spec.Rootfs
		if !filepath.IsAbs(root) {
			root = filepath.Join(specDir, root)
		}
		err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			if !d.Type().IsRegular() {
				return fmt.Errorf("%s: only regular files are supported", p)
			}
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			files[filepath.ToSlash(rel)] = entry{name: filepath.ToSlash(rel), data: data, mode: 0o644}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	for dest, src := range spec.Files {
		for k, v := range vars {
			src = strings.ReplaceAll(src, "{"+k+"}", v)
		}
		if strings.Contains(src, "{") {
			return nil, fmt.Errorf("%s: file %s comes from %s: pass the missing -var", ref, dest, src)
		}
		if !filepath.IsAbs(src) {
			src = filepath.Join(specDir, src)
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return nil, err
		}
		dest = strings.TrimPrefix(dest, "/")
		files[dest] = entry{name: dest, data: data, mode: 0o644}
	}
	for _, exe := range spec.Executables {
		exe = strings.TrimPrefix(exe, "/")
		e, ok := files[exe]
		if !ok {
			return nil, fmt.Errorf("%s: executable %s is not in the image", ref, exe)
		}
		e.mode = 0o755
		files[exe] = e
	}
	if spec.Random != nil {
		if spec.Random.Bytes <= 0 || spec.Random.Seed == "" {
			return nil, fmt.Errorf("%s: a random layer needs bytes > 0 and a seed", ref)
		}
		name := "var/lib/fixture/" + hex.EncodeToString([]byte(spec.Random.Seed)) + ".bin"
		files[name] = entry{name: name, data: randomBytes(*spec.Random), mode: 0o644}
	}
	out := make([]entry, 0, len(files))
	for _, e := range files {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out, nil
}

// layerTar writes the files with their parent directories, in a fixed order.
func layerTar(files []entry) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	for _, f := range files {
		var parents []string
		for d := path.Dir(f.name); d != "." && !dirs[d]; d = path.Dir(d) {
			parents = append([]string{d}, parents...)
			dirs[d] = true
		}
		for _, d := range parents {
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d + "/", Mode: 0o755, ModTime: fixedTime, Format: tar.FormatPAX}); err != nil {
				return nil, err
			}
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: f.mode, Size: int64(len(f.data)), ModTime: fixedTime, Format: tar.FormatPAX}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func buildLayer(spec layerSpec, ref, specDir string, vars map[string]string) (v1.Layer, error) {
	files, err := collect(spec, ref, specDir, vars)
	if err != nil {
		return nil, err
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s: a layer has no files", ref)
	}
	data, err := layerTar(files)
	if err != nil {
		return nil, err
	}
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }, tarball.WithMediaType(types.OCILayer))
}

func buildImage(spec imageSpec, specDir string, vars map[string]string) (v1.Image, error) {
	layers := spec.Layers
	if len(layers) == 0 {
		layers = []layerSpec{spec.layerSpec}
	} else if spec.Rootfs != "" || len(spec.Files) > 0 || spec.Random != nil {
		return nil, fmt.Errorf("%s: give the files inline or as layers, not both", spec.Ref)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.ConfigFile(base, &v1.ConfigFile{
		Architecture: "amd64",
		OS:           "linux",
		Created:      v1.Time{Time: fixedTime},
		Config:       v1.Config{Labels: map[string]string{"org.opencontainers.image.source": "image-scanning end-to-end fixture"}},
	})
	if err != nil {
		return nil, err
	}
	for i, layerSpec := range layers {
		layer, err := buildLayer(layerSpec, spec.Ref, specDir, vars)
		if err != nil {
			return nil, err
		}
		createdBy := "fixture-images " + spec.Ref
		if len(layers) > 1 {
			createdBy = fmt.Sprintf("%s layer %d", createdBy, i+1)
		}
		img, err = mutate.Append(img, mutate.Addendum{Layer: layer, History: v1.History{Created: v1.Time{Time: fixedTime}, CreatedBy: createdBy}})
		if err != nil {
			return nil, err
		}
	}
	return mutate.CreatedAt(img, v1.Time{Time: fixedTime})
}

type varFlags map[string]string

func (v varFlags) String() string { return fmt.Sprint(map[string]string(v)) }
func (v varFlags) Set(s string) error {
	k, val, ok := strings.Cut(s, "=")
	if !ok {
		return errors.New("want name=value")
	}
	v[k] = val
	return nil
}

func build(args []string) error {
	fset := flag.NewFlagSet("build", flag.ExitOnError)
	specPath := fset.String("spec", "", "image spec (JSON)")
	out := fset.String("out", "", "OCI image layout directory to (re)create")
	vars := varFlags{}
	fset.Var(vars, "var", "name=value substituted for {name} in file sources (repeatable)")
	_ = fset.Parse(args)
	if *specPath == "" || *out == "" {
		fset.Usage()
		os.Exit(2)
	}
	raw, err := os.ReadFile(*specPath)
	if err != nil {
		return err
	}
	var specs []imageSpec
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&specs); err != nil {
		return fmt.Errorf("%s: %w", *specPath, err)
	}
	if err := os.RemoveAll(*out); err != nil {
		return err
	}
	p, err := layout.Write(*out, empty.Index)
	if err != nil {
		return err
	}
	for _, spec := range specs {
		if _, err := name.ParseReference(spec.Ref); err != nil {
			return fmt.Errorf("%s: %w", spec.Ref, err)
		}
		img, err := buildImage(spec, filepath.Dir(*specPath), vars)
		if err != nil {
			return err
		}
		if err := p.AppendImage(img, layout.WithAnnotations(map[string]string{refAnnotation: spec.Ref})); err != nil {
			return err
		}
		digest, err := img.Digest()
		if err != nil {
			return err
		}
		fmt.Printf("%s %s\n", spec.Ref, digest)
	}
	return nil
}

func serve(args []string) error {
	fset := flag.NewFlagSet("serve", flag.ExitOnError)
	layoutDir := fset.String("layout", "", "OCI image layout written by build")
	addr := fset.String("addr", "127.0.0.1:0", "loopback address to listen on (port 0: any free port)")
	_ = fset.Parse(args)
	if *layoutDir == "" {
		fset.Usage()
		os.Exit(2)
	}
	idx, err := layout.ImageIndexFromPath(*layoutDir)
	if err != nil {
		return err
	}
	manifest, err := idx.IndexManifest()
	if err != nil {
		return err
	}
	listener, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	host := listener.Addr().String()
	server := &http.Server{Handler: registry.New(registry.Logger(log.New(io.Discard, "", 0))), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = server.Serve(listener) }()

	for _, desc := range manifest.Manifests {
		ref := desc.Annotations[refAnnotation]
		if ref == "" {
			continue
		}
		img, err := idx.Image(desc.Digest)
		if err != nil {
			return err
		}
		target, err := name.ParseReference(host + "/" + ref)
		if err != nil {
			return err
		}
		if err := remote.Write(target, img); err != nil {
			return fmt.Errorf("push %s: %w", target, err)
		}
	}
	fmt.Printf("registry %s\n", host)

	done := make(chan struct{})
	go func() {
		// The parent holds our stdin: when it goes away, so does the registry.
		_, _ = io.Copy(io.Discard, bufio.NewReader(os.Stdin))
		close(done)
	}()
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	select {
	case <-done:
	case <-signals:
	}
	return server.Close()
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: fixture-images build|serve [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "build":
		err = build(os.Args[2:])
	case "serve":
		err = serve(os.Args[2:])
	default:
		fmt.Fprintf(os.Stderr, "fixture-images: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "fixture-images:", err)
		os.Exit(1)
	}
}
