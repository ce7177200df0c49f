/** The shape of a search parameter as Hearth uses it: one parameter for one resource type. */

export type ParamType =
  | 'string'
  | 'token'
  | 'date'
  | 'reference'
  | 'quantity'
  | 'number'
  | 'uri'
  | 'composite'
  | 'special';

export interface ParamComponent {
  /** The component parameter (resolved from its canonical URL, for the same resource type). */
  readonly param: SearchParam;
  /** FHIRPath relative to each node the composite's expression selects. */
  readonly expression: string;
}

export interface SearchParam {
  /** `Observation.code`: the key of this parameter's rows in the index tables. */
  readonly key: string;
  readonly resourceType: string;
  readonly code: string;
  readonly type: ParamType;
  readonly url: string;
  /** This type's branches of the definition's expression, or undefined when it has none. */
  readonly expression: string | undefined;
  /** Target resource types of a reference parameter. */
  readonly target: readonly string[];
  readonly components: readonly ParamComponent[];
  /** True for a parameter from a SearchParameter resource stored on this server. */
  readonly custom: boolean;
  /**
   * The parameters this one is the union of, when its expression's branches are exactly theirs
   * (`Observation.combo-code` = `code` | `component-code`): its own rows are never written and
   * search reads theirs (see `SearchRegistry`). Undefined for every other parameter.
   */
  readonly union?: readonly SearchParam[];
  /**
   * For a composite on the resource itself (one tuple per resource) whose every component selects
   * exactly what another shipped parameter does (`Observation.code-value-quantity`: `code` and
   * `value-quantity`): those parameters, one per component. Its own rows are never written and
   * search reads theirs (see `SearchRegistry`). Undefined for every other parameter.
   */
  readonly componentRows?: readonly SearchParam[];
  /**
   * For a reference parameter that selects another's references to one type
   * (`Observation.patient` = `Observation.subject.where(resolve() is Patient)`): that parameter and
   * the type. Its own rows are never written; search reads that parameter's rows to the type (see
   * `SearchRegistry`). Undefined for every other parameter.
   */
  readonly rowsOf?: { readonly param: SearchParam; readonly targetType: string };
}

/** The keys of the index rows a parameter's values are in: its own, or its union's members'. */
export function rowKeys(param: SearchParam): string[] {
  return param.union?.map((m) => m.key) ?? [param.key];
}

/** The raw fields of an R4 SearchParameter resource that search reads. */
export interface SearchParameterResource {
  resourceType: 'SearchParameter';
  id?: string;
  url?: string;
  code?: string;
  base?: string[];
  type?: string;
  status?: string;
  expression?: string;
  target?: string[];
  component?: { definition?: string; expression?: string }[];
}
