/** The built-in sample SMART app served at `/apps/sample/`, as the demo registers it. */
export const SAMPLE_APP = {
  name: 'Hearth sample app',
  /** Path (under PUBLIC_URL) of the app; its redirect URI. */
  path: '/apps/sample/',
  /** Path of its SMART launch page (EHR launch: `?iss=…&launch=…`; standalone: no parameters). */
  launchPath: '/apps/sample/launch.html',
  /** What it asks for at launch (EHR launch adds `launch`, standalone `launch/patient`). */
  scope:
    'openid fhirUser online_access patient/Patient.rs patient/Observation.rs patient/Condition.rs patient/MedicationRequest.rs',
  /** What it may be granted (registered on the client). */
  allowedScope: 'openid fhirUser launch launch/patient online_access offline_access patient/*.rs',
} as const;

export function sampleAppUrls(publicUrl: string): { redirectUri: string; launchUri: string } {
  return {
    redirectUri: `${publicUrl}${SAMPLE_APP.path}`,
    launchUri: `${publicUrl}${SAMPLE_APP.launchPath}`,
  };
}
