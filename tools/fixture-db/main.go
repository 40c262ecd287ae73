// Command fixture-db writes a Trivy vulnerability database (trivy-db schema 2,
// a BoltDB plus metadata.json) and an empty Java DB from the advisory data the
// project owns, so that `trivy image --skip-db-update` scans against them.
//
//	fixture-db -advisories test/fixtures/e2e/advisories.json -cache-dir .tools/e2e/trivy-cache
//
// Layout written under the cache dir (what Trivy reads):
//
//	db/trivy.db          buckets: "<platform or ecosystem::source>" / <package> / <vuln id> = advisory,
//	                     "vulnerability" / <vuln id> = details, "data-source" / <bucket> = source
//	db/metadata.json     Version 2, NextUpdate far in the future, DownloadedAt set
//	java-db/trivy-java.db + metadata.json   an empty index, so no Java DB download is attempted
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"time"

	trivydb "github.com/aquasecurity/trivy-db/pkg/db"
	"github.com/aquasecurity/trivy-db/pkg/metadata"
	"github.com/aquasecurity/trivy-db/pkg/types"
	javadb "github.com/aquasecurity/trivy-java-db/pkg/db"
	bolt "go.etcd.io/bbolt"
	_ "modernc.org/sqlite" // the Java DB is SQLite; trivy-java-db expects the driver registered
)

// fixture is the project's own advisory format (test/fixtures/e2e/advisories.json).
type fixture struct {
	// Bucket name ("alpine 3.19", "debian 12", "go::GitHub Security Advisory Go") to its data source.
	DataSources map[string]types.DataSource `json:"dataSources"`
	// Bucket name to package name to vulnerability id to advisory.
	Advisories map[string]map[string]map[string]json.RawMessage `json:"advisories"`
	// Vulnerability id to details (title, severity, references).
	Vulnerabilities map[string]json.RawMessage `json:"vulnerabilities"`
}

func strict(raw []byte, into any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(into)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func load(path string) (fixture, error) {
	var f fixture
	raw, err := os.ReadFile(path)
	if err != nil {
		return f, err
	}
	if err := strict(raw, &f); err != nil {
		return f, fmt.Errorf("%s: %w", path, err)
	}
	for bucket := range f.Advisories {
		if _, ok := f.DataSources[bucket]; !ok {
			return f, fmt.Errorf("%s: bucket %q has advisories but no entry in dataSources", path, bucket)
		}
	}
	return f, nil
}

func writeTrivyDB(f fixture, dbDir string, now time.Time) (int, error) {
	if err := os.RemoveAll(dbDir); err != nil {
		return 0, err
	}
	if err := trivydb.Init(dbDir); err != nil {
		return 0, err
	}
	defer trivydb.Close()
	dbc := trivydb.Config{}
	count := 0
	err := dbc.Connection().Update(func(tx *bolt.Tx) error {
		for _, bucket := range sortedKeys(f.DataSources) {
			if err := dbc.PutDataSource(tx, bucket, f.DataSources[bucket]); err != nil {
				return err
			}
		}
		for _, bucket := range sortedKeys(f.Advisories) {
			for _, pkg := range sortedKeys(f.Advisories[bucket]) {
				for _, id := range sortedKeys(f.Advisories[bucket][pkg]) {
					var adv types.Advisory
					if err := strict(f.Advisories[bucket][pkg][id], &adv); err != nil {
						return fmt.Errorf("advisory %s/%s/%s: %w", bucket, pkg, id, err)
					}
					if _, ok := f.Vulnerabilities[id]; !ok {
						return fmt.Errorf("advisory %s/%s/%s: no entry in vulnerabilities", bucket, pkg, id)
					}
					if err := dbc.PutAdvisory(tx, []string{bucket, pkg}, id, adv); err != nil {
						return err
					}
					count++
				}
			}
		}
		for _, id := range sortedKeys(f.Vulnerabilities) {
			var vuln types.Vulnerability
			if err := strict(f.Vulnerabilities[id], &vuln); err != nil {
				return fmt.Errorf("vulnerability %s: %w", id, err)
			}
			if err := dbc.PutVulnerability(tx, id, vuln); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// DownloadedAt must be set: Trivy re-downloads a DB whose DownloadedAt is zero unless told to skip.
	meta := metadata.Metadata{
		Version:      trivydb.SchemaVersion,
		NextUpdate:   now.AddDate(100, 0, 0),
		UpdatedAt:    now,
		DownloadedAt: now,
	}
	return count, metadata.NewClient(dbDir).Update(meta)
}

func writeJavaDB(dir string, now time.Time) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	jdb, err := javadb.New(dir)
	if err != nil {
		return err
	}
	if err := jdb.Init(); err != nil {
		return err
	}
	if err := jdb.Close(); err != nil {
		return err
	}
	meta := javadb.Metadata{Version: javadb.SchemaVersion, NextUpdate: now.AddDate(100, 0, 0), UpdatedAt: now, DownloadedAt: now}
	client := javadb.NewMetadata(dir)
	return client.Update(meta)
}

func main() {
	advisories := flag.String("advisories", "", "the project's advisory fixture (JSON)")
	cacheDir := flag.String("cache-dir", "", "Trivy cache dir to write db/ and java-db/ into")
	flag.Parse()
	if *advisories == "" || *cacheDir == "" {
		flag.Usage()
		os.Exit(2)
	}
	f, err := load(*advisories)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fixture-db:", err)
		os.Exit(1)
	}
	now := time.Now().UTC().Truncate(time.Second)
	n, err := writeTrivyDB(f, filepath.Join(*cacheDir, "db"), now)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fixture-db: trivy db:", err)
		os.Exit(1)
	}
	if err := writeJavaDB(filepath.Join(*cacheDir, "java-db"), now); err != nil {
		fmt.Fprintln(os.Stderr, "fixture-db: java db:", err)
		os.Exit(1)
	}
	fmt.Printf("fixture-db: %d advisories, %d vulnerabilities, %d data sources into %s\n", n, len(f.Vulnerabilities), len(f.DataSources), *cacheDir)
}
