/* A small SVG line chart (no library): series of {label, colour, points: [{t: ms, v: number}]}. */
(function () {
  'use strict';
  var NS = 'http://www.w3.org/2000/svg';

  function el(name, attrs, text) {
    var node = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) {
      node.setAttribute(k, String(attrs[k]));
    });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function lineChart(title, series, unit) {
    var width = 560;
    var height = 220;
    var pad = { left: 44, right: 12, top: 12, bottom: 28 };
    var all = [];
    series.forEach(function (s) {
      all = all.concat(s.points);
    });
    var svg = el('svg', {
      viewBox: '0 0 ' + width + ' ' + height,
      role: 'img',
      class: 'chart',
      'aria-label': title,
    });
    svg.appendChild(el('title', {}, title));
    if (all.length === 0) return svg;
    var tMin = Math.min.apply(
      null,
      all.map(function (p) {
        return p.t;
      }),
    );
    var tMax = Math.max.apply(
      null,
      all.map(function (p) {
        return p.t;
      }),
    );
    var vMin = Math.min.apply(
      null,
      all.map(function (p) {
        return p.v;
      }),
    );
    var vMax = Math.max.apply(
      null,
      all.map(function (p) {
        return p.v;
      }),
    );
    var span = vMax - vMin || 1;
    vMin = Math.floor(vMin - span * 0.1);
    vMax = Math.ceil(vMax + span * 0.1);
    var x = function (t) {
      return (
        pad.left +
        (tMax === tMin ? 0.5 : (t - tMin) / (tMax - tMin)) * (width - pad.left - pad.right)
      );
    };
    var y = function (v) {
      return height - pad.bottom - ((v - vMin) / (vMax - vMin)) * (height - pad.top - pad.bottom);
    };
    for (var i = 0; i <= 4; i++) {
      var v = vMin + ((vMax - vMin) * i) / 4;
      svg.appendChild(
        el('line', {
          x1: pad.left,
          x2: width - pad.right,
          y1: y(v),
          y2: y(v),
          stroke: '#d9dee4',
          'stroke-width': 1,
        }),
      );
      svg.appendChild(
        el(
          'text',
          { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#4f5d6b' },
          String(Math.round(v)),
        ),
      );
    }
    [tMin, tMax].forEach(function (t, j) {
      svg.appendChild(
        el(
          'text',
          {
            x: x(t),
            y: height - 8,
            'text-anchor': j === 0 ? 'start' : 'end',
            'font-size': 11,
            fill: '#4f5d6b',
          },
          new Date(t).toISOString().slice(0, 10),
        ),
      );
    });
    series.forEach(function (s) {
      var pts = s.points.slice().sort(function (a, b) {
        return a.t - b.t;
      });
      var d = pts
        .map(function (p, k) {
          return (k === 0 ? 'M' : 'L') + x(p.t).toFixed(1) + ' ' + y(p.v).toFixed(1);
        })
        .join(' ');
      svg.appendChild(
        el('path', {
          d: d,
          fill: 'none',
          stroke: s.colour,
          'stroke-width': 2.5,
          'stroke-linejoin': 'round',
        }),
      );
      pts.forEach(function (p) {
        var dot = el('circle', { cx: x(p.t), cy: y(p.v), r: 3.5, fill: s.colour });
        dot.appendChild(
          el(
            'title',
            {},
            s.label +
              ' ' +
              p.v +
              (unit ? ' ' + unit : '') +
              ' on ' +
              new Date(p.t).toISOString().slice(0, 10),
          ),
        );
        svg.appendChild(dot);
      });
    });
    return svg;
  }

  window.HearthChart = { lineChart: lineChart };
})();
