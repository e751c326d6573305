// festa.js: what htmx does not cover. Loaded with defer after htmx; no
// framework, no build step.
(function () {
  "use strict";

  // Every htmx request carries the CSRF token from the page head.
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) e.detail.headers["X-CSRF-Token"] = meta.content;
  });

  // ------------------------------------------------------------ seat map
  //
  // The map (#seatmap) is a CSS grid: the stage, then per row a label,
  // --cols - 2 cells (a seat button or an <i> gap) and a label again, with
  // data-cols = --cols. Seats are found by position in that grid, so
  // nothing here holds on to a seat element: live updates replace seats,
  // and a full state after a (re)connect replaces the whole grid. What is
  // this page's own (the holder tag, the zoom) lives on the frame around
  // it, #seatmap-frame, which nothing replaces.

  function map() { return document.getElementById("seatmap"); }
  function frame() { return document.getElementById("seatmap-frame"); }
  function isSeat(el) { return !!el && el.nodeType === 1 && el.hasAttribute("data-seat"); }

  // "Mine": a held or sold seat whose data-holder is this page's student
  // is drawn as theirs. The server sends the same seat to every viewer; only
  // the page knows whose it is.
  function mine(el) {
    var f = frame(), tag = f && f.dataset.holderTag, st = el.dataset.state;
    if (!tag || el.dataset.holder !== tag || (st !== "held" && st !== "sold")) return;
    el.dataset.state = "mine";
    var sfx = f.dataset.mineSuffix, label = el.getAttribute("aria-label") || "";
    if (sfx && label.slice(-sfx.length) !== sfx) el.setAttribute("aria-label", label + " " + sfx);
  }

  // Roving tab stop: the map is one Tab stop; the arrow keys move inside.
  var stop = "";
  function roving() {
    var m = map();
    if (!m) return;
    var seats = m.querySelectorAll("[data-seat]"), cur = document.getElementById(stop);
    if (!isSeat(cur)) cur = m.querySelector('[data-seat][data-state="available"]') || seats[0];
    for (var i = 0; i < seats.length; i++) seats[i].tabIndex = seats[i] === cur ? 0 : -1;
    if (cur) stop = cur.id;
  }
  function moveTo(el) {
    var old = document.getElementById(stop);
    if (old) old.tabIndex = -1;
    el.tabIndex = 0;
    stop = el.id;
    el.focus();
  }
  document.addEventListener("focusin", function (e) {
    if (isSeat(e.target) && e.target.id !== stop && map() && map().contains(e.target)) moveTo(e.target);
  });

  // The seat nearest column c in row r, searching outwards; null when the
  // row has none.
  function nearest(kids, w, r, c) {
    for (var d = 0; d < w; d++) {
      var a = kids[1 + r * w + c - d], b = kids[1 + r * w + c + d];
      if (c - d > 0 && isSeat(a)) return a;
      if (c + d < w - 1 && isSeat(b)) return b;
    }
    return null;
  }
  function scan(kids, w, r, from, step) {
    for (var c = from; c > 0 && c < w - 1; c += step) {
      if (isSeat(kids[1 + r * w + c])) return kids[1 + r * w + c];
    }
    return null;
  }

  document.addEventListener("keydown", function (e) {
    var el = e.target, m = map();
    if (!isSeat(el) || !m || el.parentNode !== m || e.altKey || e.metaKey) return;
    var kids = m.children, w = +m.dataset.cols, i = Array.prototype.indexOf.call(kids, el) - 1;
    var rows = Math.floor((kids.length - 1) / w), r = Math.floor(i / w), c = i % w, to = null, k = e.key;
    if (k === "ArrowLeft") to = scan(kids, w, r, c - 1, -1);
    else if (k === "ArrowRight") to = scan(kids, w, r, c + 1, 1);
    else if (k === "Home" || k === "End") {
      if (e.ctrlKey) r = k === "Home" ? 0 : rows - 1;
      to = k === "Home" ? scan(kids, w, r, 1, 1) : scan(kids, w, r, w - 2, -1);
    } else {
      var step = { ArrowUp: -1, ArrowDown: 1, PageUp: -5, PageDown: 5 }[k];
      if (!step) return;
      // Jump step rows (clamped to the hall), then keep going the same way
      // past any row without seats.
      var dir = step < 0 ? -1 : 1;
      for (var rr = Math.max(0, Math.min(rows - 1, r + step)); !to && rr >= 0 && rr < rows && rr !== r; rr += dir) {
        to = nearest(kids, w, rr, c);
      }
    }
    e.preventDefault();
    if (to) moveTo(to);
  });

  // Zoom. Phones see the whole hall as an overview; a tap there zooms in
  // around the tapped point (seats become 36 px) instead of picking a tiny
  // seat. The toggle button zooms back out ("whole hall") and in. Pinch
  // zoom and panning stay the browser's.
  var pointer = "mouse";
  document.addEventListener("pointerdown", function (e) { pointer = e.pointerType; }, true);

  function seatPx(m) {
    var s = m.querySelector("[data-seat]");
    var scale = window.visualViewport ? window.visualViewport.scale : 1;
    return s ? s.getBoundingClientRect().width * scale : 0;
  }
  function zoomed() { return frame().classList.contains("is-zoomed"); }

  function setZoom(on) {
    frame().classList.toggle("is-zoomed", on);
    var b = document.getElementById("zoom-toggle");
    if (b) {
      b.textContent = on ? b.dataset.labelOut : b.dataset.labelIn;
      b.setAttribute("aria-pressed", on ? "true" : "false");
    }
  }

  // The toggle shows when the overview's seats are too small to tap.
  function zoomButton() {
    var m = map(), b = document.getElementById("zoom-toggle");
    if (m && b) b.hidden = !zoomed() && seatPx(m) >= 32;
  }

  // The middle of what the page shows above the sticky dock.
  function middle() {
    var dock = document.querySelector(".dock"), bottom = window.innerHeight;
    if (dock) {
      var top = dock.getBoundingClientRect().top;
      if (top > 0 && top < bottom) bottom = top;
    }
    return bottom / 2;
  }

  // Zoom in keeping the point (x, y) of the map under the middle of the
  // view.
  function zoomAt(m, x, y) {
    var r = m.getBoundingClientRect(), fx = (x - r.left) / r.width, fy = (y - r.top) / r.height;
    setZoom(true);
    var fr = frame(), f = fr.getBoundingClientRect();
    r = m.getBoundingClientRect();
    fr.scrollLeft += r.left + fx * r.width - (f.left + fr.clientWidth / 2);
    window.scrollBy(0, r.top + fy * r.height - middle());
  }

  document.addEventListener("click", function (e) {
    var m = map(), t = e.target;
    if (!m) return;
    var fr = frame();
    if (t.id === "zoom-toggle") {
      if (zoomed()) {
        setZoom(false);
        if (fr.getBoundingClientRect().top < 0) fr.scrollIntoView({ block: "start" });
      } else {
        var cur = document.getElementById(stop);
        setZoom(true);
        fr.scrollLeft = (fr.scrollWidth - fr.clientWidth) / 2;
        if (cur && cur === document.activeElement) cur.scrollIntoView({ block: "nearest", inline: "center" });
      }
      return;
    }
    if (!fr.contains(t)) return;
    // A tap (e.detail > 0; Enter and Space give 0) on the overview zooms.
    if (e.detail && pointer !== "mouse" && !zoomed() && seatPx(m) < 32) {
      e.preventDefault();
      zoomAt(m, e.clientX, e.clientY);
      return;
    }
    // A seat nobody can have asks nothing of the server.
    var seat = t.closest && t.closest("[data-seat]");
    if (seat && seat.getAttribute("aria-disabled") === "true") e.preventDefault();
  });
  window.addEventListener("resize", function () { requestAnimationFrame(zoomButton); });

  // Live changes. A seat swapped in out of band is checked for "mine",
  // keeps the tab stop and the focus if it had them, and pulses once, but
  // only when its state changed: the full state resent after a reconnect
  // must not light up the whole hall. The full state is the whole grid,
  // swapped as one element; its seats are compared with the old ones.
  // (htmx fires oobAfterSwap again for every element swapped earlier in
  // the same message, hence the pending maps. It also "settles" the class
  // attribute after the swap, which would wipe a class added here, so the
  // pulse waits for the settle: afterSettle for a request, wsAfterMessage
  // for the socket.)
  var was = new Map(), refocus = "", pulses = [], before = null;
  document.addEventListener("htmx:oobBeforeSwap", function (e) {
    var t = e.target, a = document.activeElement;
    if (t.id === "seatmap") {
      before = new Map();
      var seats = t.querySelectorAll("[data-seat]");
      for (var i = 0; i < seats.length; i++) before.set(seats[i].id, seats[i].dataset.state);
      if (isSeat(a) && t.contains(a)) refocus = a.id;
      return;
    }
    if (!isSeat(t)) return;
    was.set(t.id, t.dataset.state);
    if (t === a) refocus = t.id;
  });
  function swapped(el, old) {
    mine(el);
    el.tabIndex = el.id === stop ? 0 : -1;
    if (el.id === refocus) {
      refocus = "";
      el.focus({ preventScroll: true });
    }
    if (old !== undefined && old !== el.dataset.state) pulses.push(el);
  }
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    var el = e.target;
    if (el.id === "seatmap" && before) {
      var old = before, seats = el.querySelectorAll("[data-seat]");
      before = null;
      for (var i = 0; i < seats.length; i++) swapped(seats[i], old.get(seats[i].id));
      if (!document.getElementById(stop)) roving();
      return;
    }
    if (!isSeat(el) || !was.has(el.id)) return;
    var state = was.get(el.id);
    was.delete(el.id);
    swapped(el, state);
  });
  function pulse() {
    var els = pulses;
    pulses = [];
    els.forEach(function (el) {
      el.classList.add("pulse");
      el.addEventListener("animationend", function () {
        el.classList.remove("pulse");
      }, { once: true });
    });
  }
  document.addEventListener("htmx:afterSettle", pulse);
  document.addEventListener("htmx:wsAfterMessage", pulse);

  // The live indicator follows the socket.
  function live(state) {
    var el = document.getElementById("live-status");
    if (!el || el.dataset.live === state) return;
    el.dataset.live = state;
    var text = el.querySelector("[data-live-text]");
    if (text) text.textContent = state === "open" ? el.dataset.labelOpen : el.dataset.labelClosed;
  }
  document.addEventListener("htmx:wsOpen", function () { live("open"); });
  document.addEventListener("htmx:wsClose", function () { live("closed"); });

  // The list picker: the seat list holds the chosen row's free seats, read
  // from the live map (the server's list, every free seat by row, is the
  // no-script fallback). It refills when it gets focus, so it is never
  // older than the map.
  function fillPicker(form) {
    var row = form.querySelector("[data-pick-row]"), sel = form.querySelector("[data-pick-seat]"), m = map();
    if (!row || !sel || !m) return;
    var keep = sel.value, labels = m.querySelectorAll(".row-label"), start = null;
    for (var i = 0; i < labels.length && !start; i += 2) {
      if (labels[i].textContent === row.value) start = labels[i];
    }
    sel.textContent = "";
    for (var el = start && start.nextElementSibling; el && !el.classList.contains("row-label"); el = el.nextElementSibling) {
      if (isSeat(el) && el.dataset.state === "available") {
        var acc = el.dataset.kind === "accessible" ? form.dataset.labelAccessible : "";
        sel.add(new Option(el.dataset.seat + acc, el.dataset.seat));
      }
    }
    if (!sel.options.length) sel.add(new Option(form.dataset.labelNone, ""));
    sel.value = keep;
    if (sel.selectedIndex < 0) sel.selectedIndex = 0;
  }
  document.addEventListener("change", function (e) {
    if (e.target.hasAttribute("data-pick-row")) fillPicker(e.target.form);
  });
  document.addEventListener("focusin", function (e) {
    if (e.target.hasAttribute && e.target.hasAttribute("data-pick-seat")) fillPicker(e.target.form);
  });

  // After the hold panel is swapped: tell screen readers what happened,
  // and if the focus went away with the old panel, give it to the new
  // panel's main action.
  document.addEventListener("htmx:afterSwap", function (e) {
    var p = e.target;
    if (p.id !== "hold-panel") return;
    var say = document.getElementById("announce");
    if (say) say.textContent = p.dataset.announce || "";
    var f = p.querySelector("[data-focus]");
    if (f && (!document.activeElement || document.activeElement === document.body)) f.focus({ preventScroll: true });
    var form = p.querySelector("[data-picker]");
    if (form) fillPicker(form);
  });

  function initMap() {
    var m = map();
    if (!m) return;
    var seats = m.querySelectorAll("[data-seat]");
    for (var i = 0; i < seats.length; i++) mine(seats[i]);
    roving();
    zoomButton();
    var form = document.querySelector("[data-picker]");
    if (form) fillPicker(form);
  }
  initMap();

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
