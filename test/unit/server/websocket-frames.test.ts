import { describe, expect, it } from 'vitest';
import {
  closeFrame,
  createFrameBoundary,
  GOING_AWAY,
} from '../../../src/server/websocket-frames.js';

/** An unmasked text frame with `length` payload bytes, in the header form RFC 6455 prescribes. */
function textFrame(length: number): Buffer {
  const payload = Buffer.alloc(length, 0x61);
  if (length < 126) return Buffer.concat([Buffer.from([0x81, length]), payload]);
  if (length < 65_536) {
    const header = Buffer.from([0x81, 126, 0, 0]);
    header.writeUInt16BE(length, 2);
    return Buffer.concat([header, payload]);
  }
  const header = Buffer.alloc(10);
  header[0] = 0x81;
  header[1] = 127;
  header.writeBigUInt64BE(BigInt(length), 2);
  return Buffer.concat([header, payload]);
}

/** A masked frame, as a browser sends it. */
function maskedFrame(length: number): Buffer {
  return Buffer.concat([Buffer.from([0x82, 0x80 | length, 1, 2, 3, 4]), Buffer.alloc(length)]);
}

describe('createFrameBoundary', () => {
  it.each([
    ['a short frame', textFrame(5)],
    ['an empty frame', textFrame(0)],
    ['a frame with a 16-bit length', textFrame(300)],
    ['a frame with a 64-bit length', textFrame(70_000)],
    ['a masked frame', maskedFrame(10)],
  ])('is between frames after %s, and not before its last byte', (_name, frame) => {
    const boundary = createFrameBoundary();
    boundary.consume(frame.subarray(0, frame.length - 1));
    expect(boundary.atBoundary()).toBe(frame.length === 1);
    boundary.consume(frame.subarray(frame.length - 1));
    expect(boundary.atBoundary()).toBe(true);
  });

  it('follows frames split at every byte of their headers', () => {
    const stream = Buffer.concat([textFrame(300), maskedFrame(3), textFrame(70_000)]);
    const boundary = createFrameBoundary();
    for (let offset = 0; offset < 20; offset += 1) {
      boundary.consume(stream.subarray(offset, offset + 1));
    }
    boundary.consume(stream.subarray(20));
    expect(boundary.atBoundary()).toBe(true);
  });

  it('takes only the rest of the frame under way when asked to stop at a boundary', () => {
    const first = textFrame(300);
    const boundary = createFrameBoundary();
    boundary.consume(first.subarray(0, 100));

    const rest = Buffer.concat([first.subarray(100), textFrame(5)]);
    expect(boundary.consume(rest, true)).toBe(first.length - 100);
    expect(boundary.atBoundary()).toBe(true);
    expect(boundary.consume(textFrame(5), true)).toBe(0);
  });
});

describe('closeFrame', () => {
  it('sends the browser an unmasked close frame with code 1001', () => {
    expect([...closeFrame(GOING_AWAY, false)]).toEqual([0x88, 0x02, 0x03, 0xe9]);
  });

  it('sends the upstream a masked close frame whose payload unmasks to code 1001', () => {
    const frame = closeFrame(GOING_AWAY, true);
    expect(frame.subarray(0, 2)).toEqual(Buffer.from([0x88, 0x82]));
    const mask = frame.subarray(2, 6);
    const code = frame.subarray(6).map((byte, index) => byte ^ (mask[index] as number));
    expect(Buffer.from(code).readUInt16BE(0)).toBe(1001);
  });
});
