import { describe, expect, it } from 'vitest';
import { createBackstop } from '../../../src/inject/backstop.js';

describe('backstop', () => {
  it('counts redirects inside the window only', () => {
    const backstop = createBackstop(60, 100);
    backstop.record('a', 1000);
    backstop.record('a', 1030);
    expect(backstop.count('a', 1059)).toBe(2);
    expect(backstop.count('a', 1060)).toBe(1);
    expect(backstop.count('b', 1000)).toBe(0);
  });

  it('forgets a pair whose token arrived', () => {
    const backstop = createBackstop(60, 100);
    backstop.record('a', 1000);
    backstop.clear('a');
    expect(backstop.count('a', 1000)).toBe(0);
  });

  it('remembers at most its maximum of pairs, forgetting the oldest', () => {
    const backstop = createBackstop(60, 100);
    for (let i = 0; i < 150; i += 1) backstop.record(`pair-${i}`, 1000);
    expect(backstop.size).toBe(100);
    expect(backstop.count('pair-0', 1000)).toBe(0);
    expect(backstop.count('pair-149', 1000)).toBe(1);
  });

  it('forgets pairs whose last redirect left the window as new redirects come', () => {
    const backstop = createBackstop(60, 100);
    for (let i = 0; i < 50; i += 1) backstop.record(`old-${i}`, 1000);
    backstop.record('recent', 1030);
    backstop.record('new', 1070);
    expect(backstop.size).toBe(2);
    expect(backstop.count('recent', 1070)).toBe(1);
  });
});
