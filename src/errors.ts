/**
 * The one error type the gateway throws on purpose. Each code is stable (operators grep for it)
 * and implies the HTTP status a browser sees when the error ends a request.
 */
export const ERROR_STATUS = {
  CONFIG_INVALID: 500,
  KEY_INVALID: 500,
  DN_MALFORMED: 400,
  CERT_MALFORMED: 400,
  HOLDER_REFUSED: 403,
  GUEST_REFUSED: 403,
  UPSTREAM_UNREACHABLE: 502,
  UPSTREAM_TIMEOUT: 504,
  INTERNAL: 500,
} as const;

export type GatewayErrorCode = keyof typeof ERROR_STATUS;

export class GatewayError extends Error {
  readonly code: GatewayErrorCode;

  constructor(code: GatewayErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'GatewayError';
    this.code = code;
  }

  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

export function isGatewayError(value: unknown): value is GatewayError {
  return value instanceof GatewayError;
}
