/* Clinician home: warns a minute before the idle sign-out, then reloads so the server ends the session. */
(function () {
  'use strict';
  var main = document.getElementById('main');
  var seconds = Number(main && main.getAttribute('data-idle-seconds'));
  if (!seconds) return;
  var warnAt = Math.max(seconds - 60, Math.floor(seconds / 2));
  setTimeout(function () {
    var box = document.getElementById('idle-warning');
    if (box) box.hidden = false;
  }, warnAt * 1000);
  setTimeout(
    function () {
      location.reload();
    },
    (seconds + 2) * 1000,
  );
  var stay = document.getElementById('stay-signed-in');
  if (stay) {
    stay.addEventListener('click', function () {
      location.reload();
    });
  }
})();
