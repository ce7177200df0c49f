/**
 * The SMART App Launch scope grammar (v1 and v2), defined once for the authorization server and the
 * gateway. http://hl7.org/fhir/smart-app-launch/scopes-and-launch-context.html
 *
 *   v1: (patient|user|system)/(Type|*).(read|write|*)
 *   v2: (patient|user|system)/(Type|*).c?r?u?d?s?  [ ?param=value(&param=value)* ]
 */

export type ScopeContext = 'patient' | 'user' | 'system';
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';
export type ScopeVersion = 1 | 2;

/** Permission letters in the order v2 requires them. */
export const PERMISSION_ORDER: readonly Permission[] = ['c', 'r', 'u', 'd', 's'];

/** A granular v2 filter: `name=value` pairs, AND-ed, in canonical (sorted) order. */
export type ScopeQuery = readonly (readonly [string, string])[];

export interface ClinicalScope {
  readonly kind: 'clinical';
  readonly context: ScopeContext;
  /** A resource type name, or `*` for every type. */
  readonly resourceType: string;
  readonly permissions: ReadonlySet<Permission>;
  /** The syntax it was written in; a v1 request is answered in v1 where v1 can say it. */
  readonly version: ScopeVersion;
  /** Granular filter of a v2 scope; empty for none. */
  readonly query: ScopeQuery;
}

/** The non-clinical scopes SMART defines. */
export const STATIC_SCOPES = [
  'openid',
  'fhirUser',
  'profile',
  'launch',
  'launch/patient',
  'launch/encounter',
  'offline_access',
  'online_access',
] as const;
export type StaticScope = (typeof STATIC_SCOPES)[number];

export interface StaticScopeValue {
  readonly kind: 'static';
  readonly name: StaticScope;
}

export type Scope = ClinicalScope | StaticScopeValue;

const CLINICAL = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{0,63})\.([a-z*]+)(?:\?(.*))?$/;
const V1_PERMISSIONS: Record<string, Permission[]> = {
  read: ['r', 's'],
  write: ['c', 'u', 'd'],
  '*': ['c', 'r', 'u', 'd', 's'],
};
const V2_PERMISSIONS = /^c?r?u?d?s?$/;
const QUERY_NAME = /^[A-Za-z_][A-Za-z0-9_\-.:]*$/;

function isStatic(s: string): s is StaticScope {
  return (STATIC_SCOPES as readonly string[]).includes(s);
}

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

/** Parses `a=1&b=2` into sorted pairs; undefined when malformed. */
export function parseScopeQuery(text: string): ScopeQuery | undefined {
  if (text === '') return undefined;
  const pairs: [string, string][] = [];
  for (const part of text.split('&')) {
    const eq = part.indexOf('=');
    if (eq <= 0) return undefined;
    const name = decode(part.slice(0, eq));
    const value = decode(part.slice(eq + 1));
    if (name === undefined || value === undefined || value === '' || !QUERY_NAME.test(name)) {
      return undefined;
    }
    pairs.push([name, value]);
  }
  return canonicalQuery(pairs);
}

/** Sorted, de-duplicated pairs. */
export function canonicalQuery(pairs: readonly (readonly [string, string])[]): ScopeQuery {
  const seen = new Map<string, readonly [string, string]>();
  for (const p of pairs) seen.set(`${p[0]}\u0000${p[1]}`, p);
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, p]) => p);
}

/** `name=value&…` with the characters a scope may not carry percent-encoded. */
export function formatScopeQuery(query: ScopeQuery): string {
  const enc = (s: string) => s.replace(/[%&=\s"\\#]/g, (c) => encodeURIComponent(c));
  return query.map(([n, v]) => `${enc(n)}=${enc(v)}`).join('&');
}

/** Parses one scope token; undefined when it is not a SMART scope this server understands. */
export function parseScope(token: string): Scope | undefined {
  if (isStatic(token)) return { kind: 'static', name: token };
  const m = CLINICAL.exec(token);
  if (m === null) return undefined;
  const [, context, resourceType, perms, queryText] = m;
  if (context === undefined || resourceType === undefined || perms === undefined) return undefined;
  let permissions: Permission[];
  let version: ScopeVersion;
  const v1 = V1_PERMISSIONS[perms];
  if (v1 !== undefined) {
    if (queryText !== undefined) return undefined; // v1 has no granular form
    permissions = v1;
    version = 1;
  } else if (perms !== '' && V2_PERMISSIONS.test(perms)) {
    permissions = PERMISSION_ORDER.filter((p) => perms.includes(p));
    version = 2;
  } else {
    return undefined;
  }
  let query: ScopeQuery = [];
  if (queryText !== undefined) {
    const q = parseScopeQuery(queryText);
    if (q === undefined) return undefined;
    query = q;
  }
  return {
    kind: 'clinical',
    context: context as ScopeContext,
    resourceType,
    permissions: new Set(permissions),
    version,
    query,
  };
}

export interface ParsedScopes {
  clinical: ClinicalScope[];
  static: StaticScope[];
  /** Tokens that are not SMART scopes (kept so callers can report or drop them). */
  unknown: string[];
}

/** Parses a space-delimited scope string. */
export function parseScopes(scope: string | undefined): ParsedScopes {
  const out: ParsedScopes = { clinical: [], static: [], unknown: [] };
  for (const token of (scope ?? '').split(/\s+/)) {
    if (token === '') continue;
    const s = parseScope(token);
    if (s === undefined) out.unknown.push(token);
    else if (s.kind === 'static') {
      if (!out.static.includes(s.name)) out.static.push(s.name);
    } else out.clinical.push(s);
  }
  return out;
}

function v1Name(permissions: ReadonlySet<Permission>): string | undefined {
  const letters = PERMISSION_ORDER.filter((p) => permissions.has(p)).join('');
  if (letters === 'rs') return 'read';
  if (letters === 'cud') return 'write';
  if (letters === 'cruds') return '*';
  return undefined;
}

/** Writes a clinical scope in v1 where it was v1 and v1 can say it, otherwise in v2. */
export function formatScope(scope: ClinicalScope, version: ScopeVersion = scope.version): string {
  const head = `${scope.context}/${scope.resourceType}.`;
  const v1 = version === 1 && scope.query.length === 0 ? v1Name(scope.permissions) : undefined;
  if (v1 !== undefined) return head + v1;
  const letters = PERMISSION_ORDER.filter((p) => scope.permissions.has(p)).join('');
  const query = scope.query.length > 0 ? `?${formatScopeQuery(scope.query)}` : '';
  return head + letters + query;
}

/** Formats a list of scopes (clinical and static) as a space-delimited string, without duplicates. */
export function formatScopes(scopes: readonly (ClinicalScope | StaticScope)[]): string {
  const out: string[] = [];
  for (const s of scopes) {
    const text = typeof s === 'string' ? s : formatScope(s);
    if (!out.includes(text)) out.push(text);
  }
  return out.join(' ');
}
