// festa.js: what htmx does not cover. Loaded with defer after htmx; no
// framework, no build step.
(function () {
  "use strict";

  // Every htmx request carries the CSRF token from the page head.
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) e.detail.headers["X-CSRF-Token"] = meta.content;
  });

  // ------------------------------------------------------------ messages
  //
  // Every refusal reaches the student. The page's htmx-config swaps 4xx
  // and 5xx answers, and festa's answers to them are retargeted to
  // #messages (an alert, with the truth out of band). What never reaches
  // festa gets a message from the words on #messages: no network, no answer
  // in time, or an error page from something in between (a proxy's 502),
  // which is not swapped into the page.
  function messages() {
    var m = document.getElementById("messages");
    if (!m) {
      // A page without a message area still hears about failures.
      m = document.createElement("div");
      m.id = "messages";
      m.className = "messages-floating";
      m.setAttribute("aria-live", "polite");
      document.body.appendChild(m);
    }
    return m;
  }
  function shown(m) {
    var r = m.getBoundingClientRect();
    if (r.top < 0 || r.bottom > window.innerHeight) m.scrollIntoView({ block: "nearest" });
  }
  function tell(kind) {
    var m = messages(), words = document.querySelector("[data-label-" + kind + "]");
    var text = (words && words.getAttribute("data-label-" + kind)) || m.getAttribute("data-label-" + kind) || "";
    var box = document.createElement("div"), p = document.createElement("p"), x = document.createElement("button");
    box.className = "flash flash-error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    x.type = "button";
    x.className = "flash-close";
    x.setAttribute("data-dismiss", "");
    x.setAttribute("aria-label", (words && words.getAttribute("data-label-dismiss")) || "×");
    box.appendChild(p);
    box.appendChild(x);
    m.textContent = "";
    m.appendChild(box);
    shown(m);
  }
  document.addEventListener("htmx:beforeOnLoad", function (e) {
    var xhr = e.detail.xhr;
    if (xhr && xhr.getResponseHeader("HX-Retarget") === "#messages") messages();
  });
  document.addEventListener("htmx:beforeSwap", function (e) {
    var d = e.detail;
    if (!d.isError || (d.xhr && d.xhr.getResponseHeader("HX-Retarget"))) return;
    d.shouldSwap = false;
    tell("server");
  });
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target.id === "messages") shown(e.target);
  });
  document.addEventListener("htmx:sendError", function () {
    tell(navigator.onLine === false ? "offline" : "server");
  });
  document.addEventListener("htmx:timeout", function () { tell("timeout"); });
  document.addEventListener("click", function (e) {
    var x = e.target.closest && e.target.closest("[data-dismiss]");
    if (!x) return;
    var box = x.closest(".flash");
    if (box) box.remove();
  });

  // Back and forward: a page restored from the back/forward cache would
  // show what was true when it was left (a hold with a running countdown
  // and a confirm button, for a seat bought since). Pages with a student's
  // holds or tickets load afresh instead.
  window.addEventListener("pageshow", function (e) {
    if (e.persisted && document.querySelector("#hold-panel, [data-ticket]")) location.reload();
  });

  // The "booked" moment on the ticket page: read out (focus), and once: the
  // query that brought it is dropped from the address, so a reload or a
  // bookmark shows the plain ticket.
  function once() {
    var el = document.querySelector("[data-autofocus]");
    if (el) el.focus();
    var drop = document.querySelector("[data-drop-query]");
    if (drop && window.URL && history.replaceState) {
      var u = new URL(location.href);
      u.searchParams.delete(drop.getAttribute("data-drop-query"));
      history.replaceState(history.state, "", u.pathname + u.search + u.hash);
    }
  }
  once();

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
  function panelSwapped(p, announce) {
    var say = document.getElementById("announce");
    if (say && announce) say.textContent = p.dataset.announce || "";
    var f = p.querySelector("[data-focus]");
    if (f && (!document.activeElement || document.activeElement === document.body)) f.focus({ preventScroll: true });
    var form = p.querySelector("[data-picker]");
    if (form) fillPicker(form);
  }
  document.addEventListener("htmx:afterSwap", function (e) {
    if (e.target.id === "hold-panel") panelSwapped(e.target, true);
  });
  // A refusal brings the true hold panel out of band; its message is the
  // announcement, so the panel's own stays unsaid.
  document.addEventListener("htmx:oobAfterSwap", function (e) {
    if (e.target.id === "hold-panel") panelSwapped(e.target, false);
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

  // At zero the element fires festa:zero. A hold's countdown then turns
  // the hold panel into the news (expire); any other reloads the page once,
  // unless it has data-no-reload. Only a countdown seen running does this,
  // so a page rendered after its moment cannot loop.
  function zero(el) {
    el.dispatchEvent(new CustomEvent("festa:zero", { bubbles: true }));
    if (el.hasAttribute("data-expires-at")) {
      expire(el);
      return;
    }
    if (reloading || el.hasAttribute("data-no-reload")) return;
    reloading = true;
    location.reload();
  }

  // The last stretch of a hold (data-warn-at seconds on an ancestor: 30,
  // or a third of a short hold) warns: the panel turns red, a line says
  // "12초 남음 — 지금 확정하세요" and follows the clock, and screen readers
  // hear it once, as an alert written when the warning starts.
  function warn(el, left) {
    var box = el.closest("[data-warn-at]"), panel = el.closest("#hold-panel");
    if (!box || !panel || left > +box.dataset.warnAt * 1000) return;
    var line = panel.querySelector("[data-hold-warning]");
    if (!line) return;
    var text = line.dataset.label.replace("{left}", format(Math.ceil(left / 1000), el.dataset));
    if (line.hidden) {
      panel.classList.add("is-warning");
      line.hidden = false;
      line.innerHTML = '<span aria-hidden="true"></span><span class="sr-only" role="alert"></span>';
      line.lastChild.textContent = text;
    }
    if (line.firstChild.textContent !== text) line.firstChild.textContent = text;
  }

  // A hold ran out: no reload (the map stays where the student left it).
  // The panel says so at once, then festa.js fetches the fresh panel, with
  // the seats it held out of band, a moment later (the page's clock can be
  // a second early). If that fails the notice stays and #messages says why.
  function expire(el) {
    var panel = el.closest("#hold-panel");
    if (!panel || panel.dataset.expired) return;
    panel.dataset.expired = "true";
    panel.classList.remove("is-warning");
    var note = document.createElement("div"), p = document.createElement("p");
    note.className = "hold-expired";
    p.setAttribute("role", "alert");
    p.textContent = panel.dataset.labelExpired || "";
    note.appendChild(p);
    var had = panel.contains(document.activeElement);
    panel.textContent = "";
    panel.appendChild(note);
    if (had) {
      p.tabIndex = -1;
      p.focus({ preventScroll: true });
    }
    var url = panel.dataset.expireUrl;
    if (!url || !window.htmx) return;
    setTimeout(function () {
      if (document.getElementById("hold-panel") === panel) htmx.ajax("GET", url, { source: panel, target: panel, swap: "outerHTML" });
    }, 1500);
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
        if (el.hasAttribute("data-expires-at")) warn(el, left);
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
