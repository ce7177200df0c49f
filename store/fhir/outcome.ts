/**
 * The OperationOutcome vocabulary: one error type carrying an HTTP status and a FHIR issue,
 * built by a small set of named builders. Every FHIR-side error answer is one of these.
 */

export type IssueSeverity = 'fatal' | 'error' | 'warning' | 'information';

/** FHIR R4 IssueType codes used by Hearth (http://hl7.org/fhir/valueset-issue-type.html). */
export type IssueCode =
  | 'invalid'
  | 'structure'
  | 'required'
  | 'value'
  | 'invariant'
  | 'security'
  | 'login'
  | 'forbidden'
  | 'processing'
  | 'not-supported'
  | 'duplicate'
  | 'multiple-matches'
  | 'not-found'
  | 'deleted'
  | 'too-long'
  | 'code-invalid'
  | 'conflict'
  | 'transient'
  | 'timeout'
  | 'too-costly'
  | 'business-rule'
  | 'exception'
  | 'throttled'
  | 'informational'
  | 'incomplete';

export interface OutcomeIssue {
  severity: IssueSeverity;
  code: IssueCode;
  diagnostics?: string;
  expression?: string[];
  details?: { text: string };
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome';
  id?: string;
  issue: OutcomeIssue[];
}

export function outcome(issues: OutcomeIssue[]): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: issues };
}

export function issue(
  severity: IssueSeverity,
  code: IssueCode,
  diagnostics: string,
  expression?: string[],
): OutcomeIssue {
  const out: OutcomeIssue = { severity, code, diagnostics };
  if (expression !== undefined && expression.length > 0) out.expression = expression;
  return out;
}

/** An error that answers with `status` and an OperationOutcome. `expose`: safe to show the client. */
export class FhirError extends Error {
  override readonly name = 'FhirError';
  readonly status: number;
  readonly issues: OutcomeIssue[];
  readonly headers: Record<string, string>;
  readonly expose = true;

  constructor(status: number, issues: OutcomeIssue[], headers: Record<string, string> = {}) {
    super(issues.map((i) => i.diagnostics ?? i.code).join('; '));
    this.status = status;
    this.issues = issues;
    this.headers = headers;
  }

  get outcome(): OperationOutcome {
    return outcome(this.issues);
  }
}

const err = (status: number, code: IssueCode, message: string, expression?: string[]) =>
  new FhirError(status, [issue('error', code, message, expression)]);

export const badRequest = (message: string, expression?: string[]) =>
  err(400, 'invalid', message, expression);
export const invalidResource = (issues: OutcomeIssue[]) => new FhirError(400, issues);
export const businessRule = (message: string, expression?: string[]) =>
  err(422, 'business-rule', message, expression);
export const unauthorized = (message: string) => err(401, 'login', message);
export const forbidden = (message: string) => err(403, 'forbidden', message);
export const notFound = (message: string) => err(404, 'not-found', message);
export const gone = (message: string) => err(410, 'deleted', message);
export const methodNotAllowed = (message: string) => err(405, 'not-supported', message);
export const notAcceptable = (message: string) => err(406, 'not-supported', message);
export const conflict = (message: string) => err(409, 'conflict', message);
export const preconditionFailed = (message: string) => err(412, 'conflict', message);
export const payloadTooLarge = (message: string) => err(413, 'too-long', message);
export const unsupportedMediaType = (message: string) => err(415, 'not-supported', message);
export const multipleMatches = (message: string) => err(412, 'multiple-matches', message);
export const tooCostly = (message: string) => err(400, 'too-costly', message);
export const tooManyRequests = (message: string, retryAfterSeconds: number) =>
  new FhirError(429, [issue('error', 'throttled', message)], {
    'retry-after': String(retryAfterSeconds),
  });
export const notSupported = (message: string) => err(400, 'not-supported', message);
export const badGateway = (message: string) => err(502, 'transient', message);
export const gatewayTimeout = (message: string) => err(504, 'timeout', message);
export const serverError = () => err(500, 'exception', 'internal server error');

export function isFhirError(e: unknown): e is FhirError {
  return e instanceof FhirError;
}
