import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { formatDuration, ProgressReporter } from '../../client/progress.js';

function sink(): { stream: Writable & { isTTY?: boolean }; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter(Boolean) };
}

describe('progress without a terminal', () => {
  it('says at once which images wait on which registry, with its ratelimit-remaining figure, and when the wait ends', () => {
    let now = Date.UTC(2026, 11, 1, 12, 0, 0);
    const out = sink();
    const reporter = new ProgressReporter(out.stream, { now: () => now });
    const until = Date.UTC(2026, 11, 1, 13, 30, 0);
    reporter.update({ phase: 'scanning', done: 0, total: 10, unit: 'images' });
    now += 2000;
    reporter.update({
      phase: 'scanning',
      done: 4,
      total: 10,
      unit: 'images',
      waiting: [
        { registry: 'docker.io', count: 7, images: ['docker.io/rancher/a:1', 'docker.io/rancher/b:2'], until, remaining: '0;w=21600', limit: '100;w=21600' },
        { registry: 'quay.io', count: 1, images: ['quay.io/x/y:3'], until },
      ],
    });
    now += 2000;
    reporter.update({ phase: 'scanning', done: 5, total: 10, unit: 'images' });
    reporter.stop();
    assert.deepEqual(out.lines(), [
      '12:00:00 scanning: 0/10 images, ETA ?',
      '12:00:02 scanning: 4/10 images, ETA 3s; 7 waiting on docker.io (ratelimit-remaining 0;w=21600) until 13:30:00: docker.io/rancher/a:1, docker.io/rancher/b:2 and 5 more; 1 waiting on quay.io until 13:30:00: quay.io/x/y:3',
      '12:00:04 scanning: 5/10 images, ETA 4s',
    ]);
  });

  it('prints a plain line at each phase and every 10 s between, with the phase, done/total and an ETA', () => {
    let now = Date.UTC(2026, 11, 1, 12, 0, 0);
    const out = sink();
    const reporter = new ProgressReporter(out.stream, { now: () => now });
    reporter.update({ phase: 'scanning', done: 0, total: 600, unit: 'images', inFlight: 8 });
    for (let second = 1; second <= 25; second++) {
      now += 1000;
      reporter.update({ phase: 'scanning', done: second * 4, total: 600, unit: 'images', failed: second > 20 ? 1 : 0, inFlight: 8 });
    }
    now += 1000;
    reporter.update({ phase: 'reconciling-issues', done: 0, total: 54, unit: 'issue writes' });
    now += 7200;
    reporter.update({ phase: 'reconciling-issues', done: 1, total: 54, unit: 'issue writes' });
    reporter.stop();
    assert.deepEqual(out.lines(), [
      '12:00:00 scanning: 0/600 images (8 in flight), ETA ?',
      '12:00:10 scanning: 40/600 images (8 in flight), ETA 2m20s',
      '12:00:20 scanning: 80/600 images (8 in flight), ETA 2m10s',
      '12:00:26 reconciling-issues: 0/54 issue writes, ETA ?',
      // 7.2 s a write, GitHub's pace for content: the ETA says the phase takes minutes.
      '12:00:33 reconciling-issues: 1/54 issue writes, ETA 6m22s',
    ]);
  });

  it('formats durations for people', () => {
    assert.equal(formatDuration(42), '42s');
    assert.equal(formatDuration(61), '1m01s');
    assert.equal(formatDuration(3 * 3600 + 120), '3h02m');
    assert.equal(formatDuration(Number.POSITIVE_INFINITY), '?');
  });
});
