/* Hearth sample SMART app: reads the launched patient's record through the FHIR API (fhirclient). */
(function () {
  'use strict';

  var VITALS = [
    { code: '8867-4', label: 'Heart rate' },
    { code: '85354-9', label: 'Blood pressure' },
    { code: '8310-5', label: 'Temperature' },
    { code: '29463-7', label: 'Weight' },
    { code: '8302-2', label: 'Height' },
    { code: '39156-5', label: 'BMI' },
  ];

  function $(id) {
    return document.getElementById(id);
  }

  function h(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      node.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
    });
    return node;
  }

  function show(id) {
    ['loading', 'error', 'welcome', 'record'].forEach(function (s) {
      $(s).hidden = s !== id;
    });
  }

  function fail(message, code) {
    $('error-message').textContent = message;
    if (code) $('error').setAttribute('data-error', code);
    show('error');
  }

  function codeOf(o) {
    var c = o.code && o.code.coding && o.code.coding[0];
    return c ? c.code : '';
  }

  function textOf(cc) {
    if (!cc) return '';
    return (
      cc.text || (cc.coding && cc.coding[0] && (cc.coding[0].display || cc.coding[0].code)) || ''
    );
  }

  function quantity(q) {
    return q ? q.value + ' ' + (q.unit || q.code || '') : '';
  }

  function day(s) {
    return s ? String(s).slice(0, 10) : '';
  }

  function time(o) {
    return (
      Date.parse(
        o.effectiveDateTime || (o.effectivePeriod && o.effectivePeriod.start) || o.issued || '',
      ) || 0
    );
  }

  function table(headers, rows, caption, nowrap) {
    var keep = nowrap || [];
    return h('div', { class: 'table-wrap' }, [
      h('table', { class: 'data' }, [
        h('caption', { class: 'visually-hidden' }, [caption]),
        h('thead', {}, [
          h(
            'tr',
            {},
            headers.map(function (x) {
              return h('th', { scope: 'col' }, [x]);
            }),
          ),
        ]),
        h(
          'tbody',
          {},
          rows.map(function (r) {
            return h(
              'tr',
              {},
              r.map(function (c, i) {
                return h('td', keep.indexOf(i) >= 0 ? { class: 'nowrap' } : {}, [c]);
              }),
            );
          }),
        ),
      ]),
    ]);
  }

  function empty(text) {
    return h('p', { class: 'muted' }, [text]);
  }

  function section(id, promise, render) {
    return promise.then(
      function (items) {
        $(id).replaceChildren(render(items));
      },
      function (err) {
        var status = err && err.status;
        $(id).replaceChildren(
          empty(
            status === 403 || status === 401
              ? 'Not shared with this app.'
              : 'Could not load: ' + (err && err.message ? err.message : 'error'),
          ),
        );
      },
    );
  }

  function patientName(p) {
    var n = (p.name || [])[0] || {};
    return (
      n.text || [(n.given || []).join(' '), n.family].filter(Boolean).join(' ') || 'Unnamed patient'
    );
  }

  function age(birthDate) {
    var b = Date.parse(birthDate);
    return b ? Math.floor((Date.now() - b) / (365.25 * 86400000)) : undefined;
  }

  function renderPatient(p) {
    $('patient-name').textContent = patientName(p);
    var mrn =
      (p.identifier || []).find(function (i) {
        return i.type && textOf(i.type) === 'MRN';
      }) || (p.identifier || [])[0];
    var facts = [
      [
        'Born',
        p.birthDate
          ? p.birthDate +
            (age(p.birthDate) !== undefined ? ' (' + age(p.birthDate) + ' years)' : '')
          : '—',
      ],
      ['Gender', p.gender || '—'],
      ['MRN', mrn ? mrn.value : '—'],
    ];
    $('patient-facts').replaceChildren.apply(
      $('patient-facts'),
      facts.map(function (f) {
        return h('div', {}, [h('dt', {}, [f[0]]), h('dd', {}, [f[1]])]);
      }),
    );
  }

  function renderVitals(obs) {
    if (obs.length === 0) return empty('No vital signs recorded.');
    var latest = VITALS.map(function (v) {
      var o = obs
        .filter(function (x) {
          return codeOf(x) === v.code;
        })
        .sort(function (a, b) {
          return time(b) - time(a);
        })[0];
      if (!o) return null;
      var value =
        v.code === '85354-9'
          ? (o.component || [])
              .map(function (c) {
                return c.valueQuantity ? c.valueQuantity.value : '?';
              })
              .join('/') + ' mmHg'
          : quantity(o.valueQuantity);
      return [v.label, value, day(o.effectiveDateTime)];
    }).filter(Boolean);
    var bp = obs.filter(function (o) {
      return codeOf(o) === '85354-9';
    });
    var part = function (code) {
      return bp
        .map(function (o) {
          var c = (o.component || []).find(function (x) {
            return codeOf(x) === code;
          });
          return c && c.valueQuantity ? { t: time(o), v: c.valueQuantity.value } : null;
        })
        .filter(Boolean);
    };
    var hr = obs
      .filter(function (o) {
        return codeOf(o) === '8867-4' && o.valueQuantity;
      })
      .map(function (o) {
        return { t: time(o), v: o.valueQuantity.value };
      });
    var chart = window.HearthChart.lineChart('Blood pressure and heart rate over time', [
      { label: 'Systolic', colour: '#0a5a8a', points: part('8480-6') },
      { label: 'Diastolic', colour: '#5b9bd5', points: part('8462-4') },
      { label: 'Heart rate', colour: '#d9622b', points: hr },
    ]);
    var legend = h('ul', { class: 'legend' }, [
      h('li', { class: 'sys' }, ['Systolic (mmHg)']),
      h('li', { class: 'dia' }, ['Diastolic (mmHg)']),
      h('li', { class: 'hr' }, ['Heart rate (/min)']),
    ]);
    var wrap = h('div', {}, [
      table(['Measure', 'Latest', 'Date'], latest, 'Latest vital signs', [1, 2]),
      chart,
      legend,
    ]);
    return wrap;
  }

  function renderLabs(obs) {
    if (obs.length === 0) return empty('No lab results recorded.');
    return table(
      ['Date', 'Test', 'Result', 'Flag'],
      obs.slice(0, 12).map(function (o) {
        var flag =
          o.interpretation &&
          o.interpretation[0] &&
          o.interpretation[0].coding &&
          o.interpretation[0].coding[0];
        return [
          day(o.effectiveDateTime),
          textOf(o.code),
          quantity(o.valueQuantity),
          flag && flag.code !== 'N' ? flag.display || flag.code : '',
        ];
      }),
      'Lab results',
      [0, 2],
    );
  }

  function renderConditions(items) {
    if (items.length === 0) return empty('No conditions recorded.');
    return table(
      ['Condition', 'Status', 'Since'],
      items.map(function (c) {
        return [textOf(c.code), textOf(c.clinicalStatus), day(c.onsetDateTime || c.recordedDate)];
      }),
      'Conditions',
      [2],
    );
  }

  function renderMedications(items) {
    if (items.length === 0) return empty('No medications recorded.');
    return table(
      ['Medication', 'Status', 'Prescribed', 'Instructions'],
      items.map(function (m) {
        var dose = m.dosageInstruction && m.dosageInstruction[0] && m.dosageInstruction[0].text;
        return [textOf(m.medicationCodeableConcept), m.status || '', day(m.authoredOn), dose || ''];
      }),
      'Medications',
      [2],
    );
  }

  function search(client, query) {
    return client.request(query, { pageLimit: 1, flat: true });
  }

  function start() {
    var params = new URLSearchParams(location.search);
    if (params.get('error')) {
      fail(
        'Access was not granted (' +
          params.get('error') +
          '): ' +
          (params.get('error_description') || 'the authorization server refused.'),
        params.get('error'),
      );
      return;
    }
    if (!params.get('code') && !sessionStorage.getItem('SMART_KEY')) {
      show('welcome');
      return;
    }
    FHIR.oauth2
      .ready()
      .then(function (client) {
        var pid = client.patient.id;
        if (!pid) throw new Error('the app was not given a patient');
        var token = client.state.tokenResponse || {};
        $('granted-scope').textContent = token.scope || '';
        $('record').setAttribute('data-granted-scope', token.scope || '');
        $('record').setAttribute('data-patient-id', pid);
        var who = client.user && client.user.resourceType;
        if (who) {
          $('user').textContent =
            who === 'Patient' ? 'Signed in as the patient' : 'Signed in as a ' + who.toLowerCase();
        }
        return client.patient.read().then(function (p) {
          renderPatient(p);
          show('record');
          var obs = 'Observation?patient=' + encodeURIComponent(pid) + '&_sort=-date&_count=';
          return Promise.all([
            section('vitals', search(client, obs + '60&category=vital-signs'), renderVitals),
            section('labs', search(client, obs + '20&category=laboratory'), renderLabs),
            section(
              'conditions',
              search(client, 'Condition?patient=' + encodeURIComponent(pid) + '&_count=50'),
              renderConditions,
            ),
            section(
              'medications',
              search(client, 'MedicationRequest?patient=' + encodeURIComponent(pid) + '&_count=50'),
              renderMedications,
            ),
          ]);
        });
      })
      .then(
        function () {
          document.body.setAttribute('data-ready', 'true');
        },
        function (err) {
          fail(
            'The record could not be loaded: ' + (err && err.message ? err.message : String(err)),
          );
        },
      );
  }

  start();
})();
