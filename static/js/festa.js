// festa.js: what htmx does not cover. Loaded with defer after htmx; no
// framework, no build step.
(function () {
  "use strict";

  // Every htmx request carries the CSRF token from the page head.
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) e.detail.headers["X-CSRF-Token"] = meta.content;
  });

  // A seat swapped in out of band pulses once, but only when its state
  // changed: the full state resent after a reconnect must not light up
  // the whole hall.
  var was = new Map();
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var t = e.target;
    if (t.classList && t.classList.contains("seat")) was.set(t.id, t.dataset.state);
  });
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    var el = e.target;
    if (!el.classList || !el.classList.contains("seat") || !was.has(el.id)) return;
    var old = was.get(el.id);
    was.delete(el.id);
    if (old === el.dataset.state) return;
    el.classList.add("pulse");
    el.addEventListener("animationend", function () {
      el.classList.remove("pulse");
    }, { once: true });
  });

  // Countdowns ([data-countdown-to] for an opening, [data-expires-at] for a
  // hold) run on server time: each measures once its offset from
  // data-server-now (on it, an ancestor, or anywhere in the page), so a
  // phone set wrong still opens on time; the error is the network delay,
  // late, never early. Unit words come from data-label-d/-h/-m/-s and
  // data-label-zero, so the text stays in the server's catalogue.
  var seen = new WeakMap(), timer = 0, reloading = false;

  function attr(el, name) {
    var src = el.closest("[" + name + "]") || document.querySelector("[" + name + "]");
    return src ? Date.parse(src.getAttribute(name)) : NaN;
  }

  function format(s, d) {
    var units = [
      [Math.floor(s / 86400), d.labelD || "d"],
      [Math.floor(s / 3600) % 24, d.labelH || "h"],
      [Math.floor(s / 60) % 60, d.labelM || "m"],
      [s % 60, d.labelS || "s"]
    ];
    var out = [];
    units.forEach(function (u, i) {
      if (!out.length && !u[0] && i < 3) return;
      out.push((out.length && u[0] < 10 ? "0" : "") + u[0] + u[1]);
    });
    return out.join(" ");
  }

  // At zero the element fires festa:zero and, unless it has
  // data-no-reload, the page reloads once. Only a countdown seen running
  // reloads, so a page rendered after its moment cannot loop.
  function zero(el) {
    el.dispatchEvent(new CustomEvent("festa:zero", { bubbles: true }));
    if (reloading || el.hasAttribute("data-no-reload")) return;
    reloading = true;
    location.reload();
  }

  function tick() {
    clearTimeout(timer);
    var next = 1000;
    var els = document.querySelectorAll("[data-countdown-to],[data-expires-at]");
    for (var i = 0; i < els.length; i++) {
      var el = els[i], st = seen.get(el);
      if (!st) {
        var server = attr(el, "data-server-now");
        st = {
          to: Date.parse(el.getAttribute("data-countdown-to") || el.getAttribute("data-expires-at")),
          skew: isNaN(server) ? 0 : server - Date.now()
        };
        st.armed = st.to > Date.now() + st.skew;
        seen.set(el, st);
      }
      if (isNaN(st.to)) continue;
      var left = st.to - (Date.now() + st.skew);
      var text = left > 0 ? format(Math.ceil(left / 1000), el.dataset) :
        el.dataset.labelZero || format(0, el.dataset);
      if (el.textContent !== text) el.textContent = text;
      if (left > 0) {
        // Wake just after the next whole second of this countdown.
        next = Math.min(next, left % 1000 + 10);
      } else if (st.armed) {
        st.armed = false;
        zero(el);
      }
    }
    timer = setTimeout(tick, next);
  }

  // Catch up when a throttled background tab shows again, and start
  // countdowns htmx swaps in.
  document.addEventListener("visibilitychange", tick);
  document.addEventListener("htmx:afterSettle", tick);
  tick();
})();
