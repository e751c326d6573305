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

  // -------------------------------------------------------------- camera
  //
  // The browser's own BarcodeDetector where it reads QR codes (Android
  // Chrome), else the vendored barcode-detector ponyfill, whose ZXing
  // WebAssembly festa serves itself (its default is a CDN, which a school
  // network or the CSP may block). The ponyfill is fetched only when
  // needed, so phones with a native detector never download it.

  var camera = document.getElementById("camera");
  var view = document.getElementById("camera-view");
  var video = document.getElementById("camera-video");
  var toggle = document.getElementById("camera-toggle");
  var status = document.getElementById("camera-status");
  var CAMERA_KEY = "festa.gate.camera";
  var SEEN_MS = 2500; // a QR still in view this long after its scan is the same showing
  var stream = null, detecting = false, lastToken = "", lastSeen = 0, detectorPromise = null;

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var s = document.createElement("script");
      s.src = src;
      s.onload = resolve;
      s.onerror = reject;
      document.head.appendChild(s);
    });
  }

  function nativeDetector() {
    if (!("BarcodeDetector" in window)) return Promise.resolve(null);
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0 ? new window.BarcodeDetector({ formats: ["qr_code"] }) : null;
    }, function () { return null; });
  }

  function polyfillDetector() {
    return loadScript(root.dataset.barcodePolyfill).then(function () {
      var api = window.BarcodeDetectionAPI;
      var wasm = root.dataset.barcodeWasm;
      api.prepareZXingModule({
        overrides: {
          locateFile: function (path, prefix) {
            return /\.wasm$/.test(path) ? wasm : prefix + path;
          }
        }
      });
      return new api.BarcodeDetector({ formats: ["qr_code"] });
    });
  }

  function detector() {
    if (!detectorPromise) {
      detectorPromise = nativeDetector().then(function (d) { return d || polyfillDetector(); });
      detectorPromise.catch(function () { detectorPromise = null; });
    }
    return detectorPromise;
  }

  function say(msg) { status.textContent = msg || ""; }

  function startCamera() {
    if (stream) return;
    say(status.dataset.msgLoading);
    var media = navigator.mediaDevices && navigator.mediaDevices.getUserMedia
      ? navigator.mediaDevices.getUserMedia({
        audio: false,
        video: { facingMode: "environment", width: { ideal: 1280 }, height: { ideal: 720 } }
      })
      : Promise.reject(new Error("no camera"));
    Promise.all([media, detector()]).then(function (got) {
      stream = got[0];
      video.srcObject = stream;
      view.hidden = false;
      toggle.textContent = toggle.dataset.labelOff;
      try { localStorage.setItem(CAMERA_KEY, "on"); } catch (e) { /* remembered next time only */ }
      say("");
      return video.play().catch(function () {}).then(function () { detectLoop(got[1]); });
    }).catch(function () {
      stopCamera();
      say(status.dataset.msgDenied);
    });
  }

  function stopCamera() {
    detecting = false;
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    video.srcObject = null;
    view.hidden = true;
    toggle.textContent = toggle.dataset.labelOn;
  }

  // detectLoop reads a frame about seven times a second. A code still in
  // view after its scan is not sent again; once it has been out of view
  // for SEEN_MS it is a new showing (and gets its own verdict).
  function detectLoop(d) {
    detecting = true;
    (function tick() {
      if (!detecting || !stream) return;
      var next = function () { setTimeout(tick, 140); };
      if (video.readyState < 2 || document.hidden) return next();
      d.detect(video).then(function (codes) {
        var now = Date.now(), token = codes.length ? codes[0].rawValue : "";
        if (token) {
          var repeat = token === lastToken && now - lastSeen < SEEN_MS;
          lastToken = token;
          lastSeen = now;
          if (!repeat) scan(token);
        }
        next();
      }, next);
    })();
  }

  camera.hidden = false;
  var cameraWanted = false;
  toggle.addEventListener("click", function () {
    cameraWanted = !stream;
    if (stream) {
      stopCamera();
      try { localStorage.removeItem(CAMERA_KEY); } catch (e) { /* nothing to forget */ }
    } else {
      audioContext();
      startCamera();
    }
  });
  try { cameraWanted = localStorage.getItem(CAMERA_KEY) === "on"; } catch (e) { /* asked again */ }
  if (cameraWanted) startCamera();
  document.addEventListener("visibilitychange", function () {
    // A phone in a pocket should not keep its camera on.
    if (document.hidden && stream) {
      stopCamera();
    } else if (!document.hidden && cameraWanted && !stream) {
      startCamera();
    }
  });

  // Keep the wedge field focused: a scanner types wherever focus is.
  document.addEventListener("visibilitychange", function () { if (!document.hidden) focusScanner(); });
  focusScanner();

  // The scanner's own interface for the camera and offline parts, and tests.
  window.festaGate = { scan: scan, ready: ready };
})();
