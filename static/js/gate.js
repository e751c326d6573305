// gate.js: the door's scanner. Loaded with defer on /gate only; no
// framework, no build step.
//
// The set-up page remembers the performance and the door on the device
// (localStorage) and goes straight to the scanner next time. The scanner
// sends every token it reads (typed by a keyboard-wedge scanner ending in
// Enter, or picked from the manual lookup) to POST /gate/scan as JSON,
// shows the server's verdict over the whole screen with a sound and a
// vibration, and is ready for the next ticket two seconds later without a
// tap. Both pages register festa's service worker for /gate, so the
// scanner opens again without a network once it has been seen.
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

  // ------------------------------------------------------- offline page
  //
  // festa's service worker (static/js/sw.js), registered here with the
  // scope /gate, answers the set-up and scanner pages network first and
  // from its cache when the network is down, so a door whose phone lost
  // the Wi-Fi can reload, or open the scanner from the home screen, and
  // go on scanning. Once it is active, the page asks it to keep the page,
  // the set-up (where /gate opens), every static file the page loaded and
  // extra (the vendored files loaded only when needed), and marks
  // <html data-offline="ready"> when they are kept. Sign-out removes them
  // (pwa.js).
  var GATE_CACHE = "festa-gate-v1";
  function keepOffline(extra) {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register("/sw.js", { scope: "/gate" }).catch(function () {
      // No worker (a private window, storage full): the scanner works
      // online, and offline while this page stays open.
    });
    navigator.serviceWorker.ready.then(function (reg) {
      var urls = [location.pathname + location.search, "/gate"].concat(extra);
      window.performance.getEntriesByType("resource").forEach(function (r) {
        var u = new URL(r.name);
        if (u.origin === location.origin && u.pathname.indexOf("/static/") === 0) urls.push(u.pathname);
      });
      var channel = new MessageChannel();
      channel.port1.onmessage = function (e) {
        if (e.data && e.data.kept) document.documentElement.setAttribute("data-offline", "ready");
      };
      reg.active.postMessage({ keep: urls }, [channel.port2]);
    });
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
    keepOffline([]);
    return;
  }

  var root = document.getElementById("gate");
  if (!root) return;
  var performance = root.dataset.performance, gate = root.dataset.gate;
  remember(performance, gate);
  keepOffline([root.dataset.barcodePolyfill, root.dataset.barcodeWasm, root.dataset.noble]);

  var input = document.getElementById("scan-token");
  var verdict = document.getElementById("verdict");
  var count = document.getElementById("gate-count");
  var countKey = "festa.gate.count." + performance + "." + gate;
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
  //
  // Every scan carries a fresh nonce. Online, the server decides. When the
  // network is down, or the server has not answered within ONLINE_WAIT_MS,
  // this device decides from its downloaded list (see "offline" below) and
  // queues the scan, with the same nonce, to send when the network is
  // back: a scan whose first request did arrive after all is then applied
  // once, not twice.

  var ONLINE_WAIT_MS = 2500;

  function signIn() {
    location.href = "/staff/login?next=" + encodeURIComponent(location.pathname + location.search);
  }

  // post sends a scan and resolves to the server's JSON verdict; it rejects
  // with .status and .html when the server refused, with neither when the
  // network failed.
  function post(fields, signal) {
    var body = new URLSearchParams({ performance: performance, gate: gate });
    Object.keys(fields).forEach(function (k) { body.set(k, fields[k]); });
    return fetch("/gate/scan", {
      method: "POST",
      body: body,
      signal: signal,
      credentials: "same-origin",
      headers: { Accept: "application/json", "X-CSRF-Token": csrf }
    }).then(function (r) {
      if (r.ok) return r.json();
      return r.text().then(function (html) {
        var e = new Error("HTTP " + r.status);
        e.status = r.status;
        e.html = html;
        throw e;
      });
    });
  }

  function scan(token) {
    token = (token || "").trim();
    if (!token) return Promise.resolve();
    var nonce = newNonce();
    if (!navigator.onLine) return scanOffline(token, nonce);
    var ctl = new AbortController();
    var wait = setTimeout(function () { ctl.abort(); }, ONLINE_WAIT_MS);
    return post({ token: token, nonce: nonce }, ctl.signal).then(function (v) {
      clearTimeout(wait);
      setOnline(true);
      if (typeof v.gate_count === "number") setCount(v.gate_count, true);
      show(v.html, v.result);
      sync();
    }, function (e) {
      clearTimeout(wait);
      if (e.status === 401) return signIn();
      if (e.status) return failed(e.html);
      setOnline(false);
      return scanOffline(token, nonce);
    });
  }

  // failed shows a refusal the server explained (its error page's message)
  // or, with no answer at all, the page's own words for it.
  function failed(html, text) {
    var msg = text || "";
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
    if (form.getAttribute("action") === "/staff/logout") {
      // The list names every ticket holder: it leaves the device with the
      // staff member. Queued scans stay, to be sent by the next one. The
      // kept scanner page goes too (pwa.js makes sure of it on the page
      // signing out leads to).
      try { localStorage.removeItem(listKey); } catch (err) { /* nothing kept */ }
      if (window.caches) caches.delete(GATE_CACHE);
    } else if (form.id === "scan-form") {
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

  // ------------------------------------------------------------- offline
  //
  // The door keeps what it needs to decide alone (GET /gate/offline): the
  // ticket-signing public keys, every ticket of the performance with its
  // state, the performances' titles and the duplicates found so far,
  // refreshed every LIST_MS and kept in localStorage, so a reload without
  // network still has it. Offline it verifies a token's Ed25519 signature
  // in the browser exactly as tickets.Ring.Verify does (any changed byte
  // fails), refuses what the list says is cancelled or already in (or what
  // this device let in), admits the rest, and queues every scan with its
  // nonce and local verdict for POST /gate/scan once the network is back.
  // A ticket this door admitted that the server had already let in
  // elsewhere comes back as a duplicate, shown to every door.

  var LIST_MS = 30000, SYNC_MS = 5000;
  var listKey = "festa.gate.list." + performance;
  var queueKey = "festa.gate.queue." + performance + "." + gate;
  var localKey = "festa.gate.local." + performance;
  var net = document.getElementById("gate-net");
  var queueLen = document.getElementById("gate-queue");
  var dupBox = document.getElementById("gate-duplicates");
  var dupList = document.getElementById("gate-duplicates-list");

  function load(key, fallback) {
    try {
      return JSON.parse(localStorage.getItem(key) || "null") || fallback;
    } catch (e) {
      return fallback;
    }
  }
  function keep(key, value) {
    try {
      localStorage.setItem(key, JSON.stringify(value));
    } catch (e) {
      // A full disk loses the copy, not the scan in memory.
    }
  }
  var list = load(listKey, null);
  var queue = load(queueKey, []);
  var localIn = load(localKey, {}); // ticket id → {at, gate}: let in here while offline

  // ------------------------------------------------------------- counts
  //
  // The door shows its own admissions and every door's together: what the
  // server last said (the page's #gate-tally, the same region pushed over
  // the live socket after any door's check-in, each scan's answer, the
  // list) plus this door's admissions still queued, which the server has
  // not heard of yet. The server's figures are kept on the device, so a
  // scanner page opened offline from the worker's copy (drawn when it was
  // kept) starts from the latest ones.
  var counted = readTally();
  (function () {
    var last = load(countKey, null);
    if (last) {
      counted.door = Math.max(counted.door, last.door || 0);
      counted.total = Math.max(counted.total, last.total || 0);
    }
  })();

  function readTally() {
    var tally = document.getElementById("gate-tally");
    var mine = tally && tally.querySelector('data[data-gate="' + CSS.escape(gate) + '"]');
    return {
      door: mine ? parseInt(mine.value, 10) || 0 : 0,
      total: tally ? parseInt(tally.dataset.total, 10) || 0 : 0
    };
  }
  function queuedAdmissions() {
    return queue.filter(function (q) { return q.local === "admitted"; }).length;
  }
  function showCounts() {
    var q = queuedAdmissions();
    count.textContent = String(counted.door + q);
    var total = document.querySelector("#gate-tally [data-tally-total]");
    if (total) total.textContent = String(counted.total + q);
    keep(countKey, counted);
  }
  // setCount takes the server's count of this door's admissions; what it
  // adds, it adds to the total too (the tally that follows says the same).
  // A scan's answer is as new as a count gets; a list asked for before it
  // (see refreshList) may be older, and heard counts them.
  var heard = 0;
  function setCount(n, fromScan) {
    if (fromScan) heard++;
    counted.total += Math.max(0, n - counted.door);
    counted.door = n;
    showCounts();
  }
  // A tally arrived over the socket (htmx swapped #gate-tally in). The
  // socket's state is on #gate[data-live] (open or closed).
  document.addEventListener("htmx:wsAfterMessage", function () {
    counted = readTally();
    showCounts();
  });
  document.addEventListener("htmx:wsOpen", function () { root.dataset.live = "open"; });
  document.addEventListener("htmx:wsClose", function () { root.dataset.live = "closed"; });

  function setOnline(on) {
    net.dataset.online = on ? "true" : "false";
  }
  function showQueue() {
    queueLen.textContent = String(queue.length);
    showCounts();
  }
  function newNonce() {
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return b64encode(b);
  }

  // refreshList fetches the list, unless the browser knows it is offline
  // (a request then only fails, or waits on a dead network).
  function refreshList() {
    if (!navigator.onLine) return Promise.resolve();
    var asked = heard;
    return fetch("/gate/offline?" + new URLSearchParams({ performance: performance, gate: gate }), {
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (l) {
      list = l;
      keys = {};
      keep(listKey, l);
      // Its count, unless a scan's answer brought a newer one meanwhile
      // (a sync racing the refresh when the network returns).
      if (asked === heard) setCount(l.gate_count);
      setOnline(true);
      showDuplicates();
      root.dataset.listAt = l.at;
      // Without WebCrypto's Ed25519 the fallback must be here before the
      // network goes.
      var first = Object.keys(l.keys)[0];
      if (first) hasWebCrypto(b64decode(l.keys[first])).then(function (ok) { if (!ok) loadNoble(); });
    }, function () { /* keep the last list */ });
  }

  function kst(iso) {
    return new Date(iso).toLocaleTimeString("en-GB", { timeZone: "Asia/Seoul", hour12: false });
  }

  function showDuplicates() {
    var dups = (list && list.duplicates) || [];
    dupBox.hidden = dups.length === 0;
    dupList.textContent = "";
    dups.forEach(function (d) {
      var li = document.createElement("li");
      li.dataset.duplicateSeat = d.seat;
      li.textContent = fill(dupList.dataset.format, {
        seat: d.seat, name: d.name, first_gate: d.first_gate, first_time: kst(d.first_at), gate: d.gate, time: kst(d.at)
      });
      dupList.appendChild(li);
    });
  }

  function fill(format, values, escape) {
    return format.replace(/\{(\w+)\}/g, function (m, k) {
      if (!(k in values)) return m;
      var v = String(values[k] == null ? "" : values[k]);
      return escape ? v.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;") : v;
    });
  }

  // ---- the token, read exactly as tickets.Ring.Verify reads it

  function b64encode(bytes) {
    var bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  // b64decode accepts only the canonical unpadded base64url spelling, as
  // the server does: another spelling of the same bytes is a changed token.
  function b64decode(s) {
    if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return null;
    var std = s.replace(/-/g, "+").replace(/_/g, "/");
    while (std.length % 4) std += "=";
    var bin;
    try {
      bin = atob(std);
    } catch (e) {
      return null;
    }
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return b64encode(out) === s ? out : null;
  }

  // parseToken splits F1.{keyid}.{payload}.{signature}; the signature
  // covers every byte before the last dot.
  function parseToken(token) {
    if (token.length > 512 || token.slice(0, 3) !== "F1.") return null;
    var parts = token.slice(3).split(".");
    if (parts.length !== 3 || parts[2].length !== 86) return null;
    var payload = b64decode(parts[1]), sig = b64decode(parts[2]);
    if (!payload || !sig || sig.length !== 64) return null;
    return {
      keyId: parts[0], payload: payload, sig: sig,
      signed: new TextEncoder().encode(token.slice(0, token.length - parts[2].length - 1))
    };
  }

  // decodePayload is tickets.decodePayload: version 1, the 16-byte id,
  // length-prefixed slug and seat, the issue time; nothing else.
  function decodePayload(b) {
    if (b.length < 17 || b[0] !== 1) return null;
    var id = Array.prototype.map.call(b.subarray(1, 17), function (x) { return (x + 256).toString(16).slice(1); }).join("");
    if (/^0+$/.test(id)) return null;
    var at = 17;
    function field(max, ok) {
      if (at >= b.length) return null;
      var n = b[at], s = "";
      if (n < 1 || n > max || at + 1 + n > b.length) return null;
      for (var i = at + 1; i <= at + n; i++) {
        var c = String.fromCharCode(b[i]);
        if (!ok.test(c)) return null;
        s += c;
      }
      at += 1 + n;
      return s;
    }
    var perf = field(64, /[a-z0-9-]/), seat = perf && field(8, /[A-Z0-9]/);
    if (!seat || b.length - at !== 8) return null;
    var secs = 0;
    for (var k = at; k < at + 8; k++) secs = secs * 256 + b[k];
    if (secs < 1 || secs > 253402300799) return null;
    return {
      id: id.slice(0, 8) + "-" + id.slice(8, 12) + "-" + id.slice(12, 16) + "-" + id.slice(16, 20) + "-" + id.slice(20),
      performance: perf, seat: seat
    };
  }

  // Signatures are checked with WebCrypto's Ed25519 where the browser has
  // it, else with the vendored @noble/ed25519 (loaded only then).
  var keys = {}, webCrypto = null, noble = null;
  function webCryptoKey(id, raw) {
    if (!keys[id]) keys[id] = crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    return keys[id];
  }
  function hasWebCrypto(raw) {
    if (webCrypto === null) {
      webCrypto = crypto.subtle
        ? crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]).then(function () { return true; }, function () { return false; })
        : Promise.resolve(false);
    }
    return webCrypto;
  }
  function verifySignature(p, raw, impl) {
    var which = impl ? Promise.resolve(impl === "webcrypto") : hasWebCrypto(raw);
    return which.then(function (useWebCrypto) {
      if (useWebCrypto) {
        return webCryptoKey(p.keyId, raw).then(function (k) {
          return crypto.subtle.verify({ name: "Ed25519" }, k, p.sig, p.signed);
        });
      }
      return loadNoble().then(function (ed) { return ed.verifyAsync(p.sig, p.signed, raw, { zip215: false }); });
    }).catch(function () { return false; });
  }

  function loadNoble() {
    if (!noble) {
      noble = import(root.dataset.noble);
      noble.catch(function () { noble = null; });
    }
    return noble;
  }

  // verifyToken resolves to the token's claims, or null for any token the
  // server would call invalid.
  function verifyToken(token, impl) {
    var p = parseToken(token);
    var raw = p && list && list.keys[p.keyId] && b64decode(list.keys[p.keyId]);
    if (!p || !raw) return Promise.resolve(null);
    return verifySignature(p, raw, impl).then(function (ok) { return ok ? decodePayload(p.payload) : null; });
  }

  // localVerdict decides as festa_scan would, from the list and what this
  // device let in, and records an admission.
  function localVerdict(token) {
    return verifyToken(token).then(function (c) {
      if (!c) return { result: "invalid" };
      var t = list.tickets[c.id];
      var v = { seat: t ? t.seat : c.seat, name: t ? t.name : "", no: t ? t.no : "", guest: !!(t && t.guest) };
      var mine = localIn[c.id];
      if (c.performance !== performance) {
        v.result = "wrong-performance";
        v.title = list.titles[c.performance] || c.performance;
      } else if (t && t.cancelled) {
        v.result = "cancelled";
      } else if ((t && t.in) || mine) {
        v.result = "already-used";
        v.first_at = t && t.in ? t.in : mine.at;
        v.first_gate = t && t.in ? t.gate : mine.gate;
      } else {
        v.result = "admitted";
        localIn[c.id] = { at: new Date().toISOString(), gate: gate };
        keep(localKey, localIn);
      }
      return v;
    });
  }

  // classText is what stands under the name: a student's class and
  // number, or the guest label for a guest's ticket (the desk's: no
  // student, the guest's name on it).
  function classText(no, guest) {
    if (guest) return root.dataset.guestLabel || "";
    if (!/^[0-9]{5}$/.test(no || "")) return "";
    return fill(root.dataset.classFormat, {
      grade: no[0], class: String(parseInt(no.slice(1, 3), 10)), number: String(parseInt(no.slice(3), 10)), no: no
    });
  }

  function renderLocal(v) {
    var tpl = document.querySelector('template[data-verdict-template="' + v.result + '"]');
    return fill(tpl.innerHTML, {
      seat: v.seat, name: v.name, class: classText(v.no, v.guest), title: v.title,
      gate: v.first_gate, time: v.first_at ? kst(v.first_at) : ""
    }, true);
  }

  function scanOffline(token, nonce) {
    if (!list) {
      failed("", root.dataset.msgNoList);
      return Promise.resolve();
    }
    return localVerdict(token).then(function (v) {
      queue.push({ nonce: nonce, token: token, scanned_at: new Date().toISOString(), local: v.result });
      keep(queueKey, queue);
      showQueue();
      show(renderLocal(v), v.result);
    });
  }

  // sync sends the queue, oldest first, one scan at a time. A scan the
  // server refuses outright (a malformed one) is dropped rather than
  // blocking the rest; a network failure leaves it for the next round.
  //
  // A refusal of who is sending rather than of the scan (401: signed out;
  // 403: a page too old for the CSRF cookie) keeps the queue as it is, for
  // after sign-in or a fresh page, and stops the rounds until then.
  var syncing = false, stalled = false;
  function sync() {
    if (syncing || stalled || !queue.length || !navigator.onLine) return;
    syncing = true;
    var item = queue[0];
    post({ token: item.token, nonce: item.nonce, scanned_at: item.scanned_at, local: item.local }).then(function (v) {
      setOnline(true);
      return v;
    }, function (e) {
      if (!e.status || e.status >= 500 || e.status === 401 || e.status === 403) throw e;
      return null;
    }).then(function (v) {
      queue.shift();
      keep(queueKey, queue);
      showQueue();
      if (v && typeof v.gate_count === "number") setCount(v.gate_count, true);
      if (v && v.duplicate) {
        failed("", root.dataset.msgDuplicate);
        refreshList();
      }
      syncing = false;
      sync();
    }, function (e) {
      syncing = false;
      if (e.status === 401) return signIn();
      if (e.status === 403) {
        stalled = true;
        return failed(e.html);
      }
      setOnline(false);
    });
  }

  net.hidden = false;
  showQueue();
  showDuplicates();
  if (!navigator.onLine) setOnline(false);
  window.addEventListener("online", function () {
    setOnline(true);
    sync();
    refreshList();
  });
  window.addEventListener("offline", function () { setOnline(false); });
  refreshList().then(sync);
  setInterval(refreshList, LIST_MS);
  setInterval(sync, SYNC_MS);

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
  // The scanner's interface for tests: scan a token, dismiss a verdict,
  // verify a token in the browser with a chosen implementation
  // ("webcrypto" or "noble"), and sync the queue now.
  window.festaGate = {
    scan: scan, ready: ready, sync: sync,
    verify: function (token, impl) { return verifyToken(token, impl); }
  };
})();
