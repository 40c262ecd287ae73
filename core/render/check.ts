/** `check IMAGE` for a person at a terminal: one line per CVE with its status and what people wrote. */
import type { ImageCheck } from '../image-check.js';

/** Notes are people's free text: no control characters reach the terminal (no escape sequences). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const plain = (text: string) => text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ').trim();

export function renderImageCheck(check: ImageCheck): string {
  const lines: string[] = [];
  const where = check.releases.length ? `the newest reports of ${check.releases.map(plain).join(', ')}` : 'no stored report (every CVE is new)';
  if (check.failure) return `${plain(check.image)}: the scan failed: ${plain(check.failure)}\n`;
  const count = (status: string) => check.cves.filter((c) => c.status === status).length;
  lines.push(`${plain(check.image)} scanned now (${check.outcome}), against ${where}: ${count('still present')} still present, ${count('fixed')} fixed, ${count('new')} new.`);
  const width = Math.max(0, ...check.cves.map((c) => c.vulnerabilityId.length));
  for (const c of check.cves) {
    const fixed = c.fixedVersion ? ` (fixed in ${plain(c.fixedVersion)})` : '';
    const ignored = c.status !== 'fixed' && c.ignored ? (c.vex ? ' [ignored: VEX]' : ' [ignored in every release]') : '';
    const triage = c.triage.map((t) => `${plain(t.release)}: ${plain(t.state) || 'triaged'}${t.notes ? ` "${plain(t.notes)}"` : ''}`).join('; ');
    lines.push(`  ${c.status.padEnd(13)} ${c.severity.padEnd(8)} ${plain(c.vulnerabilityId).padEnd(width)} ${plain(c.packageName)} ${plain(c.installedVersion)}${fixed}${ignored}${triage ? ` | ${triage}` : ''}`);
  }
  lines.push(check.remaining === 0 ? 'No CVE remains that is not ignored.' : `${check.remaining} CVE${check.remaining === 1 ? '' : 's'} remain${check.remaining === 1 ? 's' : ''} that ${check.remaining === 1 ? 'is' : 'are'} not ignored.`);
  return `${lines.join('\n')}\n`;
}
