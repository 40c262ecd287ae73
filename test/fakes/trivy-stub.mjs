#!/usr/bin/env node
// Stands in for the Trivy CLI in tests. It replays Trivy-format reports and
// Trivy-like failures per image, as told by $TRIVY_STUB_DIR/scenarios.json:
//   { "<image>" | "default": {
//       "report": "<file>",            replay a Trivy JSON report (ArtifactName rewritten)
//       "synthetic": <n>,              a Debian report with n findings derived from the image name
//       "fail": "<stderr>", "times": k, exit 1 with that stderr (the first k calls; all when k is absent)
//       "hang": true,                  never finish (until killed)
//       "stdout": "<text>",            print this instead of a report and exit 0
//       "delayMs": n,                  wait before answering
//       "waitFor": "<file>"            block until this file exists in $TRIVY_STUB_DIR
//   } }
// Every call is appended to $TRIVY_STUB_DIR/calls.log as "<kind> <pid> <image>".
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';

const dir = process.env.TRIVY_STUB_DIR;
if (!dir) {
  process.stderr.write('trivy-stub: TRIVY_STUB_DIR is not set\n');
  process.exit(2);
}
const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const log = (kind, image) => {
  appendFileSync(join(dir, 'calls.log'), `${kind} ${process.pid} ${image} ${args.join(' ')}\n`);
  // The layer cache comes in the environment, never on the command line: record what it was.
  appendFileSync(join(dir, 'cache-backends.log'), `${process.env.TRIVY_CACHE_BACKEND ?? '(unset)'}\n`);
  appendFileSync(join(dir, 'go-gc.log'), `${process.env.GOGC ?? '(unset)'} ${process.env.GOMEMLIMIT ?? '(unset)'}\n`);
};

if (args.includes('--download-db-only') || args.includes('--download-java-db-only')) {
  log(args.includes('--download-java-db-only') ? 'javadb' : 'db', '-');
  process.exit(0);
}
if (args[0] === 'vex' && args[1] === 'repo' && args[2] === 'download') {
  log('vexrepo', '-');
  // Offline, as this machine is: the download fails when the test says so.
  if (existsSync(join(dir, 'vex-offline'))) {
    process.stderr.write('FATAL\tfailed to download vex repositories: dial tcp: lookup github.com: no such host\n');
    process.exit(1);
  }
  process.exit(0);
}
// `convert` writes a minimal CycloneDX document naming this Trivy ($TRIVY_STUB_VERSION, default 0.74.0).
if (args[0] === 'convert') {
  log('convert', args.at(-1));
  const bom = { bomFormat: 'CycloneDX', specVersion: '1.6', metadata: { tools: { components: [{ type: 'application', name: 'trivy', version: process.env.TRIVY_STUB_VERSION ?? '0.74.0' }] } }, components: [] };
  writeFileSync(flag('--output'), JSON.stringify(bom));
  process.exit(0);
}
if (args[0] !== 'image' && args[0] !== 'sbom') {
  process.stderr.write(`trivy-stub: unsupported command ${args.join(' ')}\n`);
  process.exit(2);
}
let image = args.at(-1);
log(args[0] === 'sbom' ? 'sbom' : 'scan', image);
const scenarios = existsSync(join(dir, 'scenarios.json')) ? JSON.parse(readFileSync(join(dir, 'scenarios.json'), 'utf8')) : {};
// `sbom` answers scenarios.sbom: { "sameAs": "<image>" } replays that image's report (the SBOM reproduces
// the scan); any other scenario (e.g. { "synthetic": 0 }) answers as it says.
let scenario = scenarios[image] ?? scenarios.default ?? { synthetic: 1 };
if (args[0] === 'sbom') {
  scenario = scenarios.sbom ?? { synthetic: 0 };
  if (scenario.sameAs) {
    image = scenario.sameAs;
    scenario = scenarios[image] ?? scenarios.default ?? { synthetic: 1 };
  }
}

if (scenario.waitFor) while (!existsSync(join(dir, scenario.waitFor))) await sleep(50);
if (scenario.delayMs) await sleep(scenario.delayMs);
if (scenario.hang) {
  setInterval(() => {}, 1 << 30);
  await new Promise(() => {});
}
if (scenario.fail !== undefined) {
  const counter = join(dir, `failures-${createHash('sha1').update(image).digest('hex')}`);
  const failed = existsSync(counter) ? Number(readFileSync(counter, 'utf8')) : 0;
  if (scenario.times === undefined || failed < scenario.times) {
    writeFileSync(counter, String(failed + 1));
    process.stderr.write(`${scenario.fail}\n`);
    process.exit(1);
  }
}

function synthetic(n) {
  const hash = createHash('sha1').update(image).digest('hex');
  const severities = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'UNKNOWN'];
  return {
    SchemaVersion: 2,
    ArtifactName: image,
    ArtifactType: 'container_image',
    Metadata: { OS: { Family: 'debian', Name: '12.5' } },
    Results: [
      {
        Target: `${image} (debian 12.5)`,
        Class: 'os-pkgs',
        Type: 'debian',
        Vulnerabilities: Array.from({ length: n }, (_, i) => ({
          VulnerabilityID: `CVE-2024-${parseInt(hash.slice(0, 4), 16)}${i}`,
          PkgName: `pkg-${hash.slice(0, 6)}`,
          InstalledVersion: '1.0.0',
          FixedVersion: i % 2 === 0 ? '1.0.1' : '',
          Status: i % 2 === 0 ? 'fixed' : 'affected',
          Severity: severities[i % severities.length],
          Title: `synthetic finding ${i} of ${image}`,
          PrimaryURL: `https://avd.aquasec.com/nvd/cve-2024-${parseInt(hash.slice(0, 4), 16)}${i}`,
        })),
      },
    ],
  };
}

let output;
if (scenario.stdout !== undefined) output = scenario.stdout;
else if (scenario.report) {
  const report = JSON.parse(readFileSync(scenario.report, 'utf8'));
  report.ArtifactName = image;
  output = JSON.stringify(report, null, 2);
} else output = JSON.stringify(synthetic(scenario.synthetic ?? 1), null, 2);

const out = flag('--output');
if (out) writeFileSync(out, output);
else process.stdout.write(output);
process.exit(0);
