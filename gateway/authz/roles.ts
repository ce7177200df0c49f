import {
  effectiveActions,
  readRolesFile,
  roleDefinitions,
  type DataAction,
  type RoleDefinition,
} from '../../auth/roles/index.js';

interface CompiledRole {
  def: RoleDefinition;
  actions: ReadonlySet<DataAction>;
  types: ReadonlySet<string> | undefined;
}

/**
 * What the gateway enforces: the role definitions (auth/roles: the built-in ones plus custom ones,
 * a custom role may not redefine a built-in) compiled to their effective data actions and types.
 */
export class RoleSet {
  /** The definitions this set enforces, built-in ones first; auth derives its role limits from them. */
  readonly definitions: readonly RoleDefinition[];
  private readonly roles = new Map<string, CompiledRole>();

  constructor(custom: readonly RoleDefinition[] = []) {
    this.definitions = roleDefinitions(custom);
    for (const def of this.definitions) {
      this.roles.set(def.name, {
        def,
        actions: effectiveActions(def),
        types: def.resourceTypes === undefined ? undefined : new Set(def.resourceTypes),
      });
    }
  }

  /** The built-in roles plus those of ROLES_FILE; throws a RolesFileError naming the fault. */
  static fromFile(file: string | undefined): RoleSet {
    return new RoleSet(readRolesFile(file));
  }

  /** Whether any of `roleNames` grants `action` (on `resourceType`, when the action concerns one). */
  allows(roleNames: readonly string[], action: DataAction, resourceType?: string): boolean {
    return roleNames.some((name) => {
      const role = this.roles.get(name);
      if (role?.actions.has(action) !== true) return false;
      return role.types === undefined || resourceType === undefined || role.types.has(resourceType);
    });
  }

  /** Every role with its effective data actions, for `hearth roles`. */
  list(): {
    name: string;
    description: string;
    builtIn: boolean;
    dataActions: DataAction[];
    notDataActions: string[];
    resourceTypes?: string[];
  }[] {
    return [...this.roles.values()].map(({ def, actions }) => ({
      name: def.name,
      description: def.description,
      builtIn: def.builtIn,
      dataActions: [...actions],
      notDataActions: [...def.notDataActions],
      ...(def.resourceTypes === undefined ? {} : { resourceTypes: [...def.resourceTypes] }),
    }));
  }
}
