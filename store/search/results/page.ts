import type { OutcomeIssue } from '../../fhir/outcome.js';

/** What the REST layer needs to answer a search: render with renderSearchBundle(). */

export interface PageEntry {
  type: string;
  id: string;
  version: number;
  /** The JSON text returned: the stored text, verbatim (or trimmed by `_summary` / `_elements`). */
  json: string;
  /**
   * The stored text, never trimmed: what the audit's disclosure is read from (a trimmed
   * Observation may no longer name its patient, but its patient's data was still disclosed).
   */
  stored: string;
  mode: 'match' | 'include';
}

export interface PageLink {
  relation: 'self' | 'first' | 'previous' | 'next' | 'last';
  url: string;
}

export interface SearchPage {
  entries: PageEntry[];
  total: number | undefined;
  links: PageLink[];
  /** Warnings (ignored parameters, truncated includes); rendered as an OperationOutcome entry. */
  issues: OutcomeIssue[];
  /** `Type/id/_history/version` of every disclosed resource (for `x-hearth-entities`). */
  entities: string[];
}
