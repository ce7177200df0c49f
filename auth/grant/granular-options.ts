import { formatScope, type ClinicalScope } from '../scopes/index.js';

/**
 * Narrower category scopes the consent page offers (unchecked) beside a whole-type scope, e.g.
 * `patient/Observation.rs?category=…|laboratory` for `patient/Observation.rs` (SMART 2.2 granular
 * scopes; the categories US Core and ONC (g)(10) ask for).
 */
const OBSERVATION = 'http://terminology.hl7.org/CodeSystem/observation-category';
const US_CORE = 'http://hl7.org/fhir/us/core/CodeSystem/us-core-category';
const CONDITION = 'http://terminology.hl7.org/CodeSystem/condition-category';
const US_CORE_CONDITION = 'http://hl7.org/fhir/us/core/CodeSystem/condition-category';

export const CATEGORIES: Readonly<Record<string, readonly { code: string; label: string }[]>> = {
  Observation: [
    { code: `${OBSERVATION}|laboratory`, label: 'laboratory results' },
    { code: `${OBSERVATION}|vital-signs`, label: 'vital signs' },
    { code: `${OBSERVATION}|social-history`, label: 'social history' },
    { code: `${OBSERVATION}|survey`, label: 'surveys' },
    { code: `${OBSERVATION}|imaging`, label: 'imaging' },
    { code: `${OBSERVATION}|exam`, label: 'exam findings' },
    { code: `${US_CORE}|sdoh`, label: 'social determinants of health' },
  ],
  Condition: [
    { code: `${CONDITION}|encounter-diagnosis`, label: 'encounter diagnoses' },
    { code: `${CONDITION}|problem-list-item`, label: 'problem list' },
    { code: `${US_CORE_CONDITION}|health-concern`, label: 'health concerns' },
  ],
};

export interface GranularOption {
  readonly value: string;
  readonly label: string;
  /** The whole-type scope it narrows. */
  readonly narrows: string;
}

/** The category alternatives for one granted whole-type scope; none for others. */
export function granularOptions(scope: ClinicalScope): GranularOption[] {
  const categories = CATEGORIES[scope.resourceType];
  if (categories === undefined || scope.query.length > 0) return [];
  const narrows = formatScope(scope);
  return categories.map((c) => ({
    value: formatScope({ ...scope, version: 2, query: [['category', c.code]] }),
    label: `${scope.resourceType}: ${c.label} only`,
    narrows,
  }));
}
