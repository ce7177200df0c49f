import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isResourceType } from '../../store/index.js';
import type { RoleDefinition } from './built-in-roles.js';
import { isDataActionName, type DataActionName } from './data-actions.js';

const roleFileSchema = z.object({
  roles: z.array(
    z.object({
      name: z.string().min(1).max(128),
      description: z.string().optional(),
      dataActions: z.array(z.string()),
      notDataActions: z.array(z.string()).default([]),
      scopes: z.array(z.string()).default(['/']),
      resourceTypes: z.array(z.string()).optional(),
    }),
  ),
});

type RoleEntry = z.infer<typeof roleFileSchema>['roles'][number];

export class RolesFileError extends Error {
  override readonly name = 'RolesFileError';
}

function actionsOf(r: RoleEntry, actions: readonly string[], source: string): DataActionName[] {
  return actions.map((a) => {
    if (!isDataActionName(a))
      throw new RolesFileError(`${source}: role ${r.name}: unknown data action "${a}"`);
    return a;
  });
}

function toDefinition(r: RoleEntry, source: string): RoleDefinition {
  const dataActions = actionsOf(r, r.dataActions, source);
  const notDataActions = actionsOf(r, r.notDataActions, source);
  if (r.scopes.some((s) => s !== '/')) {
    throw new RolesFileError(`${source}: role ${r.name}: only the scope "/" is supported`);
  }
  for (const t of r.resourceTypes ?? []) {
    if (!isResourceType(t))
      throw new RolesFileError(`${source}: role ${r.name}: unknown resource type "${t}"`);
  }
  return {
    name: r.name,
    description: r.description ?? 'custom role',
    dataActions,
    notDataActions,
    ...(r.resourceTypes === undefined ? {} : { resourceTypes: r.resourceTypes }),
    builtIn: false,
  };
}

/**
 * Parses a roles.json document (microsoft/fhir-server shape: `{"roles":[{name, dataActions,
 * notDataActions, scopes}]}`, plus Hearth's `resourceTypes`); throws a RolesFileError naming the fault.
 */
export function parseRolesFile(text: string, source = 'ROLES_FILE'): RoleDefinition[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new RolesFileError(`${source}: not JSON (${(err as Error).message})`);
  }
  const parsed = roleFileSchema.safeParse(json);
  if (!parsed.success) {
    const first = parsed.error.issues[0];
    throw new RolesFileError(
      `${source}: ${first?.path.join('.') ?? ''} ${first?.message ?? 'invalid'}`,
    );
  }
  return parsed.data.roles.map((r) => toDefinition(r, source));
}

/** The custom roles of ROLES_FILE; none when it is unset. Throws a RolesFileError naming the fault. */
export function readRolesFile(file: string | undefined): RoleDefinition[] {
  if (file === undefined) return [];
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RolesFileError(`ROLES_FILE ${file}: ${(err as Error).message}`);
  }
  return parseRolesFile(text, `ROLES_FILE ${file}`);
}
