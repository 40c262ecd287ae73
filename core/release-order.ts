/**
 * The order people read release names in: numbers as numbers, so v2.9.0 comes before
 * v2.10.0, and a pre-release before its release (v2.9.0-rc1 before v2.9.0), as in semver.
 */
export function compareReleaseNames(a: string, b: string): number {
  const [coreA = '', preA] = splitPrerelease(a);
  const [coreB = '', preB] = splitPrerelease(b);
  const byCore = compareNatural(coreA, coreB);
  if (byCore !== 0) return byCore;
  if (preA === undefined || preB === undefined) return preA === preB ? 0 : preA === undefined ? 1 : -1;
  return compareNatural(preA, preB);
}

function splitPrerelease(name: string): [string, string?] {
  // The first hyphen after a digit starts a pre-release (v2.9.0-rc1); a name like "rancher-prime" has none.
  const match = /^(.*?\d)-(.+)$/.exec(name);
  return match ? [match[1]!, match[2]!] : [name];
}

/** Digit runs compare by value, everything else by code unit: the same on every machine. */
function compareNatural(a: string, b: string): number {
  const pa = a.match(/\d+|\D+/g) ?? [];
  const pb = b.match(/\d+|\D+/g) ?? [];
  for (let i = 0; i < Math.min(pa.length, pb.length); i++) {
    const x = pa[i]!;
    const y = pb[i]!;
    if (x === y) continue;
    const numeric = /^\d/.test(x) && /^\d/.test(y);
    if (numeric) {
      const d = BigInt(x) - BigInt(y);
      if (d !== 0n) return d < 0n ? -1 : 1;
      // Same value, other spelling (07 and 7): shorter first, so the order stays total.
      return x.length - y.length;
    }
    return x < y ? -1 : 1;
  }
  return pa.length - pb.length;
}
