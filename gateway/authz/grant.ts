/** SMART v2 permissions. */
export type Permission = 'c' | 'r' | 'u' | 'd' | 's';

/** One clinical-data scope of a token, in the form authorization works with. */
export interface Grant {
  context: 'patient' | 'user' | 'system';
  /** A resource type, or `*`. */
  resourceType: string;
  permissions: ReadonlySet<Permission>;
  /** A v2 granular filter (`category=http://…|laboratory`), or undefined for the whole type. */
  query: string | undefined;
  /** The scope as granted. */
  scope: string;
}

/** Access to one type: confined to a compartment and/or to any of some filters. Empty: all of it. */
export interface Access {
  compartment?: string;
  anyOf?: string[];
}
