// screen.js: the projection screen's few jobs besides htmx's socket. It is
// loaded on /screen/{performance} only, after htmx and its ws extension.
// The screen has no controls: nothing here waits for a click, except a
// double click that asks for full screen.
(function () {
  "use strict";

  // Reconnect by itself, always, and soon. The ws extension retries only
  // after some close codes (1006, 1011, 1012, 1013), waiting up to a
  // minute between tries; a projector must come back within seconds of a
  // restart, and after any close at all.
  if (window.htmx) {
    htmx.config.wsReconnectDelay = function (tries) {
      return Math.min(10000, 500 * Math.pow(2, tries)) * (0.5 + Math.random() / 2);
    };
  }
  var retried = {1006: 1, 1011: 1, 1012: 1, 1013: 1}, closedTimer = 0;
  document.addEventListener("htmx:wsClose", function (e) {
    live("closed");
    var d = e.detail || {}, code = d.event && d.event.code, socket = d.socketWrapper;
    if (!retried[code] && socket && socket.reconnect) {
      setTimeout(function () { socket.reconnect(); }, 2000 + Math.random() * 2000);
    }
    // A key revoked while the screen ran: its socket is refused from
    // then on. Ask for the page once the socket has stayed closed a
    // while (through however many retries); a 403 means the refusal page
    // is what the hall should see. Anything else (a restart's 502, no
    // network) asks again later.
    if (!closedTimer) closedTimer = setTimeout(checkAccess, 8000);
  });
  document.addEventListener("htmx:wsOpen", function () {
    clearTimeout(closedTimer);
    closedTimer = 0;
    live("open");
  });
  function checkAccess() {
    closedTimer = 0;
    if (!window.fetch || document.body.dataset.live === "open") return;
    fetch(location.href, { cache: "no-store", credentials: "same-origin", redirect: "manual" }).then(function (r) {
      if (r.status === 403) location.reload();
      else if (document.body.dataset.live !== "open") closedTimer = setTimeout(checkAccess, 8000);
    }, function () {
      closedTimer = setTimeout(checkAccess, 8000);
    });
  }

  // The live indicator follows the socket.
  function live(state) {
    document.body.dataset.live = state;
    var el = document.getElementById("live-status");
    if (!el || el.dataset.live === state) return;
    el.dataset.live = state;
    var text = el.querySelector("[data-live-text]");
    if (text) text.textContent = state === "open" ? el.dataset.labelOpen : el.dataset.labelClosed;
  }

  // The clock, in Korea time by the server's clock (the laptop's may be
  // wrong): the page says when it was drawn.
  var drawn = Date.parse(document.body.dataset.serverNow || ""), offset = isNaN(drawn) ? 0 : drawn - Date.now();
  function tick() {
    var el = document.getElementById("screen-clock");
    if (el) {
      var kst = new Date(Date.now() + offset + 9 * 3600 * 1000);
      var hh = String(kst.getUTCHours()).padStart(2, "0"), mm = String(kst.getUTCMinutes()).padStart(2, "0");
      if (el.textContent !== hh + ":" + mm) el.textContent = hh + ":" + mm;
    }
    setTimeout(tick, 1000 - (Date.now() % 1000) + 5);
  }
  tick();

  // A seat that changes live pulses once, so the hall is seen filling; a
  // whole hall swapped after a reconnect does not light up.
  var was = new Map(), pulses = [];
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var t = e.target;
    if (t && t.dataset && t.dataset.seat) was.set(t.id, t.dataset.state);
  });
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    var el = e.target;
    if (!el || !el.dataset || !el.dataset.seat || !was.has(el.id)) return;
    if (was.get(el.id) !== el.dataset.state) pulses.push(el);
    was.delete(el.id);
  });
  document.addEventListener("htmx:wsAfterMessage", function () {
    var els = pulses;
    pulses = [];
    els.forEach(function (el) {
      el.classList.add("pulse");
      el.addEventListener("animationend", function () { el.classList.remove("pulse"); }, { once: true });
    });
  });

  // Keep the projector's laptop awake while the screen shows, and ask for
  // full screen on a double click (no button: nothing to click on air).
  function awake() {
    if (navigator.wakeLock && document.visibilityState === "visible") {
      navigator.wakeLock.request("screen").catch(function () {});
    }
  }
  document.addEventListener("visibilitychange", awake);
  awake();
  document.addEventListener("dblclick", function () {
    var d = document.documentElement;
    if (document.fullscreenElement) document.exitFullscreen();
    else if (d.requestFullscreen) d.requestFullscreen().catch(function () {});
  });
})();
