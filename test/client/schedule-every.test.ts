import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { scheduleOptions } from '../../client/schedule.js';
import { loadFileConfig } from '../../worker/config.js';

const input = { releases: [{ name: 'v2.12', images: 'x.txt' }] } as never;

describe('schedule every', () => {
  it('runs daily with `every: day` (no day of week), weekly by default', () => {
    const daily = scheduleOptions({ id: 's', every: 'day', dayOfWeek: 'MONDAY', hour: 4, catchupWindow: '1 day' }, input);
    assert.deepEqual(daily.spec.calendars, [{ comment: 'daily CVE scan', hour: 4, minute: 0 }]);
    assert.match(String(daily.action.staticSummary), /^Daily CVE scan of v2\.12/);
    const weekly = scheduleOptions({ id: 's', dayOfWeek: 'SUNDAY', hour: 4, catchupWindow: '1 day' }, input);
    assert.deepEqual(weekly.spec.calendars, [{ comment: 'weekly CVE scan', dayOfWeek: 'SUNDAY', hour: 4, minute: 0 }]);
  });

  it('reads `every` from the config file and refuses anything but week or day, naming the field', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'schedule-every-'));
    const file = join(dir, 'config.json');
    await writeFile(file, JSON.stringify({ releases: [{ name: 'v2.12', images: 'x.txt' }], schedule: { every: 'day' } }));
    assert.equal((await loadFileConfig(file)).schedule?.every, 'day');
    await writeFile(file, JSON.stringify({ releases: [{ name: 'v2.12', images: 'x.txt' }], schedule: { every: 'hour' } }));
    await assert.rejects(loadFileConfig(file), /schedule\.every.*must be "week" or "day"/s);
  });
});
