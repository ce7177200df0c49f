/* Hearth sample SMART app: launch page (EHR launch with ?iss&launch, or standalone without). */
(function () {
  'use strict';

  function fail(message) {
    var box = document.getElementById('error');
    box.textContent = message;
    box.hidden = false;
    document.getElementById('status').textContent = 'The app could not start.';
  }

  fetch('config.json', { credentials: 'same-origin' })
    .then(function (r) {
      if (!r.ok) throw new Error('configuration unavailable (' + r.status + ')');
      return r.json();
    })
    .then(function (cfg) {
      if (!cfg.clientId) {
        fail(
          'The sample app is not registered with this server yet. Run "npm run demo" to register it.',
        );
        return;
      }
      var params = new URLSearchParams(location.search);
      var iss = params.get('iss');
      var ehr = params.has('launch');
      if (iss && iss.replace(/\/+$/, '') !== cfg.fhirBaseUrl) {
        fail('This sample app only connects to ' + cfg.fhirBaseUrl + '.');
        return;
      }
      var options = {
        clientId: cfg.clientId,
        scope: cfg.scope + (ehr ? ' launch' : ' launch/patient'),
        redirectUri: cfg.redirectUri,
        pkceMode: 'required',
      };
      if (!iss) options.iss = cfg.fhirBaseUrl;
      return FHIR.oauth2.authorize(options);
    })
    .catch(function (err) {
      fail('The app could not start: ' + (err && err.message ? err.message : String(err)));
    });
})();
