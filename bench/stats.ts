/** Latencies in milliseconds, kept whole so that percentiles are exact. */
export class LatencyRecorder {
  private values = new Float64Array(1 << 16);
  private length = 0;

  record(milliseconds: number): void {
    if (this.length === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length] = milliseconds;
    this.length += 1;
  }

  get count(): number {
    return this.length;
  }

  /** p50 and p99 in milliseconds; NaN when nothing was recorded. */
  percentiles(): { p50: number; p99: number } {
    const sorted = this.values.slice(0, this.length).sort();
    const at = (fraction: number): number =>
      sorted.length === 0
        ? Number.NaN
        : (sorted[Math.min(sorted.length - 1, Math.floor(fraction * sorted.length))] as number);
    return { p50: at(0.5), p99: at(0.99) };
  }
}
