import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compareReleaseNames } from '../../core/release-order.js';

describe('compareReleaseNames', () => {
  it('orders version numbers by value and pre-releases before their release', () => {
    const shuffled = ['v2.10.0', 'v2.9.0', 'v2.9.10', 'v2.9.2', 'v2.9.0-rc1', 'v2.9.0-rc10', 'v2.9.0-rc2', 'v2.11.0-alpha1', 'v2.8.12'];
    assert.deepEqual(shuffled.sort(compareReleaseNames), ['v2.8.12', 'v2.9.0-rc1', 'v2.9.0-rc2', 'v2.9.0-rc10', 'v2.9.0', 'v2.9.2', 'v2.9.10', 'v2.10.0', 'v2.11.0-alpha1']);
  });

  it('is a total order on names that are not versions', () => {
    const names = ['rancher-prime', 'carbide', 'v2', 'v07', 'v7', '', '2024-01'];
    const sorted = [...names].sort(compareReleaseNames);
    for (let i = 0; i < sorted.length; i++) {
      assert.equal(compareReleaseNames(sorted[i]!, sorted[i]!), 0);
      for (let j = i + 1; j < sorted.length; j++) {
        assert.ok(compareReleaseNames(sorted[i]!, sorted[j]!) < 0, `${sorted[i]} before ${sorted[j]}`);
        assert.ok(compareReleaseNames(sorted[j]!, sorted[i]!) > 0, `${sorted[j]} after ${sorted[i]}`);
      }
    }
  });
});
