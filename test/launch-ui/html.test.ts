import assert from 'node:assert/strict';
import { html } from '../../launch-ui/html.js';
import { createInteractionViews, describeScope } from '../../launch-ui/index.js';

describe('launch UI templates', () => {
  it('escapes every interpolated value', () => {
    const evil = `<script>alert("x")</script>' onmouseover='x' \``;
    assert.equal(
      html`<p title="${evil}">${evil}</p>`.value,
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &#96;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &#96;</p>',
    );
  });

  it('keeps nested templates and lists as markup, and drops null, undefined and false', () => {
    const items = ['a<b', 'c'].map((x) => html`<li>${x}</li>`);
    assert.equal(
      html`<ul>
        ${items}${null}${undefined}${false}
      </ul>`.value.replace(/\s+/g, ''),
      '<ul><li>a&lt;b</li><li>c</li></ul>',
    );
  });

  it('escapes an app name and a patient name on the consent page', () => {
    const page = createInteractionViews().consent({
      action: '/auth/interaction/x/consent',
      csrf: { name: 'csrf', value: 't' },
      client: { clientId: 'c', name: '<img src=x onerror=alert(1)>' },
      user: { username: 'dr"who' },
      patient: '<b>Pat</b>',
      scopes: [{ value: 'patient/Observation.rs', label: '<i>x</i>', checked: true }],
      offline: false,
    });
    assert.ok(!page.includes('<img src=x'));
    assert.ok(!page.includes('<b>Pat</b>'));
    assert.ok(page.includes('dr&quot;who'));
    assert.ok(!/<script>|style=/.test(page), 'no inline script or style');
  });

  it('describes scopes in plain language for patients and clinicians', () => {
    const lab =
      'patient/Observation.rs?category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory';
    assert.equal(describeScope(lab, true), 'Read your lab results');
    assert.equal(describeScope(lab, false), "Read this patient's lab results");
    assert.equal(describeScope('patient/MedicationRequest.read', true), 'Read your prescriptions');
    assert.equal(
      describeScope('user/Condition.cruds', false),
      'Read and change conditions and diagnoses you can access',
    );
    assert.equal(
      describeScope('offline_access', true),
      'Keep access after you close the app, until you revoke it',
    );
    assert.equal(
      describeScope('patient/Observation.rs?code=http://loinc.org|8302-2', true),
      undefined,
    );
  });
});
