import { FhirError, issue } from '../../store/fhir/outcome.js';
import type { GatewayMiddleware } from '../state.js';

const PREFIX = 'x-ms-azurefhir-audit-';
/** `x`, the first character of {@link PREFIX}. */
const X = 0x78;
export const MAX_CUSTOM_AUDIT_HEADERS = 10;
export const MAX_CUSTOM_AUDIT_VALUE = 2048;

/**
 * Copies `X-MS-AZUREFHIR-AUDIT-*` headers into the audit record, with Azure's limits: at most 10
 * distinct headers, 2048 characters per value, repeats joined with commas. Over a limit: 431.
 */
export function customAuditHeaders(): GatewayMiddleware {
  return async function customAuditHeadersStep(ctx, next) {
    const out: Record<string, string> = {};
    const raw = ctx.req.rawHeaders;
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const rawName = raw[i] ?? '';
      // Most names are not ours: rule them out without lower-casing (a copy) each one.
      if (rawName.length <= PREFIX.length || (rawName.charCodeAt(0) | 0x20) !== X) continue;
      const name = rawName.toLowerCase();
      if (!name.startsWith(PREFIX)) continue;
      const key = `X-MS-AZUREFHIR-AUDIT-${name.slice(PREFIX.length).toUpperCase()}`;
      const value = raw[i + 1] ?? '';
      out[key] = out[key] === undefined ? value : `${out[key]}, ${value}`;
    }
    const names = Object.keys(out);
    if (names.length > MAX_CUSTOM_AUDIT_HEADERS) {
      throw new FhirError(431, [
        issue(
          'error',
          'too-long',
          `at most ${MAX_CUSTOM_AUDIT_HEADERS} X-MS-AZUREFHIR-AUDIT-* headers are allowed`,
        ),
      ]);
    }
    for (const n of names) {
      if ((out[n] ?? '').length > MAX_CUSTOM_AUDIT_VALUE) {
        throw new FhirError(431, [
          issue('error', 'too-long', `${n} is longer than ${MAX_CUSTOM_AUDIT_VALUE} characters`),
        ]);
      }
    }
    ctx.state.audit.customHeaders = out;
    await next();
  };
}
