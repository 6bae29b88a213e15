// Just enough of RFC 6455 framing to close a proxied websocket cleanly: where frames end, and
// how a close frame looks. https://www.rfc-editor.org/rfc/rfc6455#section-5.2
import { randomBytes } from 'node:crypto';

/** Follows a stream of websocket frames without copying it, to know where each frame ends. */
export interface FrameBoundary {
  /** True between frames: nothing of a started frame is missing. */
  atBoundary(): boolean;
  /**
   * Reads `chunk` and returns how many of its bytes were taken: all of them, or, with
   * `stopAtBoundary`, only those up to the first frame end (0 when already between frames).
   */
  consume(chunk: Buffer, stopAtBoundary?: boolean): number;
}

export function createFrameBoundary(): FrameBoundary {
  return new FrameReader();
}

/**
 * A class, not closures: every open websocket holds two of these for its whole life, and methods
 * on a prototype cost nothing per instance.
 */
class FrameReader implements FrameBoundary {
  /** Header bytes of the frame being read (2 to 14 of them). */
  private readonly header: number[] = [];
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;

  atBoundary(): boolean {
    return this.header.length === 0 && this.remaining === 0;
  }

  consume(chunk: Buffer, stopAtBoundary = false): number {
    const { header } = this;
    let offset = 0;
    while (offset < chunk.length) {
      if (stopAtBoundary && this.atBoundary()) return offset;

      if (this.remaining > 0) {
        const taken = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= taken;
        offset += taken;
        continue;
      }
      header.push(chunk[offset] as number);
      offset += 1;
      if (header.length >= 2 && header.length === headerLength(header)) {
        this.remaining = payloadLength(header);
        header.length = 0;
      }
    }
    return offset;
  }
}

/** Base header, extended payload length (0, 2 or 8 bytes), masking key (0 or 4 bytes). */
function headerLength(header: readonly number[]): number {
  const second = header[1] as number;
  const length7 = second & 0x7f;
  const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
  return 2 + extended + (second & 0x80 ? 4 : 0);
}

function payloadLength(header: readonly number[]): number {
  const length7 = (header[1] as number) & 0x7f;
  if (length7 < 126) return length7;

  const bytes = header.slice(2, length7 === 126 ? 4 : 10);
  return bytes.reduce((total, byte) => total * 256 + byte, 0);
}

/** 1001: "an endpoint is going away, such as a server going down" (RFC 6455 section 7.4.1). */
export const GOING_AWAY = 1001;

/**
 * A close frame with `code` and no reason. Frames towards a server must be masked (RFC 6455
 * section 5.3), so the one sent upstream is; the one sent to the browser must not be.
 */
export function closeFrame(code: number, masked: boolean): Buffer {
  const payload = Buffer.alloc(2);
  payload.writeUInt16BE(code);
  if (!masked) return Buffer.concat([Buffer.from([0x88, payload.length]), payload]);

  const mask = randomBytes(4);
  const body = payload.map((byte, index) => byte ^ (mask[index % 4] as number));
  return Buffer.concat([Buffer.from([0x88, 0x80 | payload.length]), mask, body]);
}
