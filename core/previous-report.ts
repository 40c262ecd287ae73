import { parseImageRef } from './image-ref.js';
import { DEFAULT_STATE } from './triage-state.js';

/** What a person wrote on a previous row: kept whole, whatever else is dropped. */
export interface WrittenTriage {
  state: string;
  notes: string;
  firstSeen: string;
  /** The `ignore_expires` cell; '' when blank or absent (legacy reports). */
  ignoreExpires: string;
}

/** One previous (image, package, vulnerability) as the merge needs it. */
export interface PreviousMatch extends WrittenTriage {
  /** The image of the previous row the triage came from (differs from the new image after a tag bump). */
  image: string;
}

/**
 * A row nobody wrote on is stored as a small integer: its first_seen date's index times two,
 * plus one once a new finding matched it. A row with a person's words is an object. At
 * 200,000 rows this is what keeps the merge's memory growing with what people wrote, not
 * with the number of findings.
 */
interface WrittenEntry extends WrittenTriage {
  matched: boolean;
}
type Entry = number | WrittenEntry;

const keyOf = (packageName: string, vulnerabilityId: string) => `${packageName}\u0000${vulnerabilityId}`;

function repositoryOf(image: string): string | undefined {
  try {
    const ref = parseImageRef(image);
    return `${ref.registry}/${ref.repository}`;
  } catch {
    return undefined;
  }
}

/** A row counts as written on when it says more than a new finding would: a state of its own, notes or an end date. */
function isWritten(state: string, notes: string, ignoreExpires: string): boolean {
  return notes !== '' || ignoreExpires !== '' || (state !== '' && state !== DEFAULT_STATE);
}

/**
 * The previous report, reduced to what the merge reads: per (image, package, vulnerability)
 * its first_seen and, where a person wrote something, their state and notes. Rows are added
 * one at a time as the CSV is parsed; the file's text and cells are never held.
 */
export class PreviousReport {
  private readonly byImage = new Map<string, Map<string, Entry>>();
  /** Repository → previous images of it, in the order they first appear (the tag-bump lookup's order). */
  private readonly imagesByRepository = new Map<string, string[]>();
  private readonly dates: string[] = [];
  private readonly dateIndex = new Map<string, number>();

  /** Adds a row; when a key repeats, the row that carries a person's notes wins. */
  add(image: string, packageName: string, vulnerabilityId: string, state: string, notes: string, firstSeen: string, ignoreExpires = ''): void {
    let rows = this.byImage.get(image);
    if (!rows) {
      rows = new Map();
      this.byImage.set(image, rows);
      const repository = repositoryOf(image);
      if (repository) {
        const images = this.imagesByRepository.get(repository);
        if (images) images.push(image);
        else this.imagesByRepository.set(repository, [image]);
      }
    }
    const key = keyOf(packageName, vulnerabilityId);
    const existing = rows.get(key);
    if (existing !== undefined && (notes.trim() === '' || this.triageOf(existing).notes.trim() !== '')) return;
    rows.set(key, isWritten(state, notes, ignoreExpires) ? { state, notes, firstSeen, ignoreExpires, matched: false } : this.dateCode(firstSeen));
  }

  private dateCode(date: string): number {
    let index = this.dateIndex.get(date);
    if (index === undefined) {
      index = this.dates.push(date) - 1;
      this.dateIndex.set(date, index);
    }
    return index * 2;
  }

  private triageOf(entry: Entry): WrittenTriage {
    return typeof entry === 'number' ? { state: '', notes: '', firstSeen: this.dates[entry >> 1]!, ignoreExpires: '' } : entry;
  }

  /** Previous rows of the image, for the caller to decide whether they are carried over verbatim. */
  rowsOf(image: string): number {
    return this.byImage.get(image)?.size ?? 0;
  }

  private take(image: string, key: string): PreviousMatch | undefined {
    const rows = this.byImage.get(image);
    const entry = rows?.get(key);
    if (entry === undefined) return undefined;
    if (typeof entry === 'number') rows!.set(key, entry | 1);
    else entry.matched = true;
    const { state, notes, firstSeen, ignoreExpires } = this.triageOf(entry);
    return { image, state, notes, firstSeen, ignoreExpires };
  }

  /**
   * The triage of (image, package, id), marking it matched (not fixed). When the exact image has
   * no previous rows at all (a renamed tag), the other images of its repository are asked, and
   * the first row with a person's notes wins, as with repeated keys.
   */
  lookup(image: string, repository: string, packageName: string, vulnerabilityId: string): PreviousMatch | undefined {
    const key = keyOf(packageName, vulnerabilityId);
    if (this.byImage.has(image)) return this.take(image, key);
    let first: string | undefined;
    for (const other of this.imagesByRepository.get(repository) ?? []) {
      const entry = this.byImage.get(other)?.get(key);
      if (entry === undefined) continue;
      if (this.triageOf(entry).notes.trim() !== '') return this.take(other, key);
      first ??= other;
    }
    return first === undefined ? undefined : this.take(first, key);
  }

  /**
   * Previous findings no new finding matched, of images that were scanned this run or left the
   * release: the fixed ones. An image whose scan failed fixes nothing.
   */
  countFixed(scanned: ReadonlySet<string>, inRelease: ReadonlySet<string>): number {
    let fixed = 0;
    for (const [image, rows] of this.byImage) {
      if (!scanned.has(image) && inRelease.has(image)) continue;
      for (const entry of rows.values()) {
        if (typeof entry === 'number' ? (entry & 1) === 0 : !entry.matched) fixed++;
      }
    }
    return fixed;
  }
}
