/**
 * The launch UI: clinician home and EHR launcher at `/`, styled interaction pages for auth, and the
 * sample SMART app at `/apps/sample/`. The only entry other folders import.
 */
export { createLaunchUi } from './create-launch-ui.js';
export { createInteractionViews } from './views/interaction-views.js';
export { describeScope } from './scope-text.js';
export { SAMPLE_APP, sampleAppUrls } from './sample-app.js';
export type { LaunchUiAuth, LaunchUiOptions } from './types.js';
export {
  createFhirPatientSearch,
  summarisePatient,
  type FetchSearchBundle,
  type FhirPatientSearchOptions,
} from './fhir-patient-search.js';
