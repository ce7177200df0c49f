import fs from 'node:fs';

/**
 * Roles bound what any token may carry. The names come from ../shared/CONTRACT.md (plus ROLES_FILE);
 * the gateway defines and enforces their data actions. Here a role is only the SMART scopes it can
 * ever allow: the granting function intersects the request with `limits`.
 */
export interface RoleCatalog {
  /** Every valid role name. */
  readonly names: readonly string[];
  /**
   * The clinical scopes (as scope strings, e.g. `user/*.rs`) the given roles together allow: their
   * union; empty for none.
   */
  limits(roles: readonly string[]): string[];
}

/** A role in microsoft/fhir-server's roles.json shape. */
export interface RoleDefinition {
  readonly name: string;
  readonly dataActions: readonly string[];
  readonly notDataActions?: readonly string[] | undefined;
}

export const BUILT_IN_ROLES: readonly RoleDefinition[] = [
  { name: 'fhir-data-reader', dataActions: ['read'] },
  { name: 'fhir-data-writer', dataActions: ['read', 'write', 'delete'] },
  { name: 'fhir-data-contributor', dataActions: ['*'] },
  { name: 'fhir-data-exporter', dataActions: ['read', 'export'] },
  { name: 'fhir-data-importer', dataActions: ['import'] },
  { name: 'fhir-smart-user', dataActions: ['smart'] },
  { name: 'fhir-audit-reader', dataActions: ['auditRead'] },
];

const LETTERS: Record<string, string> = {
  '*': 'cruds',
  read: 'rs',
  write: 'cu',
  delete: 'd',
  hardDelete: 'd',
};
const ORDER = ['c', 'r', 'u', 'd', 's'];

function letters(actions: readonly string[]): Set<string> {
  const out = new Set<string>();
  for (const a of actions) for (const l of LETTERS[a] ?? '') out.add(l);
  return out;
}

/** The scope strings one role allows. */
export function roleLimits(role: RoleDefinition): string[] {
  const not = letters(role.notDataActions ?? []);
  const allowed = [...letters(role.dataActions)].filter((l) => !not.has(l));
  const perms = ORDER.filter((l) => allowed.includes(l)).join('');
  const out: string[] = [];
  if (perms !== '') for (const ctx of ['patient', 'user', 'system']) out.push(`${ctx}/*.${perms}`);
  if (role.dataActions.includes('smart') || role.dataActions.includes('*')) {
    for (const ctx of ['patient', 'user']) out.push(`${ctx}/*.cruds`);
  }
  if (role.dataActions.includes('auditRead') || role.dataActions.includes('*')) {
    for (const ctx of ['user', 'system']) out.push(`${ctx}/AuditEvent.rs`);
  }
  return [...new Set(out)];
}

export function roleCatalog(definitions: readonly RoleDefinition[]): RoleCatalog {
  const byName = new Map(definitions.map((d) => [d.name, roleLimits(d)]));
  return {
    names: [...byName.keys()],
    limits: (roles) => [...new Set(roles.flatMap((r) => byName.get(r) ?? []))],
  };
}

function isRoleDefinition(v: unknown): v is RoleDefinition {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  const strings = (x: unknown) => Array.isArray(x) && x.every((s) => typeof s === 'string');
  return (
    typeof r['name'] === 'string' &&
    strings(r['dataActions']) &&
    (r['notDataActions'] === undefined || strings(r['notDataActions']))
  );
}

/** The built-in roles plus those of ROLES_FILE (`{"roles":[{name, dataActions, notDataActions}]}`). */
export function loadRoleCatalog(rolesFile: string | undefined): RoleCatalog {
  if (rolesFile === undefined) return roleCatalog(BUILT_IN_ROLES);
  const parsed: unknown = JSON.parse(fs.readFileSync(rolesFile, 'utf8'));
  const list = (parsed as { roles?: unknown }).roles;
  if (!Array.isArray(list) || !list.every(isRoleDefinition)) {
    throw new Error(`ROLES_FILE ${rolesFile}: expected {"roles":[{"name","dataActions":[…]}]}`);
  }
  const custom = list.filter((r) => !BUILT_IN_ROLES.some((b) => b.name === r.name));
  return roleCatalog([...BUILT_IN_ROLES, ...custom]);
}
