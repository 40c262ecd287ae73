import { InvalidImageReferenceError, isRancherMirrored, parseImageRef, type ImageRef } from './image-ref.js';

/** One image of a release, as a scan and a report need to know it. */
export interface ImageRecord {
  image: string;
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
  canonical: string;
  windows: boolean;
  mirrored: boolean;
  projects: string[];
}

/** A line of an input list that could not be used; the rest of the list still is. */
export interface ListProblem {
  source: string;
  line: number;
  text: string;
  message: string;
}

export interface ParsedList<T> {
  entries: T[];
  problems: ListProblem[];
}

/** Splits a list into meaningful lines, tolerating CRLF, comments and blank lines. */
function meaningfulLines(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  const lines = text.split('\n');
  lines.forEach((raw, i) => {
    const withoutCr = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = withoutCr.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('//')) return;
    out.push({ line: i + 1, text: trimmed });
  });
  return out;
}

/** Parses `rancher-images.txt` / `rancher-windows-images.txt`: one reference per line. Duplicates collapse. */
export function parseImageList(text: string, source: string): ParsedList<ImageRef> {
  const entries: ImageRef[] = [];
  const problems: ListProblem[] = [];
  const seen = new Set<string>();
  for (const { line, text: lineText } of meaningfulLines(text)) {
    try {
      const ref = parseImageRef(lineText);
      if (seen.has(ref.canonical)) continue;
      seen.add(ref.canonical);
      entries.push(ref);
    } catch (error) {
      if (!(error instanceof InvalidImageReferenceError)) throw error;
      problems.push({ source, line, text: lineText, message: error.message });
    }
  }
  return { entries, problems };
}

export interface ImageSources {
  ref: ImageRef;
  projects: string[];
  line: number;
}

/** Parses `rancher-images-sources.txt`: `<image> <source>[,<source>...]`. */
export function parseImageSources(text: string, source: string): ParsedList<ImageSources> {
  const entries: ImageSources[] = [];
  const problems: ListProblem[] = [];
  for (const { line, text: lineText } of meaningfulLines(text)) {
    const fields = lineText.split(/\s+/);
    if (fields.length !== 2) {
      problems.push({ source, line, text: lineText, message: `expected "<image> <source>[,<source>...]", found ${fields.length} fields` });
      continue;
    }
    try {
      const ref = parseImageRef(fields[0]!);
      const projects = fields[1]!.split(',').map((p) => p.trim()).filter((p) => p !== '');
      if (projects.length === 0) {
        problems.push({ source, line, text: lineText, message: 'no source listed' });
        continue;
      }
      entries.push({ ref, projects, line });
    } catch (error) {
      if (!(error instanceof InvalidImageReferenceError)) throw error;
      problems.push({ source, line, text: lineText, message: error.message });
    }
  }
  return { entries, problems };
}

export interface ReleaseLists {
  images: ParsedList<ImageRef>;
  windowsImages?: ParsedList<ImageRef>;
  sources?: ParsedList<ImageSources>;
  /** Destination repositories of an image-mirror list; their images are mirrored too. */
  mirroredRepositories?: ReadonlySet<string>;
}

/** Lines of a sources file naming an image that no image list of the release has: the two files do not match. */
export function unmatchedSources(lists: Pick<ReleaseLists, 'images' | 'windowsImages' | 'sources'>, source: string): ListProblem[] {
  const known = new Set([...lists.images.entries, ...(lists.windowsImages?.entries ?? [])].map((r) => r.canonical));
  return (lists.sources?.entries ?? [])
    .filter((e) => !known.has(e.ref.canonical))
    .map((e) => ({ source, line: e.line, text: e.ref.reference, message: `${e.ref.reference} is not in the release's image lists` }));
}

/** Joins a release's lists into image records, in list order: Linux first, then Windows-only images. */
export function buildImageRecords(lists: ReleaseLists): ImageRecord[] {
  const projectsByImage = new Map<string, Set<string>>();
  for (const { ref, projects } of lists.sources?.entries ?? []) {
    const set = projectsByImage.get(ref.canonical) ?? new Set<string>();
    projects.forEach((p) => set.add(p));
    projectsByImage.set(ref.canonical, set);
  }
  const windows = new Set((lists.windowsImages?.entries ?? []).map((r) => r.canonical));
  const records = new Map<string, ImageRecord>();
  const add = (ref: ImageRef) => {
    if (records.has(ref.canonical)) return;
    records.set(ref.canonical, {
      image: ref.reference,
      registry: ref.registry,
      repository: ref.repository,
      tag: ref.tag,
      digest: ref.digest,
      canonical: ref.canonical,
      windows: windows.has(ref.canonical),
      mirrored: isRancherMirrored(ref) || (lists.mirroredRepositories?.has(ref.repository) ?? false),
      projects: [...(projectsByImage.get(ref.canonical) ?? [])].sort(),
    });
  };
  lists.images.entries.forEach(add);
  lists.windowsImages?.entries.forEach(add);
  return [...records.values()];
}

export function formatListProblems(problems: ListProblem[]): string {
  return problems.map((p) => `${p.source}:${p.line}: ${p.message} (line: ${JSON.stringify(p.text)})`).join('\n');
}

/**
 * Parses an image-mirror list (`SOURCE DESTINATION TAG` per line, rancher/image-mirror's
 * `images-list` format) into the set of destination repositories: images there are mirrored.
 */
export function parseMirrorList(text: string, source: string): ParsedList<{ source: string; destination: string; tag: string }> {
  const entries: { source: string; destination: string; tag: string }[] = [];
  const problems: ListProblem[] = [];
  for (const { line, text: lineText } of meaningfulLines(text)) {
    const fields = lineText.split(/\s+/);
    if (fields.length !== 3) {
      problems.push({ source, line, text: lineText, message: `expected "SOURCE DESTINATION TAG", found ${fields.length} fields` });
      continue;
    }
    try {
      const destination = parseImageRef(`${fields[1]!}:${fields[2]!}`);
      entries.push({ source: fields[0]!, destination: destination.repository, tag: fields[2]! });
    } catch (error) {
      if (!(error instanceof InvalidImageReferenceError)) throw error;
      problems.push({ source, line, text: lineText, message: error.message });
    }
  }
  return { entries, problems };
}
