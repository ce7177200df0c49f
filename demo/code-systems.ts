/** Canonical code-system URIs used by the generator. */
export const SYSTEM = {
  snomed: 'http://snomed.info/sct',
  loinc: 'http://loinc.org',
  rxnorm: 'http://www.nlm.nih.gov/research/umls/rxnorm',
  cvx: 'http://hl7.org/fhir/sid/cvx',
  ucum: 'http://unitsofmeasure.org',
  npi: 'http://hl7.org/fhir/sid/us-npi',
  observationCategory: 'http://terminology.hl7.org/CodeSystem/observation-category',
  conditionCategory: 'http://terminology.hl7.org/CodeSystem/condition-category',
  conditionClinical: 'http://terminology.hl7.org/CodeSystem/condition-clinical',
  conditionVerification: 'http://terminology.hl7.org/CodeSystem/condition-ver-status',
  allergyClinical: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical',
  allergyVerification: 'http://terminology.hl7.org/CodeSystem/allergyintolerance-verification',
  actCode: 'http://terminology.hl7.org/v3-ActCode',
  identifierType: 'http://terminology.hl7.org/CodeSystem/v2-0203',
  maritalStatus: 'http://terminology.hl7.org/CodeSystem/v3-MaritalStatus',
  organizationType: 'http://terminology.hl7.org/CodeSystem/organization-type',
  interpretation: 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation',
  language: 'urn:ietf:bcp:47',
  /** Hearth demo identifier namespaces (medical record numbers of the demo hospital). */
  mrn: 'urn:oid:2.16.840.1.113883.19.5.99999.1',
  orgId: 'urn:oid:2.16.840.1.113883.19.5.99999.2',
} as const;
