// gate.js: the door's scanner. Loaded with defer on /gate only; no
// framework, no build step.
//
// The set-up page remembers the performance and the door on the device
// (localStorage) and goes straight to the scanner next time. The scanner
// sends every token it reads (typed by a keyboard-wedge scanner ending in
// Enter, or picked from the manual lookup) to POST /gate/scan as JSON,
// shows the server's verdict over the whole screen with a sound and a
// vibration, and is ready for the next ticket two seconds later without a
// tap.
(function () {
  "use strict";

  var STORE_KEY = "festa.gate";
  var HOLD_MS = 2000; // how long a verdict fills the screen

  function remembered() {
    try {
      return JSON.parse(localStorage.getItem(STORE_KEY) || "null");
    } catch (e) {
      return null;
    }
  }
  function remember(performance, gate) {
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify({ performance: performance, gate: gate }));
    } catch (e) {
      // Private mode or a full disk: the door is asked again next time.
    }
  }
  function scannerURL(performance, gate) {
    return "/gate?performance=" + encodeURIComponent(performance) + "&gate=" + encodeURIComponent(gate);
  }

  // ------------------------------------------------------------- set-up

  var setup = document.getElementById("gate-setup");
  if (setup) {
    var saved = remembered();
    var params = new URLSearchParams(location.search);
    if (saved && saved.performance && saved.gate && !params.has("change") && !params.has("performance")) {
      location.replace(scannerURL(saved.performance, saved.gate));
      return;
    }
    var name = setup.querySelector('input[name="gate"]');
    if (saved && name && !name.value) {
      name.value = saved.gate || "";
      var radio = setup.querySelector('input[name="performance"][value="' + CSS.escape(saved.performance || "") + '"]');
      if (radio) radio.checked = true;
    }
    setup.addEventListener("submit", function () {
      var perf = setup.querySelector('input[name="performance"]:checked');
      if (perf && name) remember(perf.value, name.value.trim());
    });
    return;
  }

  var root = document.getElementById("gate");
  if (!root) return;
  var performance = root.dataset.performance, gate = root.dataset.gate;
  remember(performance, gate);

  var input = document.getElementById("scan-token");
  var verdict = document.getElementById("verdict");
  var count = document.getElementById("gate-count");
  var lookupResults = document.getElementById("lookup-results");
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // ------------------------------------------------------------ feedback

  // Sound needs an AudioContext made after a user gesture; the first tap
  // or key press (a wedge scanner's keys count) makes it.
  var audio = null;
  function audioContext() {
    if (!audio) {
      var A = window.AudioContext || window.webkitAudioContext;
      if (!A) return null;
      audio = new A();
    }
    if (audio.state === "suspended") audio.resume();
    return audio;
  }
  document.addEventListener("pointerdown", audioContext, { once: true });
  document.addEventListener("keydown", audioContext, { once: true });

  function tone(a, freq, start, dur, type, peak) {
    var o = a.createOscillator(), g = a.createGain(), t0 = a.currentTime + start;
    o.type = type;
    o.frequency.value = freq;
    g.gain.setValueAtTime(0.0001, t0);
    g.gain.exponentialRampToValueAtTime(peak, t0 + 0.01);
    g.gain.exponentialRampToValueAtTime(0.0001, t0 + dur);
    o.connect(g);
    g.connect(a.destination);
    o.start(t0);
    o.stop(t0 + dur + 0.02);
  }

  // One short bright beep admits; two falling notes say "been here"; a
  // low double buzz refuses. Vibrations follow the same rhythm, so a door
  // in a loud hall still feels the answer.
  var FEEDBACK = {
    admitted: { tones: [[1568, 0, 0.14, "sine", 0.6]], vibrate: [70] },
    "already-used": { tones: [[660, 0, 0.16, "triangle", 0.6], [440, 0.2, 0.22, "triangle", 0.6]], vibrate: [150, 90, 150] },
    reject: { tones: [[150, 0, 0.2, "square", 0.3], [150, 0.28, 0.2, "square", 0.3]], vibrate: [350, 120, 350] }
  };
  function feedback(result) {
    var f = FEEDBACK[result] || FEEDBACK.reject;
    var a = audio && audioContext();
    if (a) f.tones.forEach(function (t) { tone(a, t[0], t[1], t[2], t[3], t[4]); });
    if (navigator.vibrate) navigator.vibrate(f.vibrate);
  }

  // ------------------------------------------------------------- verdict

  var timer = 0;
  function focusScanner() {
    var a = document.activeElement;
    if (a && a !== document.body && a !== input && a.closest && a.closest("#gate-lookup")) return;
    input.focus({ preventScroll: true });
  }
  function ready() {
    clearTimeout(timer);
    verdict.innerHTML = "";
    focusScanner();
  }
  function show(html, result) {
    verdict.innerHTML = html;
    feedback(result);
    clearTimeout(timer);
    timer = setTimeout(ready, HOLD_MS);
    focusScanner();
  }
  // A tap on the verdict dismisses it at once.
  verdict.addEventListener("click", function (e) {
    e.preventDefault();
    ready();
  });

  // ---------------------------------------------------------------- scan

  function scan(token) {
    token = (token || "").trim();
    if (!token) return Promise.resolve();
    var body = new URLSearchParams({ performance: performance, gate: gate, token: token });
    return fetch("/gate/scan", {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrf }
    }).then(function (r) {
      if (r.status === 401) {
        // The session ended: sign in again and come back here.
        location.href = "/staff/login?next=" + encodeURIComponent(location.pathname + location.search);
        return;
      }
      if (!r.ok) return r.text().then(function (html) { failed(html); });
      return r.json().then(function (v) {
        if (count && typeof v.gate_count === "number") count.textContent = String(v.gate_count);
        show(v.html, v.result);
      });
    }, function () {
      failed("");
    });
  }

  // failed shows a refusal the server explained (its error page's message)
  // or, with no answer at all, the page's own words for it.
  function failed(html) {
    var msg = "";
    if (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var h = doc.querySelector('[role="alert"] h1, [role="alert"]');
      msg = h ? h.textContent.trim() : "";
    }
    var box = document.getElementById("gate-error");
    box.textContent = msg || root.dataset.msgFailed || "";
    box.hidden = false;
    feedback("reject");
    setTimeout(function () { box.hidden = true; }, 4000);
  }

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.id === "scan-form") {
      e.preventDefault();
      var token = input.value;
      input.value = "";
      scan(token);
    } else if (form.hasAttribute("data-scan-form")) {
      e.preventDefault();
      scan(form.elements.token.value);
    } else if (form.id === "lookup-form") {
      e.preventDefault();
      var q = new URLSearchParams(new FormData(form));
      fetch("/gate/lookup?" + q.toString(), { credentials: "same-origin", headers: { "HX-Request": "true" } })
        .then(function (r) { return r.text(); })
        .then(function (html) { lookupResults.innerHTML = html; }, function () { failed(""); });
    }
  });

  // Keep the wedge field focused: a scanner types wherever focus is.
  document.addEventListener("visibilitychange", function () { if (!document.hidden) focusScanner(); });
  focusScanner();

  // The scanner's own interface for the camera and offline parts, and tests.
  window.festaGate = { scan: scan, ready: ready };
})();
