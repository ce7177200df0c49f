/**
 * Data actions: the permissions a role grants, named as in Azure API for FHIR / microsoft/fhir-server
 * (`read`, `write`, `delete`, `hardDelete`, `export`, … plus the SMART v2 granular `readById`,
 * `search`, `create`, `update`), and Hearth's `auditRead` for `/fhir/AuditEvent`.
 */
export const DATA_ACTIONS = [
  'read',
  'readById',
  'search',
  'write',
  'create',
  'update',
  'delete',
  'hardDelete',
  'purgeHistory',
  'export',
  'import',
  'resourceValidate',
  'reindex',
  'convertData',
  'editProfileDefinitions',
  'searchParameter',
  'bulkOperator',
  'smart',
  'auditRead',
] as const;

export type DataAction = (typeof DATA_ACTIONS)[number];

export function isDataAction(s: string): s is DataAction {
  return (DATA_ACTIONS as readonly string[]).includes(s);
}

/** What `*` grants: every data action except `smart` (as in microsoft/fhir-server) and `auditRead`. */
const WILDCARD: readonly DataAction[] = DATA_ACTIONS.filter(
  (a) => a !== 'smart' && a !== 'auditRead',
);

/** Legacy actions that include the granular ones (`read` includes search and read-by-id). */
const IMPLIES: Partial<Record<DataAction, readonly DataAction[]>> = {
  read: ['readById', 'search'],
  write: ['create', 'update'],
};

/** A data action as a role names it: one of the vocabulary, or `*`. */
export type DataActionName = DataAction | '*';

export function isDataActionName(s: string): s is DataActionName {
  return s === '*' || isDataAction(s);
}

/** Expands `*` and the legacy umbrella actions into the full set. */
export function expandActions(actions: readonly string[]): Set<DataAction> {
  const out = new Set<DataAction>();
  const add = (a: DataAction): void => {
    out.add(a);
    for (const implied of IMPLIES[a] ?? []) out.add(implied);
  };
  for (const a of actions) {
    if (a === '*') WILDCARD.forEach(add);
    else if (isDataAction(a)) add(a);
  }
  return out;
}

/** What a role may do: its data actions, expanded, less its expanded `notDataActions`. */
export function effectiveActions(role: {
  readonly dataActions: readonly string[];
  readonly notDataActions: readonly string[];
}): Set<DataAction> {
  const actions = expandActions(role.dataActions);
  for (const denied of expandActions(role.notDataActions)) actions.delete(denied);
  return actions;
}
